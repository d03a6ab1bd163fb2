#include "app/daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/log.h"

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
  std::vector<control::ControlledDevice> controlled;
  for (auto& spec : config.devices) {
    auto dev = std::make_unique<Device>();
    dev->loop = TRY(EventLoop::create());
    if (spec.make_lines) spec.lines = TRY(spec.make_lines(*dev->loop).error_context("device " + spec.name));
    dev->device = TRY(GpioDevice::create(spec.name, std::move(spec.lines), GpioDevice::Options{config.offer_irq}));
    dev->server = TRY((spec.connect ? vhost::Server::create_client(*dev->loop, *dev->device, spec.name, spec.socket)
                                    : vhost::Server::create(*dev->loop, *dev->device, spec.name, spec.socket,
                                                            config.access))
                          .error_context("device " + spec.name));
    controlled.push_back({dev->device.get(), dev->loop.get(), spec.socket});
    d->devices_.push_back(std::move(dev));
  }
  if (!config.control_socket.empty()) {
    d->control_ = TRY(control::ControlServer::create(*d->main_loop_, config.control_socket, config.access, controlled)
                          .error_context("control socket"));
    for (size_t i = 0; i < d->devices_.size(); ++i) {
      control::ControlServer* control = d->control_.get();
      d->devices_[i]->device->set_observer([control, i](const LineChange& c) { control->publish(i, c); });
    }
  }
  TRY(d->watch_signals());
  for (auto& dev : d->devices_) dev->thread = std::thread([loop = dev->loop.get()] { loop->run(); });
  return d;
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
  } else if (sig == SIGHUP) {
    LOG_INFO("received %s: the configuration is unchanged (vgpio cannot reload it yet); carrying on", strsignal(sig));
  } else {
    LOG_WARN("received %s: ignored; vgpio stops on SIGTERM or SIGINT", strsignal(sig));
  }
}

void Daemon::run() { main_loop_->run(); }

void Daemon::stop() { main_loop_->stop(); }

Daemon::~Daemon() {
  for (auto& dev : devices_) {
    if (dev->thread.joinable()) {
      dev->loop->stop();
      dev->thread.join();
    }
  }
  control_.reset();
  // With the threads gone, tear down here: sessions end, devices reset (every
  // line released to its safe state), socket files removed.
  for (auto& dev : devices_) {
    dev->device->set_observer({});
    dev->server.reset();
    dev->device.reset();
  }
}

}  // namespace vgpio
