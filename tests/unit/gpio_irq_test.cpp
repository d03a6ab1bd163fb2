// The interrupt state machine, virtio 1.2 §5.18.6.6 and §5.18.7.
#include <gtest/gtest.h>

#include "fake_guest.h"
#include "gpio/gpio_device.h"
#include "lines/sim_line.h"

namespace vgpio {
namespace {

using namespace gpio;
using testing::FakeGuest;
using testing::gpio_request;
using testing::SentChain;

class GpioIrq : public ::testing::Test {
 protected:
  GpioIrq() {
    std::vector<std::unique_ptr<lines::Line>> lines;
    for (int i = 0; i < 4; ++i) lines.push_back(std::make_unique<lines::SimLine>("l" + std::to_string(i)));
    dev_ = gpio::GpioDevice::create("irq", std::move(lines)).release_value();
    guest_ = std::make_unique<FakeGuest>(*dev_);
  }
  ~GpioIrq() override { guest_.reset(); }

  // Queues the eventq buffer for `gpio` (unmask).
  SentChain unmask(uint16_t gpio) {
    auto sent = guest_->chain(kEventQueue).readable(gpio).writable(1).submit();
    guest_->kick(kEventQueue);
    return sent;
  }
  // The next returned eventq buffer as {head, status}, checking its length is 1.
  std::optional<std::pair<uint16_t, uint8_t>> event(const std::vector<SentChain>& sent) {
    auto u = guest_->used(kEventQueue);
    if (!u) return std::nullopt;
    EXPECT_EQ(u->len, 1u);
    for (const auto& s : sent)
      if (s.head == u->id) return std::make_pair(u->id, guest_->read(s.writable[0], 1)[0]);
    ADD_FAILURE() << "unknown eventq head " << u->id;
    return std::nullopt;
  }
  void enable(uint16_t gpio, uint8_t type) {
    ASSERT_EQ(gpio_request(*guest_, kSetIrqType, gpio, type).status, kStatusOk);
  }

  std::unique_ptr<gpio::GpioDevice> dev_;
  std::unique_ptr<FakeGuest> guest_;
};

TEST_F(GpioIrq, EdgeFiresOnlyWhenEnabledAndUnmasked) {
  gpio_request(*guest_, kSetDirection, 0, kDirectionIn);
  ASSERT_TRUE(dev_->drive(0, true).ok());  // not enabled: nothing latched
  enable(0, kIrqEdgeRising);
  auto s = unmask(0);
  EXPECT_FALSE(event({s}));
  ASSERT_TRUE(dev_->drive(0, false).ok());  // falling: not wanted
  EXPECT_FALSE(event({s}));
  ASSERT_TRUE(dev_->drive(0, true).ok());
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusValid);
  EXPECT_GE(guest_->notifications(kEventQueue), 1);
}

// The control thread lets the guest run before it tells watchers about an
// edge that interrupted it (ControlServer::let_guests_run): only such edges.
TEST_F(GpioIrq, AChangeSaysWhetherItInterruptedTheGuest) {
  std::vector<gpio::LineChange> changes;
  dev_->set_observer([&](const gpio::LineChange& c) {
    if (c.field == gpio::LineChange::Field::Value) changes.push_back(c);
  });
  gpio_request(*guest_, kSetDirection, 0, kDirectionIn);
  enable(0, kIrqEdgeBoth);
  ASSERT_TRUE(dev_->drive(0, true).ok());  // masked: latched, no interrupt
  auto s = unmask(0);                      // the latched edge goes now
  ASSERT_TRUE(event({s}));
  s = unmask(0);
  ASSERT_TRUE(dev_->drive(0, false).ok());  // unmasked: interrupts
  ASSERT_TRUE(event({s}));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_FALSE(changes[0].interrupted_guest);
  EXPECT_TRUE(changes[1].interrupted_guest);
}

TEST_F(GpioIrq, EdgesAreLatchedWhileMasked) {
  enable(1, kIrqEdgeBoth);
  ASSERT_TRUE(dev_->drive(1, true).ok());
  ASSERT_TRUE(dev_->drive(1, false).ok());
  EXPECT_TRUE(dev_->status(1).irq_pending);
  auto s = unmask(1);
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusValid);
  EXPECT_FALSE(event({s}));  // two edges latched are one interrupt
  auto s2 = unmask(1);
  EXPECT_FALSE(event({s2}));
}

