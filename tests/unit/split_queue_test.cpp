// The split ring against a correct, broken and hostile driver.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <functional>

#include "fake_guest.h"
#include "virtio/device.h"

namespace vgpio {
namespace {

using testing::FakeGuest;
using namespace virtio::ring;

// A device that keeps every chain it is offered, to look at.
class RecordingDevice : public virtio::VirtioDevice {
 public:
  RecordingDevice() : virtio::VirtioDevice(1) {}
  std::vector<virtio::DescriptorChain> chains;
  bool answer_at_once = false;  // complete each chain as it comes, instead of keeping it
  int handled = 0;
  std::function<void()> driver;  // runs where the device lets the driver run
  bool driver_shares_the_cpu = true;
  int yields = 0;
  bool on_queue_kick(size_t i) override {
    return drain_queue(i, [this](virtio::DescriptorChain c) {
      ++handled;
      if (answer_at_once) c.complete(0);
      else chains.push_back(std::move(c));
    });
  }
  void reset() override {
    for (auto& c : chains) c.abandon();
    chains.clear();
  }
  void complete_all(uint32_t len) {
    for (auto& c : chains) c.complete(len);
    chains.clear();
  }

 protected:
  uint64_t device_features() const override { return 0; }
  std::vector<uint8_t> config_space() const override { return {}; }
  void let_the_driver_run() override {
    ++yields;
    if (driver && driver_shares_the_cpu) driver();
  }
};

TEST(SplitQueue, SizeMustBeAPowerOfTwoUpTo32768) {
  virtio::GuestMemory mem;
  virtio::SplitQueue q(mem, 0);
  EXPECT_FALSE(q.set_size(0).ok());
  EXPECT_FALSE(q.set_size(3).ok());
  EXPECT_FALSE(q.set_size(65536).ok());
  EXPECT_FALSE(q.set_size(100).ok());
  for (uint32_t s = 1; s <= kMaxQueueSize; s *= 2) EXPECT_TRUE(q.set_size(s).ok()) << s;
}

TEST(SplitQueue, RingsMustBeAlignedAndInsideMemory) {
  RecordingDevice dev;
  FakeGuest guest(dev, 8);
  virtio::SplitQueue& q = dev.queue(0);
  q.stop();
  auto& d = guest.queue(0);
  q.set_addresses({guest.ram().user_addr(d.desc_gpa()) + 8, guest.ram().user_addr(d.avail_gpa()),
                   guest.ram().user_addr(d.used_gpa())});
  EXPECT_FALSE(q.start().ok());  // descriptor table not 16-aligned
  q.set_addresses({guest.ram().user_addr(FakeGuest::kRamSize - 16), guest.ram().user_addr(d.avail_gpa()),
                   guest.ram().user_addr(d.used_gpa())});
  EXPECT_FALSE(q.start().ok());  // table runs past the end of memory
  q.set_addresses({0x10, 0x1000, 0x2000});
  EXPECT_FALSE(q.start().ok());  // not guest memory at all
}

TEST(SplitQueue, DirectChainIsSplitIntoReadableAndWritable) {
  RecordingDevice dev;
  FakeGuest guest(dev);
  uint32_t in = 0x11223344;
  auto sent = guest.chain(0).readable(in).readable(in).writable(3).writable(5).submit();
  guest.kick(0);
  ASSERT_EQ(dev.chains.size(), 1u);
  virtio::DescriptorChain& c = dev.chains[0];
  EXPECT_FALSE(c.malformed());
  EXPECT_EQ(c.head(), sent.head);
  EXPECT_EQ(c.readable_length(), 8u);
  EXPECT_EQ(c.writable_length(), 8u);
  uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(c.write(0, out, 8).ok());  // spans both writable buffers
  EXPECT_FALSE(c.write(1, out, 8).ok());
  uint32_t back[2];
  ASSERT_TRUE(c.read(0, back, 8).ok());
  EXPECT_EQ(back[1], in);
  dev.complete_all(8);
  auto used = guest.used(0);
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, sent.head);
  EXPECT_EQ(used->len, 8u);
  EXPECT_EQ(guest.read(sent.writable[1], 5), (std::vector<uint8_t>{4, 5, 6, 7, 8}));
}

TEST(SplitQueue, IndirectChain) {
  RecordingDevice dev;
  FakeGuest guest(dev);
  uint64_t v = 7;
  guest.chain(0).readable(v).writable(2).indirect().submit();
  guest.kick(0);
  ASSERT_EQ(dev.chains.size(), 1u);
  EXPECT_FALSE(dev.chains[0].malformed()) << dev.chains[0].problem();
  EXPECT_EQ(dev.chains[0].readable_length(), 8u);
  EXPECT_EQ(dev.chains[0].writable_length(), 2u);
  dev.complete_all(2);
}

struct Hostile {
  const char* what;
  std::function<void(FakeGuest&, driver::DriverQueue&)> build;  // must publish one head
};

// Each of these must come out as a malformed chain, returned with length 0.
TEST(SplitQueue, HostileChainsAreMalformedNotFatal) {
  std::vector<Hostile> cases = {
      {"loop",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{0, 8, kDescNext, 1});
         q.write_desc(1, Desc{0, 8, kDescNext, 0});
         q.publish(0);
       }},
      {"self loop",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{0, 8, kDescNext, 0});
         q.publish(0);
       }},
      {"next beyond table",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{0, 8, kDescNext, 5000});
         q.publish(0);
       }},
      {"buffer outside memory",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{FakeGuest::kRamSize - 4, 8, 0, 0});
         q.publish(0);
       }},
      {"length overflow",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{~0ull - 2, 0xffffffff, 0, 0});
         q.publish(0);
       }},
      {"readable after writable",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{0, 8, kDescWrite | kDescNext, 1});
         q.write_desc(1, Desc{64, 8, 0, 0});
         q.publish(0);
       }},
      {"indirect with next",
       [](FakeGuest& g, driver::DriverQueue& q) {
         uint64_t t = g.ram().alloc(32, 16).release_value();
         q.write_desc(0, Desc{t, 32, kDescIndirect | kDescNext, 1});
         q.publish(0);
       }},
      {"indirect of bad size",
       [](FakeGuest& g, driver::DriverQueue& q) {
         uint64_t t = g.ram().alloc(32, 16).release_value();
         q.write_desc(0, Desc{t, 20, kDescIndirect, 0});
         q.publish(0);
       }},
      {"indirect of size 0",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{0, 0, kDescIndirect, 0});
         q.publish(0);
       }},
      {"indirect table outside memory",
       [](FakeGuest&, driver::DriverQueue& q) {
         q.write_desc(0, Desc{FakeGuest::kRamSize - 16, 32, kDescIndirect, 0});
         q.publish(0);
       }},
      {"indirect within indirect",
       [](FakeGuest& g, driver::DriverQueue& q) {
         uint64_t inner = g.ram().alloc(16, 16).release_value();
         uint64_t outer = g.ram().alloc(16, 16).release_value();
         Desc in{0, 8, 0, 0}, out{inner, 16, kDescIndirect, 0};
         std::memcpy(g.ram().at(inner), &in, 16);
         std::memcpy(g.ram().at(outer), &out, 16);
         q.write_desc(0, Desc{outer, 16, kDescIndirect, 0});
         q.publish(0);
       }},
      {"loop inside indirect",
       [](FakeGuest& g, driver::DriverQueue& q) {
         uint64_t t = g.ram().alloc(32, 16).release_value();
         Desc a{0, 8, kDescNext, 1}, b{0, 8, kDescNext, 0};
         std::memcpy(g.ram().at(t), &a, 16);
         std::memcpy(g.ram().at(t + 16), &b, 16);
         q.write_desc(0, Desc{t, 32, kDescIndirect, 0});
         q.publish(0);
       }},
  };
  for (const auto& c : cases) {
    RecordingDevice dev;
    FakeGuest guest(dev, 16);
    c.build(guest, guest.queue(0));
    guest.kick(0);
    ASSERT_EQ(dev.chains.size(), 1u) << c.what;
    EXPECT_TRUE(dev.chains[0].malformed()) << c.what;
    EXPECT_EQ(dev.chains[0].readable_length() + dev.chains[0].writable_length(), 0u) << c.what;
    dev.complete_all(0);
    auto used = guest.used(0);
    ASSERT_TRUE(used) << c.what;
    EXPECT_EQ(used->len, 0u) << c.what;
  }
}

