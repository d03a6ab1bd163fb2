// What a daemon is made from: its devices and the root-level settings, as the
// app built them from a config file or the command line (app/host_setup.h).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "config/config.h"
#include "lines/line.h"
#include "lines/request_keeper.h"
#include "restart/carryover.h"
#include "service/listen_fds.h"
#include "sim/wire_board.h"

namespace vgpio::daemon {

using Lines = std::vector<std::unique_ptr<lines::Line>>;

struct DeviceConfig {
  // Built with designated initialisers; every member has a default ({}), so
  // one left out is empty, never a neighbour's value.
  std::string name{};
  std::string socket{};
  Lines lines{};
  // Connect to a frontend that listens on `socket`, instead of listening.
  bool connect = false;
  // Stimuli on the guest's time (src/guest_clock) or the host's.
  config::ClockSpec clock{};
  // When set, makes the lines instead (host lines need the device's loop).
  // `keeper` (may be null) keeps host line requests across a restart.
  std::function<Result<Lines>(EventLoop&, std::shared_ptr<lines::RequestKeeper> keeper)> make_lines{};
  // What the config file said of it, and its sockets' access: a reload
  // compares these (operator==) and leaves an unchanged device alone. Unset
  // for devices not from a file (--sim, made at run time).
  struct Origin {
    config::DeviceSpec spec;
    SocketAccess access;
    bool operator==(const Origin&) const = default;
  };
  std::optional<Origin> origin{};
  // The [[pool]] lines it holds (devices made at run time): one device each.
  std::vector<std::string> pool_lines{};
  // Devices made at run time: the socket's file name in the create directory.
  std::string socket_name{};
};

struct DaemonConfig {
  std::vector<DeviceConfig> devices;
  // As read, used as they are. `settings.control` is the control socket's
  // path here ("" for none), the default place already filled in.
  config::RootSettings settings;
  bool offer_irq = true;
  // Listening sockets handed over (socket activation, --fd): a device takes
  // the one with its name, else the one bound to its socket path.
  std::vector<service::InheritedSocket> sockets;
  // Wires between lines, plugged once every device runs.
  std::vector<sim::WireSpec> wires;
  // Makes a device from a control client's "create" request (its lines in
  // the config's form; host lines from the config's [[pool]] only).
  std::function<Result<DeviceConfig>(const nlohmann::json& request)> make_device;
  // Reads the config again, checked, for SIGHUP; unset when there is no file.
  std::function<Result<DaemonConfig>()> reload;
  // What the previous process kept for this one (null: nothing is kept).
  std::shared_ptr<restart::Carryover> carryover;
  // The control command "sandbox_probe" (test builds only; unset: none).
  std::function<nlohmann::json(const nlohmann::json& request)> sandbox_probe;
};

}  // namespace vgpio::daemon
