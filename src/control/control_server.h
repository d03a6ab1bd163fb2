// The control socket: JSON lines for people and test harnesses. One request
// per line, one answer per line; `watch` turns the connection into a stream
// of change events. Runs on the daemon's main loop and reaches each device
// through that device's own loop, so a busy device never blocks the others.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/unix_socket.h"
#include "control/command_context.h"
#include "control/connections.h"
#include "control/handlers.h"

namespace vgpio::control {

// The control socket's server: the connections (connections.h) and the
// commands, each command of the table (commands.h) one handler, found by its
// id (handlers.h), over what the daemon gave it (command_context.h).
class ControlServer {
 public:
  static Result<std::unique_ptr<ControlServer>> create(EventLoop& loop, std::string path, const SocketAccess& access,
                                                       std::vector<ControlledDevice> devices);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Thread-safe: sends a change of `device` to its watchers; call it on the
  // device's loop. Costs nothing when nobody watches.
  void publish(const gpio::GpioDevice& device, const gpio::LineChange& change);
  // The devices change when the config is reloaded. Main loop only.
  void set_devices(std::vector<ControlledDevice> devices) { cx_.devices = std::move(devices); }
  // The wires between devices, for wire, unwire and wires. Main loop only.
  void set_wires(sim::WireBoard* wires) { cx_.wires = wires; }
  void set_device_maker(DeviceMaker* maker) { cx_.maker = maker; }
  // Who may do what (Connections::set_grants). Main loop only.
  void set_grants(Grant observe, Grant act) { connections_->set_grants(std::move(observe), std::move(act)); }
  // Who may connect (Connections::set_access). Main loop only.
  Result<void> set_access(const SocketAccess& access) { return connections_->set_access(access); }
  std::optional<Role> role_of(const Peer& peer) const { return connections_->role_of(peer); }
  // Test builds: what "sandbox-probe" tries, on the device's thread (the app
  // registers it; the control layer knows nothing of the sandbox).
  void set_sandbox_probe(std::function<nlohmann::json(const nlohmann::json& request)> probe) {
    cx_.probe = std::move(probe);
  }
  // What "status" answers besides the devices (the daemon's sandbox). Main loop only.
  void set_status(std::function<nlohmann::json()> status) { cx_.status = std::move(status); }
  const std::string& path() const { return connections_->path(); }
  // Whether a command has a handler here (every one of the table must).
  static bool handles(CommandId id) { return handlers::handler_of(id) != nullptr; }

 private:
  explicit ControlServer(EventLoop& loop) : cx_(loop) {}
  void closed(const Connection& c);
  static nlohmann::json change_event(const std::string& device, const std::string& line_name,
                                     const gpio::LineChange& change);

  CommandContext cx_;
  // Last: gone first, before what its requests reach.
  std::unique_ptr<Connections> connections_;
};

}  // namespace vgpio::control
