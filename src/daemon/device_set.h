// The devices that run now, each on its own thread (running_device.h), and
// the wires between them: made, launched, found, stopped and replaced here,
// and told to the control server. Which devices there should be (the config,
// a reload, a control client's create) is the daemon's (daemon.h). Main loop
// only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/control_server.h"
#include "daemon/running_device.h"
#include "sim/wire_board.h"

namespace vgpio::daemon {

class DeviceSet {
 public:
  using List = std::vector<std::unique_ptr<RunningDevice>>;
  // `on_frontend(id, connected)` is called on `main_loop` when a device's
  // frontend comes or goes.
  DeviceSet(EventLoop& main_loop, Surroundings around, std::function<void(uint64_t id, bool connected)> on_frontend)
      : main_loop_(main_loop), around_(std::move(around)), on_frontend_(std::move(on_frontend)) {}
  // Every device at once: each begins to stop (outputs to their safe
  // levels), then all get one shared deadline.
  ~DeviceSet();
  DeviceSet(const DeviceSet&) = delete;
  DeviceSet& operator=(const DeviceSet&) = delete;

  // A device made, not yet in the set, its thread not started.
  Result<std::unique_ptr<RunningDevice>> make(DeviceConfig& spec);
  // Into the set (at `index`, else at the end): its thread starts now when
  // the set is launched, else at launch().
  RunningDevice& add(std::unique_ptr<RunningDevice> dev, std::optional<size_t> index = {});
  // Starts every device's thread; from here on devices start as they are added.
  void launch();
  // Out of the set, and stopped: outputs to their safe levels, socket removed.
  void remove(size_t index);
  // Stopped, and made again from `spec` in its place (its lines and socket
  // are the new one's); false when the new one could not start (logged).
  bool replace(size_t index, DeviceConfig spec);
  // Whether a frontend is connected, asked on the device's thread; a device
  // that does not answer counts as connected (it keeps its configuration).
  bool has_frontend(RunningDevice& dev);
  List::iterator find(const std::string& name);
  List::iterator find(uint64_t id);
  // The config's wires that are missing, plugged (after start-up and reloads).
  std::vector<Error> plug_wires(const std::vector<sim::WireSpec>& wires) { return wires_.apply_config(wires); }

  // The control server hears of every device and each line change.
  void set_control(control::ControlServer* control);
  // The device sockets' access, for the devices made from now on.
  void set_access(const SocketAccess& access) { around_.access = access; }
  sim::WireBoard& wires() { return wires_; }
  // What the service manager's status line says.
  std::string status() const;

  size_t size() const { return devices_.size(); }
  RunningDevice& operator[](size_t i) { return *devices_[i]; }
  const RunningDevice& operator[](size_t i) const { return *devices_[i]; }
  List::iterator begin() { return devices_.begin(); }
  List::iterator end() { return devices_.end(); }
  List::const_iterator begin() const { return devices_.begin(); }
  List::const_iterator end() const { return devices_.end(); }

 private:
  void attach_control(RunningDevice& dev);
  void publish();
  void start_thread(RunningDevice& dev);
  void stop(RunningDevice& dev, std::chrono::steady_clock::time_point deadline);
  void tear_down(RunningDevice& dev);

  EventLoop& main_loop_;
  Surroundings around_;
  std::function<void(uint64_t, bool)> on_frontend_;
  sim::WireBoard wires_;  // before devices_: the devices' wire ends go first
  List devices_;
  control::ControlServer* control_ = nullptr;
  bool launched_ = false;
  uint64_t next_id_ = 1;
};

}  // namespace vgpio::daemon
