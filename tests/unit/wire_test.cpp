// A wire's ring between two threads: order, inversion, delay, and what a
// target that falls behind still gets: the latest level, never an older one.
#include "sim/wire.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace vgpio::sim {
namespace {

using namespace std::chrono_literals;
using Nanos = std::chrono::nanoseconds;

std::shared_ptr<Wire> make(bool invert = false, Nanos delay = 0ns) {
  return Wire::create(WireSpec{"a", "out", "b", "in", delay, invert}, 0, 1).release_value();
}

std::vector<bool> take(Wire& w, size_t* dropped = nullptr) {
  std::vector<bool> got;
  size_t d = w.receive([&](const Wire::Arrival& a) { got.push_back(a.level); });
  if (dropped) *dropped = d;
  return got;
}

TEST(Wire, CarriesChangesInOrderAndInverts) {
  auto w = make();
  w->send(true);
  w->send(true);  // unchanged: not sent again
  w->send(false);
  w->send(false, /*force=*/true);
  EXPECT_EQ(take(*w), (std::vector<bool>{true, false, false}));
  auto inv = make(true);
  inv->send(true);
  EXPECT_EQ(take(*inv), std::vector<bool>{false});
}

TEST(Wire, DelayIsAddedToTheSendTime) {
  auto w = make(false, 2ms);
  auto before = std::chrono::steady_clock::now();
  w->send(true);
  w->receive([&](const Wire::Arrival& a) {
    EXPECT_GE(a.due, before + 2ms);
    EXPECT_LE(a.due, std::chrono::steady_clock::now() + 2ms);
  });
}

TEST(Wire, AFullRingEndsAtTheLatestLevel) {
  auto w = make();
  for (size_t i = 0; i < Wire::kCapacity + 11; ++i) w->send(i % 2 == 0);
  size_t dropped = 0;
  auto got = take(*w, &dropped);
  EXPECT_EQ(dropped, 11u);
  ASSERT_EQ(got.size(), Wire::kCapacity + 1);
  EXPECT_EQ(got.back(), (Wire::kCapacity + 10) % 2 == 0);
  // Afterwards the ring works as before.
  w->send(!got.back());
  EXPECT_EQ(take(*w), std::vector<bool>{!got.back()});
}

// `slow_every`: the target pauses inside every n-th arrival until the source
// has overrun the ring (or is done), so the source drops while the target is
// between reading the ring and taking the dropped count. It waits for that
// rather than for a fixed time: on a loaded machine the source may be the
// slow one.
void two_threads(int slow_every) {
  auto w = make();
  constexpr int kLevels = 200000;
  std::atomic<bool> finished{false};
  std::atomic<size_t> sent{0};
  std::thread source([&] {
    for (int i = 1; i <= kLevels; ++i) w->send(i % 2 == 1), sent.fetch_add(1, std::memory_order_release);
    finished = true;
  });
  bool last = false, alternates = true, in_order = true;
  std::chrono::steady_clock::time_point last_due{};
  size_t dropped = 0, arrivals = 0;
  auto take_some = [&] {
    std::vector<bool> got;
    size_t d = w->receive([&](const Wire::Arrival& a) {
      got.push_back(a.level);
      // Every level arrives in the order it was sent, dropped or not.
      in_order &= a.due >= last_due;
      last_due = a.due;
      // Sent beyond what arrived: at most a ring being read and a ring waiting, the rest dropped.
      if (slow_every && ++arrivals % slow_every == 0)
        while (!finished && sent.load(std::memory_order_acquire) <= arrivals + 2 * Wire::kCapacity)
          std::this_thread::yield();
    });
    // Until a drop, every level is the other one: nothing lost or repeated.
    // (After a drop, the latest level comes last and may repeat one.)
    size_t checked = d ? got.size() - 1 : got.size();
    for (size_t i = 0; i < checked && dropped == 0; ++i) alternates &= got[i] != last, last = got[i];
    if (!got.empty()) last = got.back();
    dropped += d;
  };
  while (!finished) take_some();
  source.join();
  take_some();
  EXPECT_TRUE(alternates);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(last, kLevels % 2 == 1);
  if (slow_every) {
    EXPECT_GT(dropped, 0u) << "the slow target should have made the source drop";
  }
}

TEST(Wire, TwoThreadsLoseNothingAndEndRight) { two_threads(0); }

TEST(Wire, ASlowTargetGetsEveryLevelInOrderAndEndsRight) {
  for (int round = 0; round < 20; ++round) two_threads(100);
}

}  // namespace
}  // namespace vgpio::sim