// §2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the
// Queue Size of the device", indirect tables included.
TEST(SplitQueue, AChainLongerThanTheQueueIsMalformed) {
  for (uint32_t n : {16u, 17u}) {
    RecordingDevice dev;
    FakeGuest guest(dev, 16);
    uint64_t table = guest.ram().alloc(16 * n, 16).release_value();
    for (uint32_t i = 0; i < n; ++i) {
      Desc d{0, 8, static_cast<uint16_t>(i + 1 < n ? kDescNext : 0), static_cast<uint16_t>(i + 1)};
      std::memcpy(guest.ram().at(table + 16 * i), &d, 16);
    }
    guest.queue(0).write_desc(0, Desc{table, 16 * n, kDescIndirect, 0});
    guest.queue(0).publish(0);
    guest.kick(0);
    ASSERT_EQ(dev.chains.size(), 1u) << n;
    EXPECT_EQ(dev.chains[0].malformed(), n > 16) << n << " descriptors: " << dev.chains[0].problem();
    dev.complete_all(0);
  }
}

// §2.7.5.3.1: "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag unless
// the VIRTIO_F_INDIRECT_DESC feature was negotiated."
TEST(SplitQueue, IndirectDescriptorsNeedTheirFeature) {
  for (bool negotiated : {true, false}) {
    RecordingDevice dev;
    uint64_t features = dev.offered_features() & ~(negotiated ? 0 : kFeatureIndirectDesc);
    FakeGuest guest(dev, 16, features);
    uint64_t v = 7;
    guest.chain(0).readable(v).writable(2).indirect().submit();
    guest.kick(0);
    ASSERT_EQ(dev.chains.size(), 1u);
    EXPECT_EQ(dev.chains[0].malformed(), !negotiated) << dev.chains[0].problem();
    dev.complete_all(0);
  }
}

