// The daemon's end of the vgpio-clock plugin (src/guest_clock) against a
// plugin that is not one: whatever a peer on the clock socket sends, the
// device's loop carries on, the peer is dropped with a reason, and the next
// plugin is served. The real plugin is tested in guest.guest_clock.
#include "guest_clock/guest_clock.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "base/unix_socket.h"

namespace vgpio::guest_clock {
namespace {

using namespace std::chrono_literals;

class GuestClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "vgpio-clock-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    loop_ = EventLoop::create().release_value();
    clock_ =
        GuestClock::create(*loop_, "dev", {.socket = dir_ + "/clock", .access = {}, .quantum = 1ms}).release_value();
  }
  void TearDown() override {
    clock_.reset();
    rmdir(dir_.c_str());
  }
  // A peer, connected and accepted.
  UniqueFd connect_peer() {
    UniqueFd fd = connect_unix(dir_ + "/clock").release_value();
    loop_->run_once(1000);
    return fd;
  }
  void send_bytes(int fd, const void* data, size_t n) {
    ASSERT_EQ(::send(fd, data, n, MSG_NOSIGNAL), ssize_t(n));
    loop_->run_once(1000);
  }
  // The answer to a message, or nullopt when the peer was dropped.
  std::optional<ToPlugin> exchange(int fd, uint32_t magic, Kind kind, uint64_t ns) {
    FromPlugin m{magic, uint32_t(kind), ns};
    send_bytes(fd, &m, sizeof m);
    ToPlugin a{};
    ssize_t n = ::recv(fd, &a, sizeof a, MSG_DONTWAIT);
    if (n != ssize_t(sizeof a)) return std::nullopt;
    return a;
  }

  std::string dir_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<GuestClock> clock_;
};

