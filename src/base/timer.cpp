#include "base/timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

namespace vgpio {

Result<std::unique_ptr<Timer>> Timer::create(EventLoop& loop, std::function<void()> on_fire) {
  UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd) return Error::from_errno(errno, "timerfd_create");
  std::unique_ptr<Timer> timer(new Timer(loop, std::move(fd), std::move(on_fire)));
  Timer* t = timer.get();
  timer->watch_ = TRY(loop.watch(t->fd_.get(), EPOLLIN, [t](uint32_t) {
    uint64_t expirations;
    if (::read(t->fd_.get(), &expirations, sizeof expirations) == sizeof expirations) t->on_fire_();
  }));
  return timer;
}

Timer::~Timer() { loop_.unwatch(watch_); }

void Timer::arm(std::chrono::milliseconds after) {
  itimerspec spec{};
  spec.it_value.tv_sec = after.count() / 1000;
  spec.it_value.tv_nsec = (after.count() % 1000) * 1000000 + (after.count() == 0 ? 1 : 0);
  timerfd_settime(fd_.get(), 0, &spec, nullptr);
}

void Timer::arm_at(std::chrono::steady_clock::time_point when) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  itimerspec spec{};
  // An all-zero it_value would disarm instead.
  if (ns <= 0) ns = 1;
  spec.it_value.tv_sec = ns / 1000000000;
  spec.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Timer::disarm() {
  itimerspec spec{};
  timerfd_settime(fd_.get(), 0, &spec, nullptr);
}

}  // namespace vgpio
