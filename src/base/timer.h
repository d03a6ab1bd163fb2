// A one-shot timer on an EventLoop (a timerfd), for retries and timed
// stimuli: the loop sleeps until it fires, nothing polls.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/event_loop.h"

namespace vgpio {

class Timer {
 public:
  static Result<std::unique_ptr<Timer>> create(EventLoop& loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(std::chrono::milliseconds after);
  // Fires at `when` (CLOCK_MONOTONIC, which steady_clock reads), at once if it has passed.
  void arm_at(std::chrono::steady_clock::time_point when);
  void disarm();

 private:
  Timer(EventLoop& loop, UniqueFd fd, std::function<void()> on_fire)
      : loop_(loop), fd_(std::move(fd)), on_fire_(std::move(on_fire)) {}
  EventLoop& loop_;
  UniqueFd fd_;
  EventLoop::WatchId watch_ = 0;
  std::function<void()> on_fire_;
};

}  // namespace vgpio
