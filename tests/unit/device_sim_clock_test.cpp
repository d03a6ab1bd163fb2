// DeviceSim on a guest's clock (src/sim/device_sim.cpp), with a clock the test
// moves by hand: a wire's level reaches a device on guest time at the guest's
// next hold, its delay counted in guest time from there. (The real guest
// clock is tested in GuestClockTest and guest.guest_clock.)
#include <gtest/gtest.h>

#include "gpio/gpio_device.h"
#include "lines/sim_line.h"
#include "sim/device_sim.h"

namespace vgpio::sim {
namespace {

using namespace std::chrono_literals;

// A guest's clock: held (time stands still) or running towards `next_hold`.
class ManualClock : public SimClock {
 public:
  SteadyTime now() const override { return now_; }
  SteadyTime soonest() const override { return held_ ? now_ : next_hold_; }
  bool held() const override { return held_; }
  void wake_at(std::optional<SteadyTime> when) override { wake_time_ = when; }
  const char* name() const override { return "guest"; }
  // A hold at `t` wakes the simulation, as GuestClock's do.
  void hold_at(SteadyTime t) {
    now_ = t;
    wake_time_.reset();
    if (wake_) wake_();
  }
  SteadyTime now_ = at_ns(1'000'000);
  SteadyTime next_hold_ = at_ns(2'000'000);
  bool held_ = false;
  std::optional<SteadyTime> wake_time_;
};

class DeviceSimOnGuestTime : public ::testing::Test {
 protected:
  DeviceSimOnGuestTime() {
    std::vector<std::unique_ptr<lines::Line>> lines;
    for (int i = 0; i < 2; ++i) lines.push_back(std::make_unique<lines::SimLine>("line" + std::to_string(i)));
    device_ = gpio::GpioDevice::create("d", std::move(lines)).release_value();
    loop_ = EventLoop::create().release_value();
    sim_ = DeviceSim::create(*loop_, *device_, &clock_).release_value();
  }
  std::shared_ptr<Wire> wire_into_line1(std::chrono::nanoseconds delay) {
    auto wire =
        Wire::create({.from_device = "src", .from_line = "0", .to_device = "d", .to_line = "1", .delay = delay}, 0, 1)
            .release_value();
    EXPECT_TRUE(sim_->attach_incoming(wire));
    return wire;
  }
  std::optional<uint8_t> level() { return device_->status(1).value; }

  ManualClock clock_;
  std::unique_ptr<gpio::GpioDevice> device_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<DeviceSim> sim_;
};

TEST_F(DeviceSimOnGuestTime, AWireLevelComesAtTheNextHoldPlusItsDelayInGuestTime) {
  auto wire = wire_into_line1(5ms);
  wire->send(true);
  loop_->run_once(1000);
  EXPECT_EQ(level(), 0) << "not while the guest runs";
  EXPECT_EQ(clock_.wake_time_, at_ns(2'000'000) + 5ms) << "the next hold, plus the delay";
  clock_.hold_at(at_ns(2'000'000) + 4ms);
  EXPECT_EQ(level(), 0);
  clock_.hold_at(at_ns(2'000'000) + 5ms);
  EXPECT_EQ(level(), 1);
  sim_->detach_incoming(*wire);
}

TEST_F(DeviceSimOnGuestTime, AnUndelayedLevelWaitsForTheHoldAndAHeldGuestTakesItAtOnce) {
  auto wire = wire_into_line1(0ms);
  wire->send(true);
  loop_->run_once(1000);
  EXPECT_EQ(level(), 0) << "the guest runs: at its next hold";
  clock_.hold_at(at_ns(2'000'000));
  EXPECT_EQ(level(), 1);
  clock_.held_ = true;
  wire->send(false);
  loop_->run_once(1000);
  EXPECT_EQ(level(), 0) << "held: its time is now";
  sim_->detach_incoming(*wire);
}

}  // namespace
}  // namespace vgpio::sim
