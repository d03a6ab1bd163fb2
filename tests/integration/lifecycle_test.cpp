// Frontends that leave, misbehave or crowd in; the daemon survives them all.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "base/unix_socket.h"
#include "daemon_fixture.h"
#include "vhost_user/message_io.h"

namespace vgpio {
namespace {

using namespace gpio;
using namespace vhost;

class Lifecycle : public testing::DaemonTest {
 protected:
  void SetUp() override { start({4}); }
  // After whatever happened, a fresh frontend is served normally.
  void expect_device_works() {
    auto d = connect();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->request(kGetDirection, 3).value().value, kDirectionIn);
  }
};

TEST_F(Lifecycle, DisconnectMidRequestReleasesLinesAndServesTheNextFrontend) {
  {
    auto d = connect();
    ASSERT_TRUE(d);
    EXPECT_OK(d->request(kSetValue, 2, 1));
    EXPECT_OK(d->request(kSetDirection, 2, kDirectionOut));
    EXPECT_OK(d->request(kSetIrqType, 1, kIrqEdgeBoth));
    EXPECT_OK(d->unmask(1));
    EXPECT_EQ(status(2).value, 1);
    for (int i = 0; i < 10; ++i) EXPECT_OK(d->submit(kSetValue, 3, i & 1));  // never collected
  }
  // The session ends on the device thread; wait for it, never judge by time.
  eventually([&] { return status(2).direction == kDirectionNone; });
  EXPECT_EQ(status(2).direction, kDirectionNone);
  EXPECT_EQ(status(2).value, 0);  // back to the safe level
  EXPECT_EQ(status(1).irq_type, kIrqNone);
  expect_device_works();
}

TEST_F(Lifecycle, DisconnectInsideAMessage) {
  for (size_t cut : {size_t{1}, size_t{11}, size_t{12}, size_t{15}}) {
    auto fd = connect_unix(socket()).release_value();
    uint8_t msg[20] = {};
    Header h{kSetFeatures, kVersion, 8};
    std::memcpy(msg, &h, sizeof h);
    ASSERT_EQ(::send(fd.get(), msg, cut, MSG_NOSIGNAL), static_cast<ssize_t>(cut));
  }
  expect_device_works();
}

TEST_F(Lifecycle, SecondFrontendIsRefusedWhileTheFirstIsConnected) {
  auto first = connect();
  ASSERT_TRUE(first);
  auto second = driver::GpioDriver::connect(socket());
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(first->request(kGetValue, 0).value().status, kStatusOk);
  first.reset();
  for (int i = 0; i < 100; ++i) {
    if (driver::GpioDriver::connect(socket()).ok()) return;
    usleep(10000);
  }
  FAIL() << "the device was not free after the first frontend left";
}

// Raw messages: a frontend with REPLY_ACK negotiated, then abuse.
class BadMessages : public Lifecycle {
 protected:
  void SetUp() override {
    Lifecycle::SetUp();
    fd_ = connect_unix(socket()).release_value();
    timeval tv{5, 0};
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t proto = kProtoReplyAck | kProtoConfig;
    ASSERT_TRUE(write_struct(fd_.get(), kSetProtocolFeatures, kVersion, proto).ok());
  }
  // Sends with NEED_REPLY and returns the ack value (0 = success).
  uint64_t acked(uint32_t request, std::vector<uint8_t> payload, std::vector<int> fds = {}) {
    Header h{request, kVersion | kFlagNeedReply, static_cast<uint32_t>(payload.size())};
    EXPECT_TRUE(write_message(fd_.get(), h, payload, fds).ok());
    auto m = read_message(fd_.get());
    EXPECT_TRUE(m.ok() && m.value());
    if (!m.ok() || !m.value()) return ~0ull;
    EXPECT_EQ(m.value()->header.request, request);
    uint64_t v = ~0ull;
    if (m.value()->payload.size() == 8) std::memcpy(&v, m.value()->payload.data(), 8);
    return v;
  }
  std::optional<Message> call(uint32_t request, std::vector<uint8_t> payload) {
    Header h{request, kVersion, static_cast<uint32_t>(payload.size())};
    EXPECT_TRUE(write_message(fd_.get(), h, payload).ok());
    auto m = read_message(fd_.get());
    return m.ok() ? std::move(m.value()) : std::nullopt;
  }
  bool closed_by_daemon() {
    char b;
    return recv(fd_.get(), &b, 1, 0) == 0;
  }
  template <typename T>
  static std::vector<uint8_t> bytes(const T& v) {
    return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&v), reinterpret_cast<const uint8_t*>(&v) + sizeof v);
  }
  UniqueFd fd_;
};