TEST_F(GpioIrq, LevelFiresAgainAtUnmaskWhileActive) {
  enable(2, kIrqLevelHigh);
  ASSERT_TRUE(dev_->drive(2, true).ok());
  EXPECT_FALSE(dev_->status(2).irq_pending);  // levels are not latched
  auto s = unmask(2);
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusValid);
  auto s2 = unmask(2);  // still high: fires again at once
  ASSERT_TRUE(event({s2}));
  ASSERT_TRUE(dev_->drive(2, false).ok());
  auto s3 = unmask(2);  // low now: stays queued
  EXPECT_FALSE(event({s3}));
  ASSERT_TRUE(dev_->drive(2, true).ok());  // becomes active while unmasked
  ASSERT_TRUE(event({s3}));
}

TEST_F(GpioIrq, LevelLow) {
  enable(3, kIrqLevelLow);
  auto s = unmask(3);  // the line idles low: active at once
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusValid);
  ASSERT_TRUE(dev_->drive(3, true).ok());
  auto s2 = unmask(3);
  EXPECT_FALSE(event({s2}));
  ASSERT_TRUE(dev_->drive(3, false).ok());
  ASSERT_TRUE(event({s2}));
}

TEST_F(GpioIrq, DisablingReturnsTheBufferInvalidBeforeAnswering) {
  enable(0, kIrqEdgeRising);
  auto s = unmask(0);
  Request none{kSetIrqType, 0, kIrqNone};
  auto req = guest_->chain(kRequestQueue).readable(none).writable(2).submit();
  int event_notifications = guest_->notifications(kEventQueue);
  int request_notifications = guest_->notifications(kRequestQueue);
  // Record which call fired first.
  std::vector<int> order;
  dev_->queue(kEventQueue).set_notifier([&] { order.push_back(kEventQueue); });
  dev_->queue(kRequestQueue).set_notifier([&] { order.push_back(kRequestQueue); });
  guest_->kick(kRequestQueue);
  EXPECT_EQ(order, (std::vector<int>{kEventQueue, kRequestQueue}));
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusInvalid);
  auto u = guest_->used(kRequestQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, req.head);
  EXPECT_EQ(guest_->read(req.writable[0], 1)[0], kStatusOk);
  (void)event_notifications;
  (void)request_notifications;
}

TEST_F(GpioIrq, DisablingDiscardsLatchedEdges) {
  enable(0, kIrqEdgeBoth);
  ASSERT_TRUE(dev_->drive(0, true).ok());
  enable(0, kIrqNone);
  enable(0, kIrqEdgeBoth);
  auto s = unmask(0);
  EXPECT_FALSE(event({s}));
}

TEST_F(GpioIrq, BufferForADisabledLineComesBackInvalid) {
  auto s = unmask(1);
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusInvalid);
}

TEST_F(GpioIrq, SecondBufferForOneLineComesBackInvalid) {
  enable(1, kIrqEdgeRising);
  auto first = unmask(1);
  auto second = unmask(1);
  auto e = event({first, second});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, second.head);
  EXPECT_EQ(e->second, kIrqStatusInvalid);
  ASSERT_TRUE(dev_->drive(1, true).ok());
  e = event({first, second});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, first.head);
  EXPECT_EQ(e->second, kIrqStatusValid);
}

