#include "sim/sim_clock.h"

namespace vgpio::sim {

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
