#include "daemon/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "base/paths.h"

namespace vgpio::daemon {

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonConfig config) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->main_loop_ = TRY(EventLoop::create());
  d->settings_ = config.settings;
  d->sockets_ = std::move(config.sockets);
  d->reload_ = std::move(config.reload);
  d->config_wires_ = std::move(config.wires);
  d->make_device_ = std::move(config.make_device);
  d->carryover_ = std::move(config.carryover);
  const std::string& control = config.settings.control;
  if (d->make_device_ && !control.empty()) {
    d->create_dir_ =
        config.settings.create_dir.empty() ? directory_of(absolute_path(control)) : config.settings.create_dir;
    auto dir = open_directory(d->create_dir_);
    if (dir) d->create_dir_fd_ = dir.release_value();
    else
      LOG_WARN("devices made at run time: %s; \"create\" is refused until vgpio restarts with it in place",
               dir.error().message().c_str());
  }
  Surroundings around{.access = config.settings.access,
                      .offer_irq = config.offer_irq,
                      .sockets = &d->sockets_,
                      .create_dir = d->create_dir_fd_.get(),
                      .carryover = d->carryover_};
  Daemon* raw = d.get();
  d->devices_ = std::make_unique<DeviceSet>(*d->main_loop_, around,
                                            [raw](uint64_t id, bool connected) { raw->on_frontend(id, connected); });
  for (auto& spec : config.devices) d->devices_->add(TRY(d->devices_->make(spec)));
  if (d->carryover_) d->carryover_->settle_leftovers();
  // The control socket last: once it answers, every device socket does.
  if (!control.empty()) TRY(d->start_control(config));
  d->warn_unused_sockets(config.devices);
  d->signals_ = TRY(SignalWatch::create(*d->main_loop_, [raw](int sig) { raw->on_signal(sig); }));
  return d;
}

Result<void> Daemon::start_control(const DaemonConfig& config) {
  const config::RootSettings& s = config.settings;
  control_ =
      TRY(control::ControlServer::create(*main_loop_, s.control, s.control_access, {}).error_context("control socket"));
  control_->set_grants(s.control_observe, s.control_act);
  if (config.sandbox_probe) control_->set_sandbox_probe(config.sandbox_probe);
  control_->set_wires(&devices_->wires());
  control_->set_device_maker(this);
  devices_->set_control(control_.get());
  return ok();
}

// Apart from create(): the sandbox goes on between the two, so no device
// thread reads a frontend's message before it is complete.
Result<void> Daemon::start() {
  if (started_) return ok();
  started_ = true;
  devices_->launch();
  if (auto errors = devices_->plug_wires(config_wires_); !errors.empty()) return errors.front();
  return ok();
}

void Daemon::plug_config_wires(const std::string& when) {
  for (const auto& e : devices_->plug_wires(config_wires_))
    LOG_ERROR("%s: %s; the rest of the config is in use", when.c_str(), e.message().c_str());
}

void Daemon::warn_unused_sockets(const std::vector<DeviceConfig>& devices) const {
  std::vector<bool> used(sockets_.size());
  for (const auto& spec : devices)
    if (auto i = service::find_socket(sockets_, spec.name, spec.socket); i && !spec.connect) used[*i] = true;
  for (size_t i = 0; i < sockets_.size(); ++i)
    if (!used[i])
      LOG_WARN(
          "a socket was handed over as \"%s\" (%s), but no device has that name or socket path; it stays "
          "unused. Name it after a device (FileDescriptorName=) or bind it to a device's socket path.",
          sockets_[i].name.c_str(), sockets_[i].path.empty() ? "unnamed" : sockets_[i].path.c_str());
}

void Daemon::on_signal(int sig) {
  if (SignalWatch::is_stop(sig)) {
    LOG_INFO("received %s: outputs to their safe levels, releasing lines and stopping", strsignal(sig));
    main_loop_->stop();
  } else if (sig == SIGUSR2 && carryover_ && carryover_->enabled()) {
    LOG_INFO("received %s: leaving every line as it is, kept for the next vgpio (a restart)", strsignal(sig));
    leaving_for_restart_ = true;
    main_loop_->stop();
  } else if (sig == SIGUSR2) {
    LOG_WARN(
        "received %s: no service manager keeps the lines for a restart (no $NOTIFY_SOCKET); stopping as on "
        "SIGTERM",
        strsignal(sig));
    main_loop_->stop();
  } else if (sig == SIGHUP) {
    LOG_INFO("received %s: reloading the configuration", strsignal(sig));
    reload();
  } else {
    LOG_WARN(
        "received %s: ignored; vgpio stops on SIGTERM or SIGINT, reloads on SIGHUP, and leaves for a restart "
        "on SIGUSR2",
        strsignal(sig));
  }
}

void Daemon::run() {
  notifier_.ready(devices_->status());
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

// The devices first (outputs to their safe levels; they tell the control
// server they are gone), then the control socket.
Daemon::~Daemon() {
  devices_.reset();
  control_.reset();
}

}  // namespace vgpio::daemon