TEST_F(GpioIrq, SameTypeTwiceIsAccepted) {
  enable(0, kIrqEdgeFalling);
  enable(0, kIrqEdgeFalling);
  EXPECT_EQ(dev_->status(0).irq_type, kIrqEdgeFalling);
}

TEST_F(GpioIrq, NoInterruptsOnOutputs) {
  gpio_request(*guest_, kSetDirection, 0, kDirectionOut);
  EXPECT_EQ(gpio_request(*guest_, kSetIrqType, 0, kIrqEdgeBoth).status, kStatusErr);
  EXPECT_EQ(gpio_request(*guest_, kSetIrqType, 0, kIrqNone).status, kStatusOk);
}

TEST_F(GpioIrq, OutputDirectionDisablesAnInterrupt) {
  enable(0, kIrqEdgeBoth);
  auto s = unmask(0);
  gpio_request(*guest_, kSetDirection, 0, kDirectionOut);
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusInvalid);
  EXPECT_EQ(dev_->status(0).irq_type, kIrqNone);
}

TEST_F(GpioIrq, DirectionNoneDisablesAndReturnsTheBuffer) {
  enable(2, kIrqLevelHigh);
  auto s = unmask(2);
  gpio_request(*guest_, kSetDirection, 2, kDirectionNone);
  auto e = event({s});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->second, kIrqStatusInvalid);
  EXPECT_EQ(dev_->status(2).irq_type, kIrqNone);
}

TEST_F(GpioIrq, BadEventBuffers) {
  uint16_t big = 99;
  auto s1 = guest_->chain(kEventQueue).readable(big).writable(1).submit();  // no such line
  auto s2 = guest_->chain(kEventQueue).writable(1).submit();                // no request part
  uint8_t one = 0;
  auto s3 = guest_->chain(kEventQueue).readable(one).writable(1).submit();  // 1-byte request
  uint16_t line = 0;
  guest_->chain(kEventQueue).readable(line).submit();  // no response part
  guest_->kick(kEventQueue);
  std::vector<uint32_t> lens;
  while (auto u = guest_->used(kEventQueue)) lens.push_back(u->len);
  EXPECT_EQ(lens, (std::vector<uint32_t>{1, 1, 1, 0}));
  for (auto* s : {&s1, &s2, &s3}) EXPECT_EQ(guest_->read(s->writable[0], 1)[0], kIrqStatusInvalid);
}

TEST_F(GpioIrq, StoppingTheEventQueueHandsBuffersBack) {
  enable(0, kIrqEdgeRising);
  enable(1, kIrqEdgeRising);
  auto s0 = unmask(0);
  auto s1 = unmask(1);
  dev_->on_queue_stopping(kEventQueue);
  auto a = event({s0, s1});
  auto b = event({s0, s1});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->second, kIrqStatusInvalid);
  EXPECT_EQ(b->second, kIrqStatusInvalid);
  EXPECT_EQ(dev_->status(0).irq_type, kIrqEdgeRising);  // still enabled: the driver re-queues
}

TEST_F(GpioIrq, NoIrqWithoutTheFeature) {
  guest_.reset();
  guest_ = std::make_unique<FakeGuest>(*dev_, 64, virtio::ring::kFeatureVersion1);
  EXPECT_EQ(gpio_request(*guest_, kSetIrqType, 0, kIrqEdgeRising).status, kStatusErr);
}

TEST_F(GpioIrq, ResetReleasesEverything) {
  gpio_request(*guest_, kSetValue, 0, 1);
  gpio_request(*guest_, kSetDirection, 0, kDirectionOut);
  enable(1, kIrqEdgeRising);
  unmask(1);
  dev_->reset();
  EXPECT_EQ(dev_->status(0).direction, kDirectionNone);
  EXPECT_EQ(dev_->status(0).value, 0);
  EXPECT_EQ(dev_->status(1).irq_type, kIrqNone);
  EXPECT_FALSE(dev_->status(1).irq_unmasked);
}

}  // namespace
}  // namespace vgpio
