// One device as it runs: its own event loop and thread (a slow device never
// stalls another), the device model, its guest clock and simulation, and its
// socket. Made, stopped and torn down here; which devices there are, and
// when they change, is the daemon's (daemon.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/timer.h"
#include "daemon/daemon_config.h"
#include "gpio/gpio_device.h"
#include "guest_clock/guest_clock.h"
#include "sim/device_sim.h"
#include "vhost_user/server.h"

namespace vgpio::daemon {

// What a new device takes from the daemon around it.
struct Surroundings {
  SocketAccess access;  // its socket's
  bool offer_irq = true;
  const std::vector<service::InheritedSocket>* sockets = nullptr;  // handed over: one may be its own
  int create_dir = -1;                            // devices made at run time: the directory of their sockets
  std::shared_ptr<restart::Carryover> carryover;  // null: nothing is kept across a restart
};

struct RunningDevice {
  // Lines first (held outputs go to their safe level), the socket last: a
  // frontend never meets a device that is not ready. Nothing runs until
  // launch().
  static Result<std::unique_ptr<RunningDevice>> start(uint64_t id, DeviceConfig& spec, const Surroundings& around);
  // Its thread, which serves its socket from now on.
  void launch();
  // Stopping: outputs to their safe levels on its own thread, then the loop
  // ends. `why` is a string literal.
  void begin_stop(const char* why);
  // Whether the thread ended by `deadline`. One that has not is stuck (in a
  // host chip's driver?): it is left behind (logged), never waited for, and
  // what it uses is never freed.
  bool wait_stopped(std::chrono::steady_clock::time_point deadline);
  // With the thread gone: the simulation, the clock, the socket (its file
  // removed) and the lines freed.
  void tear_down();

  // SIGTERM ends the process within 2 s, whatever its peers do.
  static constexpr std::chrono::milliseconds kStopDeadline{1500};
  // A device restored after a restart takes its guest as gone when no
  // frontend comes back within this.
  static constexpr std::chrono::seconds kFrontendReturnWait{60};
  // Device threads that were stuck when their device stopped (never joined).
  static int threads_left_behind() { return left_behind_.load(); }

  const uint64_t id;
  const std::string name;
  const std::optional<DeviceConfig::Origin> origin;  // as the config said it
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<gpio::GpioDevice> device;
  std::unique_ptr<guest_clock::GuestClock> guest_clock;  // on guest time only; outlives sim
  std::unique_ptr<sim::DeviceSim> sim;                   // stimuli and wire ends, on the device's loop
  std::unique_ptr<vhost::Server> server;
  std::unique_ptr<Timer> return_wait;  // armed when restored from a previous process
  std::thread thread;
  std::shared_future<void> exited;  // ready once its loop has returned

  // What the daemon knows of it, on the main loop.
  bool connected = false;                   // as the main loop last heard
  std::optional<DeviceConfig> replacement;  // a changed config, for when the frontend leaves
  bool created = false;                     // made at run time by a control client, not by the config
  uint64_t owner = 0;                       // the control connection it lives as long as; 0: until destroyed
  uid_t maker_uid = 0;                      // the user whose client made it
  std::vector<std::string> pool_lines;

 private:
  RunningDevice(uint64_t id, std::string name, std::optional<DeviceConfig::Origin> origin)
      : id(id), name(std::move(name)), origin(std::move(origin)) {}
  Result<void> make_server(DeviceConfig& spec, const Surroundings& around);
  Result<void> wait_for_frontend_return();
  static inline std::atomic<int> left_behind_{0};
};

}  // namespace vgpio::daemon
