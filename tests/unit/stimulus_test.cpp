// Timed stimuli as schedules: the steps each kind makes, what is refused, and
// that playback times add up from the start with no drift.
#include "sim/stimulus.h"

#include <gtest/gtest.h>

namespace vgpio::sim {
namespace {

using namespace std::chrono_literals;

// The level changes a stimulus makes from `from`, as (time from start, level).
std::vector<std::pair<Nanos, bool>> edges(const Stimulus& s, bool from, size_t max_steps = 1000) {
  SteadyTime start{};
  Playback p(s, start);
  std::vector<std::pair<Nanos, bool>> out;
  bool level = from;
  for (size_t i = 0; i < max_steps && !p.done(); ++i) {
    Nanos at = p.next_time() - start;
    bool next = p.take();
    if (next != level) out.push_back({at, next});
    level = next;
  }
  return out;
}

TEST(Stimulus, PulseCountWidthAndPeriod) {
  auto s = Stimulus::pulse(true, 10ms, 3, 50ms);
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto e = edges(s.value(), false);
  std::vector<std::pair<Nanos, bool>> want = {{0ms, true},   {10ms, false}, {50ms, true},
                                              {60ms, false}, {100ms, true}, {110ms, false}};
  EXPECT_EQ(e, want);
  EXPECT_NE(s.value().kind.find("3 times"), std::string::npos);
}

TEST(Stimulus, ActiveLowPulseAndForever) {
  auto s = Stimulus::pulse(false, 1ms, 0, 4ms);
  ASSERT_TRUE(s.ok());
  auto e = edges(s.value(), true, 200);
  ASSERT_EQ(e.size(), 200u);  // until stopped: it never runs out
  EXPECT_EQ(e[0], std::make_pair(Nanos(0ms), false));
  EXPECT_EQ(e[199], std::make_pair(Nanos(99 * 4ms + 1ms), true));
}

TEST(Stimulus, ClockHasNoDriftOverAMillionEdges) {
  auto s = Stimulus::clock(1ms, 0.25);
  ASSERT_TRUE(s.ok());
  SteadyTime start{};
  Playback p(s.value(), start);
  for (int i = 0; i < 1000000; ++i) (void)p.take();
  EXPECT_EQ(p.next_time() - start, Nanos(500000 * 1ms));  // two steps per period
  auto e = edges(s.value(), false, 4);
  std::vector<std::pair<Nanos, bool>> want = {{0us, true}, {250us, false}, {1000us, true}, {1250us, false}};
  EXPECT_EQ(e, want);
}

TEST(Stimulus, BounceEndsAtTheSettleLevelWithinItsWindow) {
  for (unsigned n : {1u, 2u, 5u, 6u, 50u})
    for (bool from : {false, true}) {
      auto s = Stimulus::bounce(from, !from, n, 5ms, 7);
      ASSERT_TRUE(s.ok()) << n;
      auto e = edges(s.value(), from);
      // n changes, one more when n leaves it at the wrong level.
      EXPECT_EQ(e.size(), n % 2 == 1 ? n : n + 1) << n;
      EXPECT_EQ(e.back().second, !from);
      EXPECT_EQ(e.front().first, Nanos(0));
      EXPECT_LE(e.back().first, Nanos(5ms));
      for (size_t i = 1; i < e.size(); ++i) EXPECT_GE(e[i].first - e[i - 1].first, Stimulus::kMinStep) << n;
    }
  // The same seed bounces the same way; another seed differently.
  auto a = edges(Stimulus::bounce(false, true, 9, 5ms, 1).value(), false);
  auto b = edges(Stimulus::bounce(false, true, 9, 5ms, 1).value(), false);
  auto c = edges(Stimulus::bounce(false, true, 9, 5ms, 2).value(), false);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Stimulus, PatternRepeats) {
  auto s = Stimulus::pattern({{true, 1ms}, {false, 2ms}, {true, 3ms}}, 2);
  ASSERT_TRUE(s.ok());
  auto e = edges(s.value(), false);
  std::vector<std::pair<Nanos, bool>> want = {{0ms, true}, {1ms, false}, {3ms, true}, {7ms, false}, {9ms, true}};
  EXPECT_EQ(e, want);  // 6 ms per round; a step that keeps the level is no edge
}

TEST(Stimulus, RefusesWhatATimerCannotKeep) {
  EXPECT_FALSE(Stimulus::pulse(true, 5us, 1, 1ms).ok());
  EXPECT_FALSE(Stimulus::pulse(true, 10ms, 1, 10ms).ok());  // no gap
  EXPECT_FALSE(Stimulus::clock(1ms, 0).ok());
  EXPECT_FALSE(Stimulus::clock(1ms, 1).ok());
  EXPECT_FALSE(Stimulus::clock(15us, 0.5).ok());
  EXPECT_FALSE(Stimulus::bounce(false, true, 0, 5ms, 1).ok());
  EXPECT_FALSE(Stimulus::bounce(false, true, 1000, 5ms, 1).ok());  // 5 us apart
  EXPECT_FALSE(Stimulus::pattern({}, 1).ok());
  EXPECT_FALSE(Stimulus::pattern({{true, 1ms}, {false, 0ms}}, 1).ok());
  auto e = Stimulus::pulse(true, 5us, 1, 1ms);
  EXPECT_NE(e.error().message().find("shortest step"), std::string::npos) << e.error().message();
}

}  // namespace
}  // namespace vgpio::sim
