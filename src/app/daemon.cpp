#include "app/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/paths.h"
#ifdef VGPIO_SANDBOX_PROBE
#include "app/sandbox_setup.h"
#endif
#include "gpio/guest_limits.h"

namespace vgpio {

namespace {
// Every catchable signal whose default action ends the process, except the
// faults a program raises on itself (SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS):
// none of these may end vgpio without the safe path. SIGPIPE and SIGXFSZ are
// ignored instead: they come from a write, and the write's error says it all.
constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGXCPU, SIGPWR};
constexpr int kOtherSignals[] = {SIGHUP,  SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
                                 SIGPROF, SIGIO,   SIGSTKFLT};

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kStopSignals) sigaddset(&set, s);
  for (int s : kOtherSignals) sigaddset(&set, s);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}

bool is_stop_signal(int sig) {
  for (int s : kStopSignals)
    if (s == sig) return true;
  return false;
}
}  // namespace

void Daemon::block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
}

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonConfig config) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->main_loop_ = TRY(EventLoop::create());
  d->access_ = config.access;
  d->started_with_ = {config.control_socket, config.control_access, config.create_dir, config.user, config.group};
  d->offer_irq_ = config.offer_irq;
  d->sockets_ = std::move(config.sockets);
  d->reload_ = std::move(config.reload);
  d->config_wires_ = std::move(config.wires);
  d->make_device_ = std::move(config.make_device);
  d->carryover_ = std::move(config.carryover);
  if (d->make_device_ && !config.control_socket.empty()) {
    d->create_dir_ = config.create_dir.empty() ? directory_of(absolute_path(config.control_socket)) : config.create_dir;
    auto dir = open_directory(d->create_dir_);
    if (dir) d->create_dir_fd_ = dir.release_value();
    else LOG_WARN("devices made at run time: %s; \"create\" is refused until vgpio restarts with it in place",
                  dir.error().message().c_str());
  }
  for (auto& spec : config.devices) d->devices_.push_back(TRY(d->start_device(spec)));
  if (d->carryover_) d->carryover_->settle_leftovers();
  // The control socket last: once it answers, every device socket does.
  if (!config.control_socket.empty()) {
    d->control_ = TRY(control::ControlServer::create(*d->main_loop_, config.control_socket, config.control_access, {})
                          .error_context("control socket"));
    d->control_->set_grants(config.control_observe, config.control_act);
#ifdef VGPIO_SANDBOX_PROBE
    d->control_->set_sandbox_probe(app::probe_sandbox_json);
#endif
    d->control_->set_wires(&d->wires_);
    d->control_->set_device_maker(d.get());
    for (auto& dev : d->devices_) d->attach_control(*dev);
    d->publish_devices();
  }
  d->warn_unused_sockets(config.devices);
  TRY(d->watch_signals());
  return d;
}

// Apart from create(): the sandbox goes on between the two, so no device
// thread reads a frontend's message before it is complete.
Result<void> Daemon::start() {
  if (started_) return ok();
  started_ = true;
  for (auto& dev : devices_) launch(*dev);
  if (auto errors = plug_config_wires(); !errors.empty()) return errors.front();
  return ok();
}

