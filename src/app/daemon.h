// The running daemon: each device on its own thread and event loop (a slow
// device never stalls another), the control socket and signal handling on the
// main loop. Stopping releases every line to its safe state and removes the
// sockets.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/unix_socket.h"
#include "control/control_server.h"
#include "gpio/gpio_device.h"
#include "vhost_user/server.h"

namespace vgpio {

using Lines = std::vector<std::unique_ptr<Line>>;

struct DeviceConfig {
  std::string name;
  std::string socket;
  Lines lines;
  // Connect to a frontend that listens on `socket`, instead of listening.
  bool connect = false;
  // When set, makes the lines instead (host lines need the device's loop).
  std::function<Result<Lines>(EventLoop&)> make_lines;
};

struct DaemonConfig {
  std::vector<DeviceConfig> devices;
  std::string control_socket;  // "" for none
  SocketAccess access;
  bool offer_irq = true;
};

class Daemon {
 public:
  // Builds everything, or nothing: no socket is left behind on failure.
  static Result<std::unique_ptr<Daemon>> create(DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs the main loop until a stop signal (SIGTERM, SIGINT, SIGQUIT...) or
  // stop(). Device threads run from create().
  void run();
  void stop();  // thread-safe
  // The signals the daemon handles must be blocked in every thread: call this
  // before any thread starts.
  static void block_signals();

  size_t device_count() const { return devices_.size(); }
  GpioDevice& device(size_t i) { return *devices_[i]->device; }
  EventLoop& device_loop(size_t i) { return *devices_[i]->loop; }
  const std::string& socket_path(size_t i) const { return devices_[i]->server->path(); }

 private:
  struct Device {
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<GpioDevice> device;
    std::unique_ptr<vhost::Server> server;
    std::thread thread;
  };
  Daemon() = default;
  Result<void> watch_signals();
  void on_signal(int sig);

  std::unique_ptr<EventLoop> main_loop_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<control::ControlServer> control_;
  UniqueFd signal_fd_;
};

}  // namespace vgpio
