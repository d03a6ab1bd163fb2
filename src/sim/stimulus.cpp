#include "sim/stimulus.h"

#include "base/duration.h"
#include "base/strings.h"

namespace vgpio::sim {

namespace {
Result<void> check_step(Nanos d, const char* what) {
  if (d < Stimulus::kMinStep)
    return Error(strfmt("%s of %s is shorter than the shortest step, %s", what, format_duration(d).c_str(),
                        format_duration(Stimulus::kMinStep).c_str()));
  return ok();
}

// A small, seeded generator: the same seed gives the same bounce.
uint64_t next_random(uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
}  // namespace

Result<Stimulus> Stimulus::pulse(bool level, Nanos width, uint64_t count, Nanos period) {
  TRY(check_step(width, "a width"));
  if (period <= width)
    return Error(strfmt("the period (%s) must be longer than the width (%s)", format_duration(period).c_str(),
                        format_duration(width).c_str()));
  TRY(check_step(period - width, "the gap between pulses"));
  std::string kind =
      strfmt("pulse %d for %s every %s", level, format_duration(width).c_str(), format_duration(period).c_str());
  kind += count == 0 ? ", until stopped" : strfmt(", %llu times", static_cast<unsigned long long>(count));
  return Stimulus{kind, {{level, width}, {!level, period - width}}, count};
}

Result<Stimulus> Stimulus::clock(Nanos period, double duty) {
  if (!(duty > 0 && duty < 1)) return Error(strfmt("the duty cycle must be between 0 and 1 (exclusive), not %g", duty));
  Nanos high(static_cast<int64_t>(double(period.count()) * duty));
  TRY(check_step(high, "the high part"));
  TRY(check_step(period - high, "the low part"));
  return Stimulus{strfmt("clock %s, duty %g", format_duration(period).c_str(), duty),
                  {{true, high}, {false, period - high}},
                  0};
}

Result<Stimulus> Stimulus::bounce(bool from, bool settle, unsigned transitions, Nanos window, uint64_t seed) {
  if (transitions == 0 || transitions > kMaxSteps)
    return Error(strfmt("a bounce needs 1 to %zu transitions, not %u", kMaxSteps, transitions));
  // One slot per transition; each lands in the first half of its slot, so
  // two are always at least half a slot apart.
  Nanos slot = window / transitions;
  TRY(check_step(slot / 2, strfmt("with %u transitions in %s, half the time between two", transitions,
                                  format_duration(window).c_str())
                               .c_str()));
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<Nanos> at{Nanos(0)};
  for (unsigned k = 1; k < transitions; ++k)
    at.push_back(slot * k + Nanos(static_cast<int64_t>(next_random(state) % uint64_t((slot / 2).count()))));
  Stimulus s{strfmt("bounce, %u transitions in %s, settles at %d", transitions, format_duration(window).c_str(),
                    settle),
             {},
             1};
  bool level = from;
  for (unsigned k = 0; k < transitions; ++k) {
    level = !level;
    s.steps.push_back({level, (k + 1 < transitions ? at[k + 1] : window) - at[k]});
  }
  if (level != settle) s.steps.push_back({settle, kMinStep});
  return s;
}

Result<Stimulus> Stimulus::pattern(std::vector<Step> steps, uint64_t repeat) {
  if (steps.empty() || steps.size() > kMaxSteps)
    return Error(strfmt("a pattern needs 1 to %zu steps, not %zu", kMaxSteps, steps.size()));
  for (size_t i = 0; i < steps.size(); ++i) TRY(check_step(steps[i].duration, strfmt("step %zu", i).c_str()));
  std::string kind = strfmt("pattern of %zu steps", steps.size());
  kind += repeat == 0 ? ", until stopped" : strfmt(", %llu times", static_cast<unsigned long long>(repeat));
  return Stimulus{kind, std::move(steps), repeat};
}

bool Playback::take() {
  const Step& step = stimulus_.steps[index_ % stimulus_.steps.size()];
  ++index_;
  next_ += step.duration;
  return step.level;
}

}  // namespace vgpio::sim