// Lines first (held outputs go to their safe level), the socket last: a
// frontend never meets a device that is not ready.
Result<std::unique_ptr<Daemon::Device>> Daemon::start_device(DeviceConfig& spec) {
  auto dev = std::make_unique<Device>();
  dev->id = next_id_++;
  dev->name = spec.name;
  dev->origin = spec.origin;
  dev->loop = TRY(EventLoop::create());
  std::string where = "device " + spec.name;
  // Devices made at run time live as long as their maker's connection: none
  // outlives the process.
  bool carry_on = carryover_ && spec.socket_name.empty();
  if (spec.make_lines)
    spec.lines = TRY(spec.make_lines(*dev->loop, carry_on ? carryover_ : nullptr).error_context(where));
  if (auto w = gpio::linux_line_limit_warning(spec.name, spec.lines.size())) LOG_WARN("%s", w->c_str());
  dev->device = TRY(GpioDevice::create(spec.name, std::move(spec.lines), GpioDevice::Options{offer_irq_}));
  if (carry_on) carryover_->resume_device(*dev->device);  // before its socket: restored before it is served
  if (spec.clock.guest) {
    guest_clock::GuestClock::Options o{.socket = spec.clock.socket.empty() ? spec.socket + ".clock" : spec.clock.socket,
                                       .access = access_, .quantum = spec.clock.quantum};
    dev->guest_clock = TRY(guest_clock::GuestClock::create(*dev->loop, spec.name, std::move(o)));
    dev->device->set_guest_time([clock = dev->guest_clock.get()] { return clock->now_ns(); });
  }
  dev->sim = TRY(sim::DeviceSim::create(*dev->loop, *dev->device, dev->guest_clock.get()));
  if (spec.connect) {
    dev->server = TRY(vhost::Server::create_client(*dev->loop, *dev->device, spec.name, spec.socket).error_context(where));
  } else if (auto i = service::find_socket(sockets_, spec.name, spec.socket)) {
    // A copy: the manager's socket outlives this device (a reload may replace it).
    UniqueFd fd(fcntl(sockets_[*i].fd.get(), F_DUPFD_CLOEXEC, 3));
    if (!fd) return Error::from_errno(errno, where + ": duplicating its inherited socket");
    std::string path = sockets_[*i].path.empty() ? spec.socket : sockets_[*i].path;
    LOG_INFO("device %s: serving the socket handed over as \"%s\" (%s)", spec.name.c_str(), sockets_[*i].name.c_str(),
             path.c_str());
    // The socket file is the manager's, and stays.
    dev->server = TRY(vhost::Server::create(*dev->loop, *dev->device, spec.name, Listener{std::move(fd), {}}, path));
  } else if (!spec.socket_name.empty()) {  // made at run time: in the create directory, by name only
    Listener l = TRY(listen_unix_at(create_dir_fd_.get(), spec.socket_name, spec.socket, access_).error_context(where));
    dev->server = TRY(vhost::Server::create(*dev->loop, *dev->device, spec.name, std::move(l), spec.socket));
  } else {
    Listener l = TRY(listen_unix(spec.socket, access_).error_context(where));
    dev->server = TRY(vhost::Server::create(*dev->loop, *dev->device, spec.name, std::move(l), spec.socket));
  }
  if (dev->guest_clock) dev->guest_clock->attach(*dev->server);
  TRY(wait_for_frontend_return(*dev));
  uint64_t id = dev->id;
  dev->server->set_frontend_observer(
      [this, id](bool connected) { main_loop_->post([this, id, connected] { on_frontend(id, connected); }); });
  if (control_) attach_control(*dev);
  return dev;
}

Result<void> Daemon::wait_for_frontend_return(Device& dev) {
  if (!dev.device->restored()) return ok();
  vhost::Server* server = dev.server.get();
  GpioDevice* device = dev.device.get();
  dev.return_wait = TRY(Timer::create(*dev.loop, [server, device] {
    if (server->connected() || !device->restored()) return;  // it came back (and maybe left again)
    LOG_WARN("device %s: restored after vgpio's restart, but no frontend came back within %lld s; taking the guest "
             "as gone: its lines go to their safe state",
             device->name().c_str(), static_cast<long long>(kFrontendReturnWait.count()));
    device->reset();
  }));
  dev.return_wait->arm(std::chrono::duration_cast<std::chrono::milliseconds>(kFrontendReturnWait));
  return ok();
}

void Daemon::warn_unused_sockets(const std::vector<DeviceConfig>& devices) const {
  std::vector<bool> used(sockets_.size());
  for (const auto& spec : devices)
    if (auto i = service::find_socket(sockets_, spec.name, spec.socket); i && !spec.connect) used[*i] = true;
  for (size_t i = 0; i < sockets_.size(); ++i)
    if (!used[i])
      LOG_WARN("a socket was handed over as \"%s\" (%s), but no device has that name or socket path; it stays "
               "unused. Name it after a device (FileDescriptorName=) or bind it to a device's socket path.",
               sockets_[i].name.c_str(), sockets_[i].path.empty() ? "unnamed" : sockets_[i].path.c_str());
}

void Daemon::attach_control(Device& dev) {
  control::ControlServer* control = control_.get();
  GpioDevice* device = dev.device.get();
  device->set_observer([control, device](const LineChange& c) { control->publish(*device, c); });
}

void Daemon::launch(Device& dev) {
  std::promise<void> exited;
  dev.exited = exited.get_future().share();
  dev.thread = std::thread([loop = dev.loop.get(), name = "vgpio " + dev.name, exited = std::move(exited)]() mutable {
    // Named, so that a log line from the sandbox says which device it was.
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    loop->run();
    exited.set_value();
  });
  wires_.add_device({dev.device.get(), dev.loop.get(), dev.sim.get()});
}

std::vector<Error> Daemon::plug_config_wires() { return wires_.apply_config(config_wires_); }

