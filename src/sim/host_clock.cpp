#include <cerrno>

#include "sim/sim_clock.h"

namespace vgpio::sim {

namespace {
Error host_time(const char* what) {
  return Error(std::string(what) +
                   " needs a device on its guest's time (clock = \"guest\" and the vgpio-clock "
                   "QEMU plugin); this one follows the host's clock, which cannot be held",
               EOPNOTSUPP);
}
}  // namespace

Result<void> SimClock::run_until(std::optional<SteadyTime>) { return host_time("stepping time"); }
Result<void> SimClock::add_alarm(SteadyTime, uint64_t, Alarm) { return host_time("a time in guest nanoseconds"); }

Result<std::unique_ptr<HostClock>> HostClock::create(EventLoop& loop) {
  std::unique_ptr<HostClock> clock(new HostClock());
  HostClock* raw = clock.get();
  clock->timer_ = TRY(Timer::create(loop, [raw] {
    if (raw->wake_) raw->wake_();
  }));
  return clock;
}

void HostClock::wake_at(std::optional<SteadyTime> when) {
  if (when) timer_->arm_at(*when);
  else timer_->disarm();
}

}  // namespace vgpio::sim
