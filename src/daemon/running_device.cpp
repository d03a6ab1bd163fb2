#include "daemon/running_device.h"

#include <fcntl.h>
#include <pthread.h>

#include "base/log.h"
#include "gpio/guest_limits.h"

namespace vgpio::daemon {

Result<std::unique_ptr<RunningDevice>> RunningDevice::start(uint64_t id, DeviceConfig& spec,
                                                            const Surroundings& around) {
  std::unique_ptr<RunningDevice> dev(new RunningDevice(id, spec.name, spec.origin));
  dev->loop = TRY(EventLoop::create());
  std::string where = "device " + spec.name;
  // Devices made at run time live as long as their maker's connection: none
  // outlives the process.
  std::shared_ptr<restart::Carryover> carryover = spec.socket_name.empty() ? around.carryover : nullptr;
  if (spec.make_lines) spec.lines = TRY(spec.make_lines(*dev->loop, carryover).error_context(where));
  if (auto w = gpio::linux_line_limit_warning(spec.name, spec.lines.size())) LOG_WARN("%s", w->c_str());
  dev->device =
      TRY(gpio::GpioDevice::create(spec.name, std::move(spec.lines), gpio::GpioDevice::Options{around.offer_irq}));
  if (carryover) carryover->resume_device(*dev->device);  // before its socket: restored before it is served
  if (spec.clock.guest) {
    guest_clock::GuestClock::Options o{.socket = spec.clock.socket.empty() ? spec.socket + ".clock" : spec.clock.socket,
                                       .access = around.access,
                                       .quantum = spec.clock.quantum};
    dev->guest_clock = TRY(guest_clock::GuestClock::create(*dev->loop, spec.name, std::move(o)));
    dev->device->set_guest_time([clock = dev->guest_clock.get()] { return clock->now_ns(); });
  }
  dev->sim = TRY(sim::DeviceSim::create(*dev->loop, *dev->device, dev->guest_clock.get()));
  TRY(dev->make_server(spec, around).error_context(where));
  if (dev->guest_clock) dev->guest_clock->attach(*dev->server);
  TRY(dev->wait_for_frontend_return());
  return dev;
}

// Connecting, or listening: on a socket handed over, in the create directory
// (made at run time), or at its path.
Result<void> RunningDevice::make_server(DeviceConfig& spec, const Surroundings& around) {
  if (spec.connect) {
    server = TRY(vhost::Server::create_client(*loop, *device, spec.name, spec.socket));
    return ok();
  }
  static const std::vector<service::InheritedSocket> none;
  const auto& sockets = around.sockets ? *around.sockets : none;
  if (auto i = service::find_socket(sockets, spec.name, spec.socket)) {
    // A copy: the manager's socket outlives this device (a reload may replace it).
    UniqueFd fd(fcntl(sockets[*i].fd.get(), F_DUPFD_CLOEXEC, 3));
    if (!fd) return Error::from_errno(errno, "duplicating its inherited socket");
    std::string path = sockets[*i].path.empty() ? spec.socket : sockets[*i].path;
    LOG_INFO("device %s: serving the socket handed over as \"%s\" (%s)", spec.name.c_str(), sockets[*i].name.c_str(),
             path.c_str());
    // The socket file is the manager's, and stays.
    server = TRY(vhost::Server::create(*loop, *device, spec.name, Listener{std::move(fd), {}}, path));
    return ok();
  }
  Listener l = spec.socket_name.empty()
                   ? TRY(listen_unix(spec.socket, around.access))
                   : TRY(listen_unix_at(around.create_dir, spec.socket_name, spec.socket, around.access));
  server = TRY(vhost::Server::create(*loop, *device, spec.name, std::move(l), spec.socket));
  return ok();
}

Result<void> RunningDevice::wait_for_frontend_return() {
  if (!device->restored()) return ok();
  return_wait = TRY(Timer::create(*loop, [server = server.get(), device = device.get()] {
    if (server->connected() || !device->restored()) return;  // it came back (and maybe left again)
    LOG_WARN(
        "device %s: restored after vgpio's restart, but no frontend came back within %lld s; taking the guest "
        "as gone: its lines go to their safe state",
        device->name().c_str(), static_cast<long long>(kFrontendReturnWait.count()));
    device->reset();
  }));
  return_wait->arm(std::chrono::duration_cast<std::chrono::milliseconds>(kFrontendReturnWait));
  return ok();
}

void RunningDevice::launch() {
  std::promise<void> done;
  exited = done.get_future().share();
  thread = std::thread([loop = loop.get(), name = "vgpio " + name, done = std::move(done)]() mutable {
    // Named, so that a log line from the sandbox says which device it was.
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    loop->run();
    done.set_value();
  });
}

void RunningDevice::begin_stop(const char* why) {
  if (!thread.joinable()) return;
  // Safe levels first, on the device's own thread: the session ends and the
  // device resets. Then the loop ends.
  loop->post([server = server.get(), why] { server->disconnect(why); });
  loop->stop();
}

bool RunningDevice::wait_stopped(std::chrono::steady_clock::time_point deadline) {
  if (!thread.joinable()) return true;
  if (exited.wait_until(deadline) != std::future_status::ready) {
    LOG_ERROR(
        "device %s: its thread did not stop within %lld ms (stuck in a host chip's driver?); leaving it "
        "behind. Its lines are released when the process exits.",
        name.c_str(), static_cast<long long>(kStopDeadline.count()));
    thread.detach();
    left_behind_.fetch_add(1);
    // What the stuck thread uses must outlive it: never freed.
    (void)loop.release(), (void)device.release(), (void)sim.release(), (void)server.release();
    (void)return_wait.release(), (void)guest_clock.release();
    return false;
  }
  thread.join();
  return true;
}

// A stopped loop runs the calls posted to it on the caller's thread.
void RunningDevice::tear_down() {
  device->set_observer({});
  sim.reset();
  device->set_guest_time({});
  guest_clock.reset();  // after the sim that follows it, before the server it drains
  return_wait.reset();
  server.reset();
  device.reset();
}

}  // namespace vgpio::daemon
