// The control socket: JSON lines for people and test harnesses. One request
// per line, one answer per line; `watch` turns the connection into a stream
// of change events. Runs on the daemon's main loop and reaches each device
// through that device's own loop, so a busy device never blocks the others.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/event_loop.h"
#include "base/peer.h"
#include "base/unix_socket.h"
#include "control/commands.h"
#include "control/connections.h"
#include "gpio/gpio_device.h"
#include "sim/device_sim.h"
#include "sim/wire_board.h"

namespace vgpio::control {

struct ControlledDevice {
  GpioDevice* device;
  EventLoop* loop;
  std::string socket_path;
  sim::DeviceSim* sim = nullptr;  // its stimuli and wire ends
  bool created = false;           // made at run time by a control client
};

// Makes and removes devices at run time (the daemon does). A device lives as
// long as the control connection that made it, unless made to persist.
class DeviceMaker {
 public:
  virtual ~DeviceMaker() = default;
  // `owner` names the connection, `maker` who is at its other end; the
  // answer describes the device. An error's code gives its kind (EUSERS a
  // limit, EEXIST or EBUSY a name or line in use, EOPNOTSUPP not offered,
  // ENODEV no such device, EACCES not its maker); without one, create's is
  // a bad request and destroy's a conflict.
  virtual Result<nlohmann::json> create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) = 0;
  // Only its maker's user, root or the daemon's own user may destroy a device.
  virtual Result<void> destroy_device(const std::string& name, const Peer& by) = 0;
  // The connection `owner` closed: its devices go.
  virtual void owner_gone(uint64_t owner) = 0;
};

// A guest time a request names: "until" (ns since the guest's boot) or
// "for" (a duration from its time now); nullopt when it names neither.
struct GuestTime {
  std::optional<uint64_t> until;
  std::optional<sim::Nanos> after;
};
Result<GuestTime> guest_time_arg(const nlohmann::json& request);

// A request's duration field: "10ms", "250us", or a number of seconds (up
// to 1000); `fallback` when it is left out, else an error.
Result<sim::Nanos> duration_field(const nlohmann::json& request, const char* key,
                                  std::optional<sim::Nanos> fallback = {});

// The control commands: each command of the table (commands.h) has one
// handler here, found by its id. The connections they come on are
// connections.h's.
class ControlServer {
 public:
  static Result<std::unique_ptr<ControlServer>> create(EventLoop& loop, std::string path, const SocketAccess& access,
                                                       std::vector<ControlledDevice> devices);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Thread-safe: sends a change of `device` to its watchers; call it on the
  // device's loop. Costs nothing when nobody watches.
  void publish(const GpioDevice& device, const LineChange& change);
  // The devices change when the config is reloaded. Main loop only.
  void set_devices(std::vector<ControlledDevice> devices) { devices_ = std::move(devices); }
  // The wires between devices, for wire, unwire and wires. Main loop only.
  void set_wires(sim::WireBoard* wires) { wires_ = wires; }
  void set_device_maker(DeviceMaker* maker) { maker_ = maker; }
  // Who may do what (Connections::set_grants). Main loop only.
  void set_grants(Grant observe, Grant act) { connections_->set_grants(std::move(observe), std::move(act)); }
  std::optional<Role> role_of(const Peer& peer) const { return connections_->role_of(peer); }
  // Test builds: what "sandbox-probe" tries, on the device's thread (the app
  // registers it; the control layer knows nothing of the sandbox).
  void set_sandbox_probe(std::function<nlohmann::json(const nlohmann::json& request)> probe) {
    probe_ = std::move(probe);
  }
  // What "status" answers besides the devices (the daemon's sandbox). Main loop only.
  void set_status(std::function<nlohmann::json()> status) { status_ = std::move(status); }
  const std::string& path() const { return connections_->path(); }
  // Whether a command has a handler here (every one of the table must).
  static bool handles(CommandId id) { return handler_of(id) != nullptr; }

