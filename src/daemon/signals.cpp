#include "daemon/signals.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace vgpio::daemon {

namespace {
constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGXCPU, SIGPWR};
constexpr int kOtherSignals[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGSTKFLT};

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kStopSignals) sigaddset(&set, s);
  for (int s : kOtherSignals) sigaddset(&set, s);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}
}  // namespace

bool SignalWatch::is_stop(int sig) {
  for (int s : kStopSignals)
    if (s == sig) return true;
  return false;
}

void SignalWatch::block() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
}

Result<std::unique_ptr<SignalWatch>> SignalWatch::create(EventLoop& loop, std::function<void(int sig)> on_signal) {
  sigset_t set = handled_signals();
  UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::from_errno(errno, "signalfd");
  std::unique_ptr<SignalWatch> w(new SignalWatch(loop, std::move(fd)));
  w->on_signal_ = std::move(on_signal);
  SignalWatch* raw = w.get();
  w->watch_ = TRY(loop.watch(raw->fd_.get(), EPOLLIN, [raw](uint32_t) {
    signalfd_siginfo info{};
    while (::read(raw->fd_.get(), &info, sizeof info) == sizeof info) raw->on_signal_(static_cast<int>(info.ssi_signo));
  }));
  return w;
}

SignalWatch::~SignalWatch() {
  if (watch_) loop_.unwatch(watch_);
}

}  // namespace vgpio::daemon
