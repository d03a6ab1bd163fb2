// The running daemon: each device on its own thread and event loop (a slow
// device never stalls another), the control socket and signal handling on the
// main loop. SIGHUP re-reads the config; stopping puts every output at its
// safe level, releases every line and removes the sockets. The service
// manager hears of it all (sd_notify).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/timer.h"
#include "base/unix_socket.h"
#include "config/config.h"
#include "control/control_server.h"
#include "gpio/gpio_device.h"
#include "guest_clock/guest_clock.h"
#include "restart/carryover.h"
#include "service/listen_fds.h"
#include "service/notify.h"
#include "sim/device_sim.h"
#include "sim/wire_board.h"
#include "vhost_user/server.h"

namespace vgpio {

using Lines = std::vector<std::unique_ptr<Line>>;

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
  std::function<Result<Lines>(EventLoop&, std::shared_ptr<RequestKeeper> keeper)> make_lines{};
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
  std::string control_socket;  // "" for none
  SocketAccess access;          // the device sockets
  SocketAccess control_access;  // the control socket: owner-only unless the config says
  Grant control_observe, control_act;
  // Where devices made at run time get their sockets; "" for the control
  // socket's directory.
  std::string create_dir;
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
  // Whom a daemon started as root becomes (the config's user and group).
  std::string user, group;
};

class Daemon : private control::DeviceMaker {
 public:
  // Builds everything, or nothing: no socket is left behind on failure.
  // Nothing is served until start().
  static Result<std::unique_ptr<Daemon>> create(DaemonConfig config);
  // Starts the device threads (frontends are served from here on) and plugs
  // the config's wires.
  Result<void> start();
  ~Daemon();
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
  // The signals the daemon handles must be blocked in every thread: call this
  // before any thread starts.
  static void block_signals();
  // Device threads that were stuck when their device stopped (never joined).
  static int threads_left_behind() { return left_behind_.load(); }

  // For tests, between create() and the first reload.
  GpioDevice& device(size_t i) { return *devices_[i]->device; }
  EventLoop& device_loop(size_t i) { return *devices_[i]->loop; }
  const std::string& socket_path(size_t i) const { return devices_[i]->server->path(); }
  sim::DeviceSim& simulation(size_t i) { return *devices_[i]->sim; }

 private:
  struct Device {
    uint64_t id;
    std::string name;
    std::optional<DeviceConfig::Origin> origin;  // as the config said it
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<GpioDevice> device;
    std::unique_ptr<guest_clock::GuestClock> guest_clock;  // on guest time only; outlives sim
    std::unique_ptr<sim::DeviceSim> sim;  // stimuli and wire ends, on the device's loop
    std::unique_ptr<vhost::Server> server;
    // Restored from a previous process: the guest is taken as gone when its
    // frontend has not come back by kFrontendReturnWait.
    std::unique_ptr<Timer> return_wait;
    std::thread thread;
    std::shared_future<void> exited;  // ready once its loop has returned
    bool connected = false;                   // as the main loop last heard
    std::optional<DeviceConfig> replacement;  // a changed config, for when the frontend leaves
    bool created = false;      // made at run time by a control client, not by the config
    uint64_t owner = 0;        // the control connection it lives as long as; 0: until destroyed
    uid_t maker_uid = 0;       // the user whose client made it
    std::vector<std::string> pool_lines;
  };
  Daemon() = default;
  Result<void> watch_signals();
  void on_signal(int sig);
  // Makes a device, its lines and its socket; launch() starts its thread.
  Result<std::unique_ptr<Device>> start_device(DeviceConfig& spec);
  void attach_control(Device& dev);  // before launch()
  void warn_unused_sockets(const std::vector<DeviceConfig>& devices) const;
  void launch(Device& dev);
  // Plugs the config's wires that are missing (after start-up and reloads).
  std::vector<Error> plug_config_wires();
  // run_time_devices.cpp: control::DeviceMaker
  Result<nlohmann::json> create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) override;
  Result<void> destroy_device(const std::string& name, const Peer& by) override;
  void owner_gone(uint64_t owner) override;
  // Stops a device: outputs to their safe levels on its own thread, then the
  // thread ends and the rest is torn down. A thread that has not ended by
  // `deadline` is stuck: it is left behind (logged), never waited for.
  void stop_device(Device& dev, std::chrono::steady_clock::time_point deadline);
  static void begin_stop(Device& dev, const char* why);  // `why`: a string literal
  bool wait_stopped(Device& dev, std::chrono::steady_clock::time_point deadline);
  void tear_down(Device& dev);
  // How long stopping waits for device threads: SIGTERM ends the process
  // within 2 s, whatever its peers do.
  static constexpr std::chrono::milliseconds kStopDeadline{1500};
  static constexpr std::chrono::seconds kFrontendReturnWait{60};
  // Arms dev.return_wait when its device was restored.
  Result<void> wait_for_frontend_return(Device& dev);
  // daemon_reload.cpp
  void remove_device(size_t index);
  void replace_device(size_t index, DeviceConfig spec);
  bool has_frontend(Device& dev);
  void on_frontend(uint64_t id, bool connected);
  void reload();
  // The root-level settings a reload cannot apply to a running daemon: each
  // one the file changed is logged, with what it takes (vgpio(5)).
  void say_what_needs_restart(const DaemonConfig& next) const;
  // Tells the control server which devices there are now.
  void publish_devices();
  std::string status() const;

  std::unique_ptr<EventLoop> main_loop_;
  std::vector<std::unique_ptr<Device>> devices_;
  sim::WireBoard wires_;  // before control_: the control server uses it
  std::vector<sim::WireSpec> config_wires_;
  std::unique_ptr<control::ControlServer> control_;
  UniqueFd signal_fd_;
  SocketAccess access_;  // the device sockets'; a reload applies a change to the devices it replaces
  // As the daemon started with them; a reload does not change them.
  struct StartSettings {
    std::string control_socket;
    SocketAccess control_access;
    std::string create_dir;  // as configured ("": the control socket's directory)
    std::string user, group;
  } started_with_;
  bool offer_irq_ = true;
  bool started_ = false;  // start() ran: device threads serve
  // The directory devices made at run time get their sockets in, held open.
  std::string create_dir_;
  UniqueFd create_dir_fd_;
  std::vector<service::InheritedSocket> sockets_;
  std::shared_ptr<restart::Carryover> carryover_;
  bool leaving_for_restart_ = false;  // SIGUSR2: lines stay as they are for the next process
  std::function<Result<DaemonConfig>()> reload_;
  std::function<Result<DeviceConfig>(const nlohmann::json&)> make_device_;
  service::Notifier notifier_ = service::Notifier::from_environment();
  uint64_t next_id_ = 1;
  static inline std::atomic<int> left_behind_{0};
};

}  // namespace vgpio
