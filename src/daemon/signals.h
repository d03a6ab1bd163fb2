// The signals the daemon handles, read from a signalfd on its main loop.
// Every catchable signal whose default action ends the process is handled,
// except the faults a program raises on itself (SEGV, BUS, ILL, FPE, ABRT,
// TRAP, SYS): none of the others may end vgpio without the safe path.
#pragma once

#include <functional>
#include <memory>

#include "base/event_loop.h"
#include "base/unique_fd.h"

namespace vgpio::daemon {

class SignalWatch {
 public:
  // The handled signals must be blocked in every thread: call this before
  // any thread starts. SIGPIPE and SIGXFSZ are ignored instead: they come
  // from a write, and the write's error says it all.
  static void block();
  // `on_signal` gets each handled signal, on `loop`.
  static Result<std::unique_ptr<SignalWatch>> create(EventLoop& loop, std::function<void(int sig)> on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // SIGTERM, SIGINT, SIGQUIT, SIGXCPU, SIGPWR: outputs to their safe levels, and stop.
  static bool is_stop(int sig);

 private:
  SignalWatch(EventLoop& loop, UniqueFd fd) : loop_(loop), fd_(std::move(fd)) {}
  EventLoop& loop_;
  UniqueFd fd_;
  EventLoop::WatchId watch_ = 0;
  std::function<void(int)> on_signal_;
};

}  // namespace vgpio::daemon