TEST_F(BadMessages, RejectedWithAnErrorReplyAndTheSessionGoesOn) {
  UniqueFd e1(eventfd(0, EFD_CLOEXEC)), e2(eventfd(0, EFD_CLOEXEC));
  EXPECT_NE(acked(99, {}), 0u);                                     // unknown request
  EXPECT_NE(acked(kSetFeatures, {1, 2, 3, 4}), 0u);                 // short payload
  EXPECT_NE(acked(kSetFeatures, bytes<uint64_t>(1ull << 50)), 0u);  // not offered
  EXPECT_NE(acked(kSetVringNum, bytes(VringState{0, 3})), 0u);      // not a power of two
  EXPECT_NE(acked(kSetVringNum, bytes(VringState{0, 65536})), 0u);
  EXPECT_NE(acked(kSetVringNum, bytes(VringState{7, 64})), 0u);  // no such vring
  EXPECT_NE(acked(kSetVringBase, bytes(VringState{0, 70000})), 0u);
  EXPECT_NE(acked(kSetVringKick, bytes<uint64_t>(0), {e1.get(), e2.get()}), 0u);  // two fds
  EXPECT_NE(acked(kSetVringCall, bytes<uint64_t>(0)), 0u);                        // fd missing
  EXPECT_NE(acked(kSetVringKick, bytes<uint64_t>(1 << 8)), 0u);                   // polling: not supported
  EXPECT_NE(acked(kSetVringEnable, bytes(VringState{0, 2})), 0u);
  EXPECT_NE(acked(kSetOwner, {}, {e1.get()}), 0u);  // unexpected fd
  MemoryTableHeader nine{9, 0};
  EXPECT_NE(acked(kSetMemTable, bytes(nine)), 0u);
  MemoryTableHeader one{1, 0};
  auto table = bytes(one);
  MemoryRegion r{0, 1 << 20, 0x1000000, 0};
  auto rb = bytes(r);
  table.insert(table.end(), rb.begin(), rb.end());
  EXPECT_NE(acked(kSetMemTable, table), 0u);                       // fd missing
  EXPECT_NE(acked(kSetMemTable, table, {e1.get()}), 0u);           // an eventfd is no memory
  EXPECT_NE(acked(kSetConfig, std::vector<uint8_t>(12 + 8)), 0u);  // read-only
  EXPECT_EQ(acked(kSetOwner, {}), 0u);                             // still alive and well
  // GET_CONFIG errors are an empty payload.
  for (auto h : {ConfigHeader{6, 4, 0}, ConfigHeader{0, 300, 0}, ConfigHeader{0xffffffff, 8, 0}}) {
    auto payload = bytes(h);
    payload.resize(12 + std::min<uint32_t>(h.size, 300));
    auto m = call(kGetConfig, payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload.size(), 0u);
  }
  auto good = bytes(ConfigHeader{4, 4, 0});
  good.resize(16);
  auto m = call(kGetConfig, good);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.size(), 16u);
}

TEST_F(BadMessages, StreamErrorsCloseTheConnectionOnly) {
  Header bad_version{kGetFeatures, 0x2, 0};
  ASSERT_TRUE(write_message(fd_.get(), bad_version, {}).ok());
  EXPECT_TRUE(closed_by_daemon());
  expect_device_works();
}

TEST_F(BadMessages, OversizedPayloadClosesTheConnection) {
  Header huge{kSetFeatures, kVersion, 1 << 20};
  ASSERT_TRUE(write_message(fd_.get(), huge, {}).ok());
  EXPECT_TRUE(closed_by_daemon());
  expect_device_works();
}