TEST(SplitQueue, HeadBeyondQueueSizeIsSkipped) {
  RecordingDevice dev;
  FakeGuest guest(dev, 16);
  auto& q = guest.queue(0);
  q.write_avail_entry(0, 999);
  q.set_avail_idx(1);
  guest.chain(0).writable(4).submit();  // a good one behind it
  guest.kick(0);
  ASSERT_EQ(dev.chains.size(), 1u);
  EXPECT_FALSE(dev.chains[0].malformed());
  dev.complete_all(0);
}

TEST(SplitQueue, AvailIndexJumpingPastTheSizeBreaksOnlyThatQueue) {
  RecordingDevice dev;
  FakeGuest guest(dev, 16);
  guest.queue(0).set_avail_idx(100);
  guest.kick(0);
  EXPECT_TRUE(dev.queue(0).broken());
  EXPECT_TRUE(dev.chains.empty());
  guest.kick(0);  // stays quiet
  EXPECT_TRUE(dev.chains.empty());
}

TEST(SplitQueue, EveryQueueSizeWorksAcrossIndexWrap) {
  for (uint32_t size = 1; size <= 32768; size *= 2) {
    RecordingDevice dev;
    FakeGuest guest(dev, static_cast<uint16_t>(size));
    // Enough rounds to wrap the ring several times.
    int rounds = size < 64 ? 200 : 3;
    for (int r = 0; r < rounds; ++r) {
      guest.chain(0).writable(1).submit();
      guest.kick(0);
      ASSERT_EQ(dev.chains.size(), 1u) << size;
      dev.complete_all(1);
      ASSERT_TRUE(guest.used(0)) << size;
    }
  }
}

