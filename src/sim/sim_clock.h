// The time a device's stimuli and delayed wire levels follow. The host's
// clock by default (a timerfd on the device's loop); a guest's own clock when
// the device is on guest time (src/guest_clock: QEMU runs in lockstep with
// it). Times are SteadyTime either way: on guest time, its epoch is the
// guest's boot and it moves only when the guest is held.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/timer.h"
#include "sim/stimulus.h"

namespace vgpio::sim {

class SimClock {
 public:
  virtual ~SimClock() = default;
  virtual SteadyTime now() const = 0;
  // The soonest time something done now can happen: now on the host's
  // clock; on a guest's, its next hold (it is already running towards it).
  virtual SteadyTime soonest() const { return now(); }
  // The one wake-up: `wake` runs on the device's loop once `when` has come
  // (soon, if it has passed). nullopt: none.
  virtual void wake_at(std::optional<SteadyTime> when) = 0;
  void on_wake(std::function<void()> wake) { wake_ = std::move(wake); }
  // "host" or "guest", for `vgpio ctl list` and status.
  virtual const char* name() const = 0;
  // For `vgpio ctl list`, on the device's loop: on a guest's clock, whether
  // the guest's QEMU plugin is there, its time and how often it was held.
  struct Report {
    std::string follows{};  // name()
    bool plugin = false;
    uint64_t guest_ns = 0, holds = 0, quantum_ns = 0;
    std::string socket{};
  };
  virtual Report report() const { return Report{.follows = name()}; }

 protected:
  std::function<void()> wake_;
};

// CLOCK_MONOTONIC, which steady_clock reads.
class HostClock : public SimClock {
 public:
  static Result<std::unique_ptr<HostClock>> create(EventLoop& loop);
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  void wake_at(std::optional<SteadyTime> when) override;
  const char* name() const override { return "host"; }

 private:
  HostClock() = default;
  std::unique_ptr<Timer> timer_;
};

}  // namespace vgpio::sim