TEST_F(GuestClockTest, HoldsAtTheQuantumOrAtTheNextWakeUpWhicheverComesFirst) {
  UniqueFd p = connect_peer();
  auto hello = exchange(p.get(), kMagic, Kind::Hello, 5'000);
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->until_ns, 5'000u + 1'000'000u);
  // As DeviceSim does: every hold wakes it, and it asks for its next wake-up.
  std::vector<uint64_t> woke_at;
  clock_->on_wake([&] {
    woke_at.push_back(clock_->now_ns());
    if (clock_->now_ns() < 300'000) clock_->wake_at(sim::at_ns(300'000));
  });
  clock_->wake_at(sim::SteadyTime(300'000ns));
  auto held = exchange(p.get(), kMagic, Kind::Held, 100'000);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->until_ns, 300'000u);
  ASSERT_TRUE(exchange(p.get(), kMagic, Kind::Held, 300'000));
  EXPECT_EQ(woke_at, (std::vector<uint64_t>{100'000, 300'000}));
  EXPECT_EQ(clock_->report().guest_ns, 300'000u);
  EXPECT_EQ(clock_->report().holds, 2u);
}

TEST_F(GuestClockTest, AMessageInPartsIsOneMessage) {
  UniqueFd p = connect_peer();
  FromPlugin m{kMagic, uint32_t(Kind::Hello), 7};
  send_bytes(p.get(), &m, 5);
  send_bytes(p.get(), reinterpret_cast<char*>(&m) + 5, sizeof m - 5);
  ToPlugin a{};
  EXPECT_EQ(::recv(p.get(), &a, sizeof a, MSG_DONTWAIT), ssize_t(sizeof a));
  EXPECT_TRUE(clock_->report().plugin);
}

TEST_F(GuestClockTest, AHostilePeerIsDroppedAndTheNextOneServed) {
  struct Case {
    const char* what;
    uint32_t magic;
    Kind kind;
    uint64_t ns;
  };
  for (Case c : {Case{"not the protocol", 0xdeadbeef, Kind::Hello, 0}, Case{"an unknown kind", kMagic, Kind(77), 0},
                 Case{"time going back", kMagic, Kind::Held, 1}}) {
    SCOPED_TRACE(c.what);
    UniqueFd p = connect_peer();
    ASSERT_TRUE(exchange(p.get(), kMagic, Kind::Hello, 1'000));
    EXPECT_FALSE(exchange(p.get(), c.magic, c.kind, c.ns));
    EXPECT_FALSE(clock_->report().plugin);
    char byte;
    EXPECT_EQ(::recv(p.get(), &byte, 1, MSG_DONTWAIT), 0) << "the dropped peer's connection is closed";
  }
  UniqueFd good = connect_peer();
  EXPECT_TRUE(exchange(good.get(), kMagic, Kind::Hello, 0));
}

TEST_F(GuestClockTest, ASecondPluginIsTurnedAwayAndTheFirstKeepsItsClock) {
  UniqueFd first = connect_peer();
  ASSERT_TRUE(exchange(first.get(), kMagic, Kind::Hello, 0));
  UniqueFd second = connect_peer();
  char byte;
  EXPECT_EQ(::recv(second.get(), &byte, 1, MSG_DONTWAIT), 0) << "turned away: closed";
  EXPECT_TRUE(exchange(first.get(), kMagic, Kind::Held, 1'000'000));
}

TEST_F(GuestClockTest, AStoppedGuestStaysHeldUntilItIsToldToRunOn) {
  ASSERT_TRUE(clock_->run_until(sim::at_ns(0)));  // held from its start
  UniqueFd p = connect_peer();
  EXPECT_FALSE(exchange(p.get(), kMagic, Kind::Hello, 2'000)) << "no answer: held";
  EXPECT_TRUE(clock_->report().plugin);
  EXPECT_TRUE(clock_->held());
  EXPECT_TRUE(clock_->report().held);
  EXPECT_EQ(sim::count_ns(clock_->soonest()), 2'000u) << "what the test starts now lands at the held time";
  EXPECT_FALSE(clock_->run_until(sim::at_ns(1'000))) << "guest time does not go back";

  ASSERT_TRUE(clock_->run_until(sim::at_ns(500'000)));
  loop_->run_once(0);
  ToPlugin a{};
  ASSERT_EQ(::recv(p.get(), &a, sizeof a, MSG_DONTWAIT), ssize_t(sizeof a));
  EXPECT_EQ(a.until_ns, 500'000u) << "the stop comes before the quantum's end";
  EXPECT_FALSE(clock_->held());
  EXPECT_FALSE(exchange(p.get(), kMagic, Kind::Held, 500'000)) << "held again at the stop";
  EXPECT_EQ(clock_->report().stop_ns, 500'000u);

  ASSERT_TRUE(clock_->run_until(std::nullopt));
  ASSERT_EQ(::recv(p.get(), &a, sizeof a, MSG_DONTWAIT), ssize_t(sizeof a));
  EXPECT_EQ(a.until_ns, 500'000u + 1'000'000u) << "runs freely: a quantum";
}

TEST_F(GuestClockTest, AnAlarmMakesAHoldAtItsTimeAndGoesOffThere) {
  UniqueFd p = connect_peer();
  ASSERT_TRUE(exchange(p.get(), kMagic, Kind::Hello, 0));
  std::vector<std::pair<uint64_t, bool>> rang;
  auto alarm = [&](sim::SteadyTime now, bool reached) { rang.emplace_back(sim::count_ns(now), reached); };
  ASSERT_TRUE(clock_->add_alarm(sim::at_ns(250'000), 1, alarm));
  ASSERT_TRUE(clock_->add_alarm(sim::at_ns(400'000), 2, alarm));
  clock_->remove_alarms(2);
  auto held = exchange(p.get(), kMagic, Kind::Held, 100'000);  // an idle hold before it
  ASSERT_TRUE(held);
  EXPECT_TRUE(rang.empty());
  EXPECT_EQ(held->until_ns, 250'000u);
  ASSERT_TRUE(exchange(p.get(), kMagic, Kind::Held, 250'000));
  ASSERT_EQ(rang, (std::vector<std::pair<uint64_t, bool>>{{250'000, true}}));

  ASSERT_TRUE(clock_->add_alarm(sim::at_ns(100), 1, alarm));  // passed already: at once
  loop_->run_once(0);
  EXPECT_EQ(rang.back(), (std::pair<uint64_t, bool>{250'000, true}));
  EXPECT_EQ(rang.size(), 2u);

  for (size_t i = 0; i < GuestClock::kMaxAlarmsPerOwner; ++i)
    ASSERT_TRUE(clock_->add_alarm(sim::at_ns(9'000'000 + i), 3, alarm));
  EXPECT_FALSE(clock_->add_alarm(sim::at_ns(9'999'999), 3, alarm)) << "one connection's share is full";
  EXPECT_TRUE(clock_->add_alarm(sim::at_ns(9'999'999), 4, alarm)) << "another's is not";
  p.reset();  // the guest leaves: every wait ends, unreached
  loop_->run_once(1000);
  EXPECT_EQ(rang.size(), 2u + GuestClock::kMaxAlarmsPerOwner + 1);
  EXPECT_FALSE(rang.back().second);
}

}  // namespace
}  // namespace vgpio::guest_clock