void Daemon::stop_device(Device& dev, std::chrono::steady_clock::time_point deadline) {
  begin_stop(dev, "its device is stopped");
  if (wait_stopped(dev, deadline)) tear_down(dev);
}

void Daemon::begin_stop(Device& dev, const char* why) {
  if (!dev.thread.joinable()) return;
  // Safe levels first, on the device's own thread: the session ends and the
  // device resets. Then the loop ends.
  vhost::Server* server = dev.server.get();
  dev.loop->post([server, why] { server->disconnect(why); });
  dev.loop->stop();
}

bool Daemon::wait_stopped(Device& dev, std::chrono::steady_clock::time_point deadline) {
  if (!dev.thread.joinable()) return true;
  if (dev.exited.wait_until(deadline) != std::future_status::ready) {
    LOG_ERROR("device %s: its thread did not stop within %lld ms (stuck in a host chip's driver?); leaving it "
              "behind. Its lines are released when the process exits.",
              dev.name.c_str(), static_cast<long long>(kStopDeadline.count()));
    dev.thread.detach();
    left_behind_.fetch_add(1);
    // What the stuck thread uses must outlive it: never freed.
    (void)dev.loop.release(), (void)dev.device.release(), (void)dev.sim.release(), (void)dev.server.release();
    (void)dev.return_wait.release(), (void)dev.guest_clock.release();
    return false;
  }
  dev.thread.join();
  return true;
}

// With the thread gone, here: the wires go (a stopped loop runs calls on the
// caller's thread), the socket file goes, the lines are freed.
void Daemon::tear_down(Device& dev) {
  if (carryover_ && dev.device->keeps_state()) carryover_->forget_device(dev.name);
  wires_.remove_device(*dev.device);
  dev.device->set_observer({});
  dev.sim.reset();
  dev.device->set_guest_time({});
  dev.guest_clock.reset();  // after the sim that follows it, before the server it drains
  dev.return_wait.reset();
  dev.server.reset();
  dev.device.reset();
}

Result<void> Daemon::watch_signals() {
  sigset_t set = handled_signals();
  signal_fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_) return Error::from_errno(errno, "signalfd");
  TRY(main_loop_->watch(signal_fd_.get(), EPOLLIN, [this](uint32_t) {
    signalfd_siginfo info{};
    while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) on_signal(static_cast<int>(info.ssi_signo));
  }));
  return ok();
}

void Daemon::on_signal(int sig) {
  if (is_stop_signal(sig)) {
    LOG_INFO("received %s: outputs to their safe levels, releasing lines and stopping", strsignal(sig));
    main_loop_->stop();
  } else if (sig == SIGUSR2 && carryover_ && carryover_->enabled()) {
    LOG_INFO("received %s: leaving every line as it is, kept for the next vgpio (a restart)", strsignal(sig));
    leaving_for_restart_ = true;
    main_loop_->stop();
  } else if (sig == SIGUSR2) {
    LOG_WARN("received %s: no service manager keeps the lines for a restart (no $NOTIFY_SOCKET); stopping as on "
             "SIGTERM",
             strsignal(sig));
    main_loop_->stop();
  } else if (sig == SIGHUP) {
    LOG_INFO("received %s: reloading the configuration", strsignal(sig));
    reload();
  } else {
    LOG_WARN("received %s: ignored; vgpio stops on SIGTERM or SIGINT, reloads on SIGHUP, and leaves for a restart "
             "on SIGUSR2",
             strsignal(sig));
  }
}

void Daemon::run() {
  notifier_.ready(status());
  main_loop_->run();
  notifier_.stopping();
  if (leaving_for_restart_) {
    // Nothing is undone: the manager's store holds every line request and
    // device state, and the next process carries on from them. A request a
    // device thread is answering now is not in its state yet; the frontend
    // hands it to the next process again.
    std::fflush(nullptr);
    _exit(0);
  }
}

void Daemon::stop() { main_loop_->stop(); }

void Daemon::set_status(std::function<nlohmann::json()> status) {
  if (control_) control_->set_status(std::move(status));
}

// Every device at once: each begins to stop (outputs to their safe levels),
// then all get one shared deadline.
Daemon::~Daemon() {
  if (control_) control_->set_devices({});
  for (auto& dev : devices_) begin_stop(*dev, "the daemon is stopping");
  auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
  for (auto& dev : devices_)
    if (wait_stopped(*dev, deadline)) tear_down(*dev);
  devices_.clear();
  control_.reset();
}

}  // namespace vgpio
