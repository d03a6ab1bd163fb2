#include "app/daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/log.h"

namespace vgpio {

void Daemon::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
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
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  signal_fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_) return Error::from_errno(errno, "signalfd");
  TRY(main_loop_->watch(signal_fd_.get(), EPOLLIN, [this](uint32_t) {
    signalfd_siginfo info{};
    if (::read(signal_fd_.get(), &info, sizeof info) == sizeof info)
      LOG_INFO("received %s: releasing lines and stopping", strsignal(static_cast<int>(info.ssi_signo)));
    main_loop_->stop();
  }));
  return ok();
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
