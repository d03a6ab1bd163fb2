// Timed stimuli for simulated inputs (virtual hardware-in-the-loop). Each one
// is a list of level steps played from a start time: every edge lands at the
// start plus a sum of durations, so nothing drifts however late the loop wakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio::sim {

using Nanos = std::chrono::nanoseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// A time as nanoseconds since its clock's epoch (CLOCK_MONOTONIC's, or a
// guest's boot), and back: how times cross the control protocol.
inline uint64_t count_ns(SteadyTime t) {
  return uint64_t(std::chrono::duration_cast<Nanos>(t.time_since_epoch()).count());
}
inline SteadyTime at_ns(uint64_t ns) { return SteadyTime(Nanos(ns)); }

struct Step {
  bool level;
  Nanos duration;  // until the next step starts
};

struct Stimulus {
  // Shorter steps than this cannot be kept by a timer on a loaded host.
  static constexpr Nanos kMinStep = std::chrono::microseconds(10);
  static constexpr size_t kMaxSteps = 4096;

  std::string kind;  // "clock 1ms, duty 0.5" and the like, for `vgpio ctl list`
  std::vector<Step> steps;
  uint64_t repeat = 1;  // times through `steps`; 0: until stopped

  // `count` pulses to `level` of `width`, one per `period`, back to !level
  // between them; count 0 pulses until stopped.
  static Result<Stimulus> pulse(bool level, Nanos width, uint64_t count, Nanos period);
  // High for period * duty, then low, until stopped.
  static Result<Stimulus> clock(Nanos period, double duty);
  // Contact bounce from level `from`: `transitions` level changes spread
  // over `window` (irregularly, from `seed`), the first at once; then one
  // more at the window's end if that is needed to settle at `settle`.
  static Result<Stimulus> bounce(bool from, bool settle, unsigned transitions, Nanos window, uint64_t seed);
  static Result<Stimulus> pattern(std::vector<Step> steps, uint64_t repeat);
};

// Where a running stimulus is: the next step and when it starts.
class Playback {
 public:
  Playback(Stimulus stimulus, SteadyTime start) : stimulus_(std::move(stimulus)), next_(start) {}

  bool done() const { return stimulus_.repeat != 0 && index_ == stimulus_.repeat * stimulus_.steps.size(); }
  SteadyTime next_time() const { return next_; }
  // The level of the step due now; moves on to the next one.
  bool take();
  const Stimulus& stimulus() const { return stimulus_; }

 private:
  Stimulus stimulus_;
  uint64_t index_ = 0;  // steps taken, over all repetitions
  SteadyTime next_;
};

}  // namespace vgpio::sim
