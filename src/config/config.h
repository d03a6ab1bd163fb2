// The config file (TOML): devices, each with a socket, a name and an ordered
// list of lines, each line a host line or a simulated one, with its policy.
// Parsing checks everything that can be checked without the host's chips;
// resolving the host lines is the app's job (see app/host_setup.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/peer.h"
#include "base/result.h"
#include "base/unix_socket.h"
#include "lines/host_line.h"

namespace vgpio::config {

using lines::Bias;

// Where an entry is in its file, for messages. Not part of what the entry is:
// entries that differ only in where they are compare equal, so a reload
// leaves a device that merely moved in the file alone.
struct SourceLine {
  int number = 0;
  SourceLine() = default;
  SourceLine(int n) : number(n) {}  // NOLINT: a line number is a source line
  bool operator==(const SourceLine&) const { return true; }
};

// The config's entries compare member by member (defaulted operator==): a
// reload tells an unchanged device from a changed one with it, so a field
// added here is compared without anyone having to remember it.

struct LineSpec {
  std::string name{};  // what the guest sees
  bool simulated = false;
  std::string chip{};  // host: a path, "gpiochipN" or a label
  std::optional<unsigned> offset{};
  std::string host_name{};  // host: a line name, looked up on every chip
  lines::LinePolicy policy{};
  bool active_low = false;
  lines::Bias bias = lines::Bias::AsIs;
  std::chrono::microseconds debounce{0};
  SourceLine source_line{};  // where it is in the file, for error messages
  std::string pool{};        // the [[pool]] entry it comes from, if any
  bool operator==(const LineSpec&) const = default;
};

// Whose time a device's stimuli follow: the host's, or its guest's
// (clock = "guest": the vgpio-clock QEMU plugin connects to `socket`).
// The shortest quantum a device on guest time takes: a hold per guest
// microsecond at most.
inline constexpr std::chrono::nanoseconds kMinClockQuantum = std::chrono::microseconds(1);
// A quantum as written ("100us"), checked: the one rule the config file,
// --clock-quantum and create (through the config's reader) share.
Result<std::chrono::nanoseconds> parse_clock_quantum(const std::string& text);

struct ClockSpec {
  bool guest = false;
  std::string socket{};  // "" for the device socket's path + ".clock"
  std::chrono::nanoseconds quantum = std::chrono::milliseconds(10);
  bool operator==(const ClockSpec&) const = default;
};

struct DeviceSpec {
  std::string name{};
  std::string socket{};
  bool connect = false;  // connect to a listening frontend instead of listening
  ClockSpec clock{};
  std::vector<LineSpec> lines{};
  SourceLine source_line{};
  bool operator==(const DeviceSpec&) const = default;
};

// [[wire]]: a guest output drives a simulated input ("DEVICE:LINE" each).
struct WireEntry {
  std::string from_device{}, from_line{}, to_device{}, to_line{};
  std::chrono::nanoseconds delay{0};
  bool invert = false;
  SourceLine source_line{};
  bool operator==(const WireEntry&) const = default;
};

// The root-level settings, read once (the file, or the command line) and used
// by the daemon as they are. vgpio(5) says which a reload applies live.
struct RootSettings {
  std::string control{};  // the control socket; "" for none (a file's "": the default place)
  SocketAccess access{};  // the device sockets (QEMU's side)
  // The control socket, apart from QEMU's: owner-only unless said otherwise.
  // Root and the daemon's own user may do anything; others as granted.
  SocketAccess control_access{};
  Grant control_observe{};      // list, get, watch...
  Grant control_act{};          // set, stimuli, wires, create, destroy (and observe)
  std::string create_dir{};     // where "create" makes sockets; "" for the control socket's directory
  std::string user{}, group{};  // whom a daemon started as root becomes; "" for no change
  bool operator==(const RootSettings&) const = default;
};

struct ConfigSpec {
  std::string file;
  RootSettings root;
  std::vector<DeviceSpec> devices;
  std::vector<WireEntry> wires;
  std::vector<LineSpec> pool;  // [[pool]]: host lines for devices made at run time
};

// Device and line names: they become socket names, log lines, sd_notify
// STATUS= text and guest-visible line names, so one rule for the config file,
// the command line and "create": 1 to 64 of A-Z a-z 0-9 _ . + -, not starting
// with '.' or '-', and no "..". The error says what is wrong, not the name.
// A line may also have no name at all ("": the guest sees it unnamed).
inline constexpr size_t kMaxNameLength = 64;
Result<void> check_name(std::string_view name);
inline Result<void> check_line_name(std::string_view name) { return name.empty() ? ok() : check_name(name); }

// Every error names the file and line: "vgpio.toml:12: device "vm1" line 2: ...".
Result<ConfigSpec> parse(std::string_view text, const std::string& file_name);
Result<ConfigSpec> load(const std::string& path);

// The command-line form of one line, for the simple case without a file:
//   NAME=CHIP:OFFSET[:in|out|any]   a host line (CHIP: path, gpiochipN or label)
//   NAME=@HOSTNAME[:in|out|any]     a host line found by its name
//   NAME=sim                        a simulated line
Result<LineSpec> parse_line_option(const std::string& text);

using vgpio::parse_duration;  // base/duration.h: config files write durations the same way

}  // namespace vgpio::config
