// The whole stack through the device socket, driven as QEMU 7.2 and QEMU 10 do.
#include <gtest/gtest.h>

#include "daemon_fixture.h"

namespace vgpio {
namespace {

using namespace gpio;
using driver::GpioDriver;

class Handshake : public testing::DaemonTest {};

TEST_F(Handshake, AsQemu72Does) {
  start({8});
  auto d = connect({.style = GpioDriver::Style::Qemu72});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->request_queue().size(), 256);
  EXPECT_FALSE(d->has_irq());
  EXPECT_EQ(d->config().ngpio, 8);
  auto names = d->line_names();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), (std::vector<std::string>{"sim0", "sim1", "sim2", "sim3", "sim4", "sim5", "sim6", "sim7"}));
  for (uint16_t i = 0; i < 8; ++i) {
    auto r = d->request(kGetDirection, i);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().status, kStatusOk);
    EXPECT_EQ(r.value().value, kDirectionIn);
    EXPECT_EQ(r.value().used_len, 2u);
  }
  EXPECT_EQ(d->request(kSetIrqType, 0, kIrqEdgeBoth).value().status, kStatusErr);
}

TEST_F(Handshake, AsQemu10Does) {
  start({3});
  auto d = connect({.style = GpioDriver::Style::Qemu10});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->request_queue().size(), 64);
  EXPECT_TRUE(d->has_irq());
  for (int i = 0; i < 5; ++i) {  // QEMU 10 asks the backend on every guest config read
    auto c = d->read_config();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().ngpio, 3);
    EXPECT_EQ(c.value().names_size, 15u);
  }
  EXPECT_EQ(d->request(kSetIrqType, 0, kIrqEdgeBoth).value().status, kStatusOk);
}

TEST_F(Handshake, EveryQueueSizeDirectAndIndirect) {
  start({4});
  for (uint32_t size = 1; size <= 32768; size *= 2) {
    for (bool indirect : {false, true}) {
      // A request is two descriptors, indirect or not, and §2.7.5.3.1 allows
      // no chain longer than the queue.
      if (size == 1) continue;
      auto d = connect({.queue_size = static_cast<uint16_t>(size), .indirect = indirect});
      ASSERT_TRUE(d) << size;
      // Enough requests to wrap the smaller rings.
      for (int i = 0; i < 70; ++i) {
        auto r = d->request(kSetValue, 1, i & 1);
        ASSERT_TRUE(r.ok()) << size << " " << indirect << ": " << r.error().message();
        ASSERT_EQ(r.value().status, kStatusOk);
      }
    }
  }
}

TEST_F(Handshake, WithoutEventIdx) {
  start({2});
  auto d = connect({.event_idx = false});
  ASSERT_TRUE(d);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(d->request(kGetValue, 1).value().status, kStatusOk);
}

TEST_F(Handshake, ConcurrentRequestsOnDifferentLines) {
  start({16});
  auto d = connect();
  ASSERT_TRUE(d);
  for (uint16_t i = 0; i < 16; ++i) ASSERT_EQ(d->request(kSetDirection, i, kDirectionOut).value().status, kStatusOk);
  std::vector<GpioDriver::Ticket> tickets;
  for (uint16_t i = 0; i < 16; ++i) tickets.push_back(d->submit(kSetValue, i, i % 3 == 0).value());
  for (auto t : tickets) ASSERT_EQ(d->wait(t).value().status, kStatusOk);
  for (uint16_t i = 0; i < 16; ++i) tickets[i] = d->submit(kGetValue, i).value();
  for (uint16_t i = 0; i < 16; ++i) EXPECT_EQ(d->wait(tickets[i]).value().value, i % 3 == 0) << i;
}

TEST_F(Handshake, RequestsForOneLineAreAnsweredInOrder) {
  start({2});
  auto d = connect();
  ASSERT_TRUE(d);
  std::vector<std::pair<GpioDriver::Ticket, int>> expected;  // ticket, value GET_VALUE must see
  EXPECT_OK(d->submit(kSetDirection, 0, kDirectionOut));
  for (int round = 0; round < 15; ++round) {  // 31 requests in flight fit a queue of 64
    int v = (round * 7) % 2;
    EXPECT_OK(d->submit(kSetValue, 0, v));
    expected.push_back({d->submit(kGetValue, 0).value(), v});
  }
  for (auto [ticket, v] : expected) EXPECT_EQ(d->wait(ticket).value().value, v);
}

TEST_F(Handshake, TwoDevicesAreIndependent) {
  start({4, 2});
  auto a = connect({}, 0);
  auto b = connect({}, 1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->config().ngpio, 4);
  EXPECT_EQ(b->config().ngpio, 2);
  EXPECT_OK(a->request(kSetDirection, 1, kDirectionOut));
  EXPECT_OK(a->request(kSetValue, 1, 1));
  EXPECT_EQ(status(1, 0).value, 1);
  EXPECT_EQ(status(1, 1).value, 0);
}

TEST_F(Handshake, ProbeWorksAgainstTheLargestDevice) {
  start({65535});
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config().ngpio, 65535);
  auto names = d->line_names();
  ASSERT_TRUE(names.ok()) << names.error().message();
  EXPECT_EQ(names.value().back(), "sim65534");
  EXPECT_EQ(d->request(kSetDirection, 65534, kDirectionOut).value().status, kStatusOk);
  EXPECT_EQ(d->request(kSetValue, 65534, 1).value().status, kStatusOk);
  EXPECT_EQ(status(65534).value, 1);
  EXPECT_EQ(d->request(kGetValue, 65535).value().status, kStatusErr);  // gpio >= ngpio... as u16 it wraps to 65535
}

}  // namespace
}  // namespace vgpio
