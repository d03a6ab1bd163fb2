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
  // Whether now() is the time this instant: always on the host's clock; on a
  // guest's only while the guest is held (between holds it runs ahead).
  virtual bool held() const { return true; }

  // Stepping, on a guest's clock only (the host's cannot be held): the guest
  // stops once its time reaches `stop` and stays held until the next call;
  // nullopt lets it run freely.
  virtual Result<void> run_until(std::optional<SteadyTime> stop);
  // `alarm(now, true)` runs on the device's loop once time reaches `at` (a
  // hold is made there), or `alarm(now, false)` if the guest leaves first.
  // `owner` names whoever set it, for remove_alarms(). A guest's clock only.
  using Alarm = std::function<void(SteadyTime now, bool reached)>;
  virtual Result<void> add_alarm(SteadyTime at, uint64_t owner, Alarm alarm);
  virtual void remove_alarms(uint64_t /*owner*/) {}
  // For `vgpio ctl list`, on the device's loop: on a guest's clock, whether
  // the guest's QEMU plugin is there, its time and how often it was held.
  struct Report {
    std::string follows{};  // name()
    bool plugin = false;
    uint64_t guest_ns = 0, holds = 0, quantum_ns = 0;
    std::string socket{};
    std::optional<uint64_t> stop_ns{};  // where a stepped guest stops (run_until)
    bool held = false;                  // held there now, until it is told to run on
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