TEST_F(BadMessages, AnUnanswerableQuestionClosesTheConnection) {
  ASSERT_TRUE(write_struct(fd_.get(), kGetVringBase, kVersion, VringState{9, 0}).ok());
  EXPECT_TRUE(closed_by_daemon());
  expect_device_works();
}

TEST_F(BadMessages, RingsOutsideMemoryDoNotStart) {
  UniqueFd kick(eventfd(0, EFD_CLOEXEC));
  EXPECT_EQ(acked(kSetVringNum, bytes(VringState{0, 64})), 0u);
  EXPECT_EQ(acked(kSetVringAddr, bytes(VringAddr{0, 0, 0x1000, 0x3000, 0x2000, 0})), 0u);
  EXPECT_EQ(acked(kSetVringKick, bytes<uint64_t>(0), {kick.get()}), 0u);  // logged: no memory there
  uint64_t one = 1;
  ASSERT_EQ(write(kick.get(), &one, 8), 8);  // a kick on a ring that never started
  EXPECT_EQ(acked(kSetOwner, {}), 0u);
}

}  // namespace
}  // namespace vgpio

namespace vgpio {
namespace {

using namespace gpio;
using namespace std::chrono_literals;

class Session : public testing::DaemonTest {
 protected:
  void SetUp() override { start({4}); }
};

TEST_F(Session, MemoryFromSetMemTable) {
  auto d = connect({.mem_table = true});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->request(kSetDirection, 0, kDirectionOut).value().status, kStatusOk);
  EXPECT_EQ(d->line_names().value().size(), 4u);
}

TEST_F(Session, RingsStopAndRestartAsAroundAVmPause) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetValue, 1, 1));
  EXPECT_OK(d->request(kSetDirection, 1, kDirectionOut));
  EXPECT_OK(d->request(kSetIrqType, 2, kIrqEdgeRising));
  EXPECT_OK(d->unmask(2));
  eventually([&] { return status(2).irq_unmasked; });
  ASSERT_TRUE(d->stop_and_restart_rings().ok());
  // The held buffer came back INVALID at the stop (the Linux driver re-queues it).
  auto e = d->wait_event(10000ms);
  ASSERT_TRUE(e.ok() && e.value());
  EXPECT_EQ(e.value()->status, kIrqStatusInvalid);
  // Line state survives a pause; requests and interrupts go on.
  EXPECT_EQ(status(1).value, 1);
  EXPECT_EQ(d->request(kGetValue, 1).value().value, 1);
  EXPECT_OK(d->unmask(2));
  drive(2, true);
  e = d->wait_event(10000ms);
  ASSERT_TRUE(e.ok() && e.value());
  EXPECT_EQ(e.value()->status, kIrqStatusValid);
}

TEST_F(Session, ADriverStartingOverOnFreshRingsIsAVmReset) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetValue, 1, 1));
  EXPECT_OK(d->request(kSetDirection, 1, kDirectionOut));
  EXPECT_EQ(status(1).value, 1);
  // What QEMU sends around a VM reset: the rings stop, and the rebooted
  // guest's driver sets up new ones from index 0. The old driver's output
  // goes back to its safe level (0), and the new driver is served.
  ASSERT_TRUE(d->restart_as_new_driver().ok());
  eventually([&] { return status(1).direction == kDirectionNone; });
  EXPECT_EQ(status(1).direction, kDirectionNone);
  EXPECT_EQ(status(1).value, 0);
  EXPECT_OK(d->request(kSetDirection, 2, kDirectionOut));
  EXPECT_EQ(d->request(kGetDirection, 2).value().value, kDirectionOut);
  // A pause right after, on those rings, keeps what the new driver set.
  ASSERT_TRUE(d->stop_and_restart_rings().ok());
  EXPECT_EQ(d->request(kGetDirection, 2).value().value, kDirectionOut);
}

TEST_F(Session, ResetDeviceAndStatus) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetDirection, 3, kDirectionOut));
  auto st = d->frontend().get_u64(vhost::kGetStatus);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st.value(), 0xfu);
  EXPECT_OK(d->frontend().send(vhost::kResetDevice));
  EXPECT_EQ(status(3).direction, kDirectionNone);
  EXPECT_EQ(d->frontend().get_u64(vhost::kGetStatus).value(), 0u);
}

}  // namespace
}  // namespace vgpio
