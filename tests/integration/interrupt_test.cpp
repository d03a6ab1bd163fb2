// The interrupt state machine through the socket, with edges driven from the
// harness side (the control socket or the device loop).
#include <gtest/gtest.h>

#include "daemon_fixture.h"

namespace vgpio {
namespace {

using namespace gpio;
using namespace std::chrono_literals;

class Interrupts : public testing::DaemonTest {
 protected:
  void SetUp() override {
    start({4});
    d_ = connect();
    ASSERT_TRUE(d_);
    ASSERT_TRUE(d_->has_irq());
  }
  void TearDown() override {
    d_.reset();
    DaemonTest::TearDown();
  }
  void enable(uint16_t line, uint8_t type) {
    ASSERT_EQ(d_->request(kSetIrqType, line, type).value().status, kStatusOk);
  }
  std::optional<driver::IrqEvent> event(std::chrono::milliseconds wait = 10000ms) {
    auto e = d_->wait_event(wait);
    EXPECT_TRUE(e.ok());
    return e.ok() ? e.value() : std::nullopt;
  }
  // Kicks on two queues may be served in either order: wait until the device
  // holds the buffer before testing what it does with it.
  void unmask_and_wait(uint16_t line) {
    ASSERT_TRUE(d_->unmask(line).ok());
    eventually([&] { return status(line).irq_unmasked; });
    ASSERT_TRUE(status(line).irq_unmasked);
  }
  // For "nothing arrives": a short look is enough, nothing is judged on time.
  void expect_no_event() { EXPECT_FALSE(event(100ms)); }

  std::unique_ptr<driver::GpioDriver> d_;
};

TEST_F(Interrupts, EdgeThroughTheControlSocket) {
  EXPECT_OK(d_->request(kSetDirection, 0, kDirectionIn));
  enable(0, kIrqEdgeRising);
  ASSERT_TRUE(d_->unmask(0).ok());
  auto ctl = control();
  ASSERT_TRUE(ctl.call({{"cmd", "set"}, {"device", "dev0"}, {"line", "sim0"}, {"value", 1}}).ok());
  auto e = event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->gpio, 0);
  EXPECT_EQ(e->status, kIrqStatusValid);
  EXPECT_EQ(e->used_len, 1u);
  EXPECT_EQ(d_->request(kGetValue, 0).value().value, 1);
}

TEST_F(Interrupts, EveryToggleIsSeenWhenPaced) {
  enable(1, kIrqEdgeBoth);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(d_->unmask(1).ok());
    drive(1, i % 2 == 0);
    auto e = event();
    ASSERT_TRUE(e) << "toggle " << i;
    ASSERT_EQ(e->status, kIrqStatusValid);
  }
  expect_no_event();
}

TEST_F(Interrupts, EdgesLatchedWhileMaskedAndLevelsRecheckedAtUnmask) {
  enable(2, kIrqEdgeFalling);
  drive(2, true);
  drive(2, false);  // latched: masked
  ASSERT_TRUE(d_->unmask(2).ok());
  auto e = event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, kIrqStatusValid);
  enable(3, kIrqLevelHigh);
  drive(3, true);
  ASSERT_TRUE(d_->unmask(3).ok());
  ASSERT_TRUE(event());
  ASSERT_TRUE(d_->unmask(3).ok());  // still high
  ASSERT_TRUE(event());
  drive(3, false);
  ASSERT_TRUE(d_->unmask(3).ok());
  expect_no_event();
  drive(3, true);
  ASSERT_TRUE(event());
}

TEST_F(Interrupts, DisableReturnsBufferInvalidBeforeTheAnswer) {
  enable(0, kIrqEdgeBoth);
  unmask_and_wait(0);
  ASSERT_EQ(d_->request(kSetIrqType, 0, kIrqNone).value().status, kStatusOk);
  // The answer has come, so the buffer must already be back: no waiting.
  auto e = d_->wait_event(0ms);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e.value());
  EXPECT_EQ(e.value()->status, kIrqStatusInvalid);
  drive(0, true);
  expect_no_event();
}

TEST_F(Interrupts, BufferForDisabledLineComesBackInvalid) {
  ASSERT_TRUE(d_->unmask(1).ok());
  auto e = event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, kIrqStatusInvalid);
}

TEST_F(Interrupts, NothingIsSentToAMaskedOrDisabledLine) {
  enable(0, kIrqEdgeRising);
  drive(0, true);  // latched, but masked
  expect_no_event();
  enable(0, kIrqNone);
  ASSERT_TRUE(d_->unmask(0).ok());
  auto e = event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, kIrqStatusInvalid);  // the latch went with the disable
}

}  // namespace
}  // namespace vgpio
