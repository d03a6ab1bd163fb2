// The running daemon: which devices there are (the config, a reload, a
// control client's create) and the main loop around them: signals, the
// control socket, the service manager (sd_notify). The devices themselves,
// each on its own thread, are device_set.h's. SIGHUP re-reads the config
// (reload.cpp); control clients make and destroy devices
// (run_time_devices.cpp); stopping puts every output at its safe level,
// releases every line and removes the sockets.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/unix_socket.h"
#include "control/control_server.h"
#include "daemon/daemon_config.h"
#include "daemon/device_set.h"
#include "daemon/signals.h"
#include "service/notify.h"

namespace vgpio::daemon {

class Daemon : private control::DeviceMaker {
 public:
  // Builds everything, or nothing: no socket is left behind on failure.
  // Nothing is served until start().
  static Result<std::unique_ptr<Daemon>> create(DaemonConfig config);
  // Starts the device threads (frontends are served from here on) and plugs
  // the config's wires.
  Result<void> start();
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Tells the service manager it is ready, then runs the main loop until a
  // stop signal (SIGTERM, SIGINT, SIGQUIT...) or stop(). Device threads run
  // from start().
  void run();
  void stop();  // thread-safe
  // What `vgpio ctl status` shows besides the devices. Before run().
  void set_status(std::function<nlohmann::json()> status);
  // Devices made at run time, at once: in all, and per user.
  static constexpr size_t kMaxCreated = 64;
  static constexpr size_t kMaxCreatedPerUser = 16;
  // Before any thread starts (signals.h).
  static void block_signals() { SignalWatch::block(); }
  static int threads_left_behind() { return RunningDevice::threads_left_behind(); }

  // For tests, between create() and the first reload.
  gpio::GpioDevice& device(size_t i) { return *(*devices_)[i].device; }
  EventLoop& device_loop(size_t i) { return *(*devices_)[i].loop; }
  const std::string& socket_path(size_t i) const { return (*devices_)[i].server->path(); }
  sim::DeviceSim& simulation(size_t i) { return *(*devices_)[i].sim; }

 private:
  Daemon() = default;
  Result<void> start_control(const DaemonConfig& config);
  void warn_unused_sockets(const std::vector<DeviceConfig>& devices) const;
  void on_signal(int sig);
  // Plugs the config's wires that are missing, and logs what could not be.
  void plug_config_wires(const std::string& when);
  // run_time_devices.cpp: control::DeviceMaker
  Result<nlohmann::json> create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) override;
  Result<void> destroy_device(const std::string& name, const Peer& by) override;
  void owner_gone(uint64_t owner) override;
  // reload.cpp
  void reload();
  // The root-level settings: the ones a reload can apply are applied (the
  // control socket's access and grants, the device sockets' access for the
  // devices it makes); each other one the file changed is logged, with what
  // it takes (vgpio(5)).
  void apply_settings(const config::RootSettings& next);
  void reload_devices(std::vector<DeviceConfig> specs);
  void on_frontend(uint64_t id, bool connected);

  std::unique_ptr<EventLoop> main_loop_;
  std::unique_ptr<DeviceSet> devices_;  // stopped before control_ goes (~Daemon): it tells it
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<SignalWatch> signals_;
  // As in use: a reload changes what it can apply live, and only that.
  config::RootSettings settings_;
  std::vector<sim::WireSpec> config_wires_;
  std::vector<service::InheritedSocket> sockets_;
  // The directory devices made at run time get their sockets in, held open.
  std::string create_dir_;
  UniqueFd create_dir_fd_;
  std::shared_ptr<restart::Carryover> carryover_;
  bool started_ = false;              // start() ran: device threads serve
  bool leaving_for_restart_ = false;  // SIGUSR2: lines stay as they are for the next process
  std::function<Result<DaemonConfig>()> reload_;
  std::function<Result<DeviceConfig>(const nlohmann::json&)> make_device_;
  service::Notifier notifier_ = service::Notifier::from_environment();
};

}  // namespace vgpio::daemon