TEST(SplitQueue, EventIdxSuppressesNotificationsTheDriverDidNotAskFor) {
  RecordingDevice dev;
  FakeGuest guest(dev, 16);  // EVENT_IDX negotiated (it is offered)
  ASSERT_TRUE(dev.has_feature(kFeatureEventIdx));
  auto& q = guest.queue(0);
  int notified = 0;
  auto round = [&] {
    guest.chain(0).writable(1).submit();
    guest.kick(0);
    EXPECT_EQ(guest.notifications(0), notified) << "a kick alone must not notify";
    dev.complete_all(1);
    dev.queue(0).notify_if_needed();
    EXPECT_TRUE(q.pop_used());
    notified = guest.notifications(0);
  };
  // used_event starts at 0: the first used buffer (index 0 -> 1) is wanted.
  round();
  EXPECT_EQ(guest.notifications(0), 1);
  // The driver does not re-arm (used_event stays 0): no notification.
  round();
  EXPECT_EQ(guest.notifications(0), 1);
  // Re-armed for the next one: notified again.
  q.rearm_interrupts();
  round();
  EXPECT_EQ(guest.notifications(0), 2);
}

TEST(SplitQueue, WithoutEventIdxNoInterruptFlagIsHonoured) {
  RecordingDevice dev;
  FakeGuest guest(dev, 16, kFeatureVersion1);
  guest.chain(0).writable(1).submit();
  guest.kick(0);
  dev.complete_all(1);
  dev.queue(0).notify_if_needed();
  EXPECT_EQ(guest.notifications(0), 1);
  uint16_t flags = kAvailNoInterrupt;
  std::memcpy(guest.ram().at(guest.queue(0).avail_gpa()), &flags, 2);
  guest.chain(0).writable(1).submit();
  guest.kick(0);
  dev.complete_all(1);
  dev.queue(0).notify_if_needed();
  EXPECT_EQ(guest.notifications(0), 1);
}

// On a CPU it shares with the device, the driver runs at the device's
// notification (the device lets it) and adds its next request then: that
// request is taken in the same wake-up, and it needed no kick.
TEST(SplitQueue, ARequestAddedAtTheNotificationIsTakenWithoutAKick) {
  RecordingDevice dev;
  dev.answer_at_once = true;
  FakeGuest guest(dev, 16);
  int more = 3;
  dev.driver = [&] {
    while (guest.used(0)) {}
    if (more-- <= 0) return;
    guest.chain(0).writable(1).submit();
    EXPECT_FALSE(guest.queue(0).kick_needed()) << "kicks are off while the device is awake";
  };
  guest.chain(0).writable(1).submit();
  ASSERT_TRUE(guest.queue(0).kick_needed());
  guest.kick(0);
  EXPECT_EQ(dev.handled, 4);  // one kick, four requests
  // Asleep again: the next request needs a kick.
  guest.chain(0).writable(1).submit();
  EXPECT_TRUE(guest.queue(0).kick_needed());
}

// Where the driver has a CPU of its own, its next request does not come
// while we yield: after kYieldMisses such yields we stop, and try again
// every kRetryYield notifications. A burst's last yield alone does not stop it.
TEST(SplitQueue, YieldingStopsWhenItBringsNothing) {
  RecordingDevice dev;
  dev.answer_at_once = true;
  dev.driver_shares_the_cpu = false;
  FakeGuest guest(dev, 16);
  int burst = 0;  // requests the driver still sends when it runs at our yield
  dev.driver = [&] {
    while (guest.used(0)) {}
    if (burst-- > 0) guest.chain(0).writable(1).submit();
  };
  auto request = [&](int more) {
    burst = more;
    guest.chain(0).writable(1).submit();
    guest.kick(0);
    while (guest.used(0)) {}
  };
  const int misses = int(virtio::VirtioDevice::kYieldMisses), retry = int(virtio::VirtioDevice::kRetryYield);
  for (int i = 0; i < misses; ++i) request(0);
  EXPECT_EQ(dev.yields, misses);
  for (int i = 1; i < retry; ++i) request(0);
  EXPECT_EQ(dev.yields, misses);  // stopped
  request(0);                     // the next try
  EXPECT_EQ(dev.yields, misses + 1);
  dev.driver_shares_the_cpu = true;  // a try finds out
  for (int i = 0; i < retry; ++i) request(3);
  EXPECT_EQ(dev.yields, misses + 1 + 4);  // the try paid, and so did the rest of that burst
  int before = dev.yields;
  for (int i = 0; i < 10; ++i) request(3);  // each: three yields that pay, the burst's last that does not
  EXPECT_EQ(dev.yields, before + 40);
}