 private:
  // A command's handler: the request has passed check_request() already.
  using Handler = nlohmann::json (ControlServer::*)(Connection&, const nlohmann::json& request);
  static Handler handler_of(CommandId id);

  ControlServer(EventLoop& loop, std::vector<ControlledDevice> devices);
  void closed(const Connection& c);
  // Gives this thread's CPU to whoever waits for it, at most once a wake-up.
  void let_guests_run();
  static nlohmann::json change_event(const std::string& device, const std::string& line_name,
                                     const LineChange& change);
  static Error not_answering(const ControlledDevice& d);

  // device_commands.cpp: devices and their lines.
  Result<size_t> find_device(const nlohmann::json& request) const;
  Result<size_t> find_line(size_t device, const nlohmann::json& request) const;
  // Every device (or one), one call to each device's loop, all at once; a
  // device that does not answer in time is shown as not answering.
  nlohmann::json devices_json(std::optional<size_t> only = {}) const;
  nlohmann::json list(Connection&, const nlohmann::json&);
  nlohmann::json status(Connection&, const nlohmann::json&);
  nlohmann::json get(Connection&, const nlohmann::json& request);
  nlohmann::json set(Connection&, const nlohmann::json& request);
  nlohmann::json watch(Connection& client, const nlohmann::json& request);
  nlohmann::json create_device(Connection& client, const nlohmann::json& request);
  nlohmann::json destroy_device(Connection& client, const nlohmann::json& request);
  nlohmann::json sandbox_probe(Connection&, const nlohmann::json& request);
  // sim_commands.cpp: stimuli and wires.
  nlohmann::json pulse(Connection&, const nlohmann::json& request);
  nlohmann::json clock(Connection&, const nlohmann::json& request);
  nlohmann::json bounce(Connection&, const nlohmann::json& request);
  nlohmann::json pattern(Connection&, const nlohmann::json& request);
  nlohmann::json stop(Connection&, const nlohmann::json& request);
  nlohmann::json wire(Connection&, const nlohmann::json& request);
  nlohmann::json unwire(Connection&, const nlohmann::json& request);
  nlohmann::json wires(Connection&, const nlohmann::json& request);
  // What pulse, clock, bounce and pattern share: `make` reads the stimulus
  // from the request, on the device's loop, given the line's level now.
  using MakeStimulus = std::function<Result<sim::Stimulus>(const nlohmann::json& request, bool level_now)>;
  nlohmann::json start_stimulus(const nlohmann::json& request, const MakeStimulus& make);
  // The device and simulated line a request names; else the refusal.
  std::optional<nlohmann::json> find_sim_line(const nlohmann::json& request, const ControlledDevice*& device,
                                              size_t& line) const;
  // time_commands.cpp: a device's guest time, stepped and waited for.
  nlohmann::json run_guest(Connection&, const nlohmann::json& request);
  // A watch's "until": the client gets a "time" event once guest time reaches it.
  Result<void> wait_for_guest_time(Connection& client, size_t device, GuestTime when);
  void forget_guest_waits(const Connection& client);

  EventLoop& loop_;
  std::vector<ControlledDevice> devices_;
  sim::WireBoard* wires_ = nullptr;
  DeviceMaker* maker_ = nullptr;
  std::function<nlohmann::json()> status_;
  std::function<nlohmann::json(const nlohmann::json&)> probe_;
  uint64_t guests_ran_at_ = 0;  // the loop's wake-up of the last let_guests_run()
  // Last: gone first, before what its requests reach.
  std::unique_ptr<Connections> connections_;
};

// Nanoseconds since the epoch, for watch events and recordings.
int64_t epoch_ns(std::chrono::system_clock::time_point time);
// An ISO 8601 UTC timestamp with microseconds, for watch events.
std::string format_timestamp(std::chrono::system_clock::time_point time);

}  // namespace vgpio::control