// What tells an interrupt's yield that it paid (GpioDevice::return_irq_buffer):
// a driver with notifications on moves used_event to what it took (§2.7.10).
TEST(SplitQueue, TheDeviceSeesWhenTheDriverTookEveryUsedBuffer) {
  RecordingDevice dev;
  FakeGuest guest(dev, 8);
  guest.chain(0).writable(1).submit();
  guest.chain(0).writable(1).submit();
  guest.kick(0);
  dev.complete_all(1);
  EXPECT_FALSE(dev.queue(0).driver_took_every_used());
  ASSERT_TRUE(guest.used(0));
  EXPECT_FALSE(dev.queue(0).driver_took_every_used());  // one of two
  ASSERT_TRUE(guest.used(0));
  EXPECT_TRUE(dev.queue(0).driver_took_every_used());

  RecordingDevice plain;  // without EVENT_IDX nothing tells
  FakeGuest old_guest(plain, 8, virtio::ring::kFeatureVersion1);
  old_guest.chain(0).writable(1).submit();
  old_guest.kick(0);
  plain.complete_all(1);
  ASSERT_TRUE(old_guest.used(0));
  EXPECT_FALSE(plain.queue(0).driver_took_every_used());
}

// Found by fuzz_virtqueue: a response buffer that overlaps the avail index
// makes every answer look like a new request. One kick does at most one
// ring's worth of work, then hands the loop back.
TEST(SplitQueue, AGuestCannotKeepTheDeviceBusyForever) {
  RecordingDevice dev;
  FakeGuest guest(dev, 8);
  for (int i = 0; i < 8; ++i) guest.chain(0).writable(1).submit();
  EXPECT_TRUE(dev.on_queue_kick(0));  // stopped at the bound
  EXPECT_EQ(dev.chains.size(), 8u);
  dev.complete_all(1);
  EXPECT_FALSE(dev.on_queue_kick(0));  // nothing left
}

TEST(SplitQueue, RestartContinuesFromTheRingsUsedIndex) {
  RecordingDevice dev;
  FakeGuest guest(dev, 8);
  for (int i = 0; i < 3; ++i) {
    guest.chain(0).writable(1).submit();
    guest.kick(0);
    dev.complete_all(1);
  }
  uint16_t base = dev.queue(0).stop();
  EXPECT_EQ(base, 3);
  dev.queue(0).set_next_avail(base);
  ASSERT_TRUE(dev.queue(0).start().ok());
  guest.chain(0).writable(1).submit();
  guest.kick(0);
  ASSERT_EQ(dev.chains.size(), 1u);
  dev.complete_all(1);
  EXPECT_EQ(guest.queue(0).used_idx_in_ring(), 4);
}

}  // namespace
}  // namespace vgpio

namespace vgpio {
namespace {

// Found by fuzz_vhost_user: aligned frontend addresses in a region mapped at
// an odd offset would put the rings at odd host addresses.
TEST(SplitQueue, RingsMisalignedInTheMappingAreRefused) {
  virtio::GuestMemory mem;
  UniqueFd fd(memfd_create("t", MFD_CLOEXEC));
  ASSERT_EQ(ftruncate(fd.get(), 1 << 16), 0);
  ASSERT_TRUE(mem.add_region({0, 0x8000, 0x100000, 1}, std::move(fd)).ok());
  virtio::SplitQueue q(mem, 0);
  ASSERT_TRUE(q.set_size(16).ok());
  q.set_addresses({0x100000, 0x101000, 0x102000});
  EXPECT_FALSE(q.start().ok());
}

}  // namespace
}  // namespace vgpio
