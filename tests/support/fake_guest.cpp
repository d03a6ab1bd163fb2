#include "fake_guest.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace vgpio::testing {

ChainBuilder& ChainBuilder::readable(const void* data, size_t len) {
  uint64_t gpa = guest_.ram().alloc(len, 8).release_value();
  std::memcpy(guest_.ram().at(gpa), data, len);
  buffers_.push_back({gpa, static_cast<uint32_t>(len), false});
  return *this;
}

ChainBuilder& ChainBuilder::writable(uint32_t len) {
  uint64_t gpa = guest_.ram().alloc(len, 8).release_value();
  std::memset(guest_.ram().at(gpa), 0xee, len);
  buffers_.push_back({gpa, len, true});
  return *this;
}

ChainBuilder& ChainBuilder::raw(uint64_t gpa, uint32_t len, bool writable) {
  buffers_.push_back({gpa, len, writable});
  return *this;
}

SentChain ChainBuilder::submit() {
  auto head = guest_.queue(queue_).add(buffers_, indirect_);
  EXPECT_TRUE(head.ok()) << (head.ok() ? "" : head.error().message());
  SentChain sent{head.ok() ? head.value() : uint16_t(0), {}};
  for (const auto& b : buffers_)
    if (b.writable) sent.writable.push_back(b);
  return sent;
}

FakeGuest::FakeGuest(virtio::VirtioDevice& device, uint16_t queue_size, uint64_t features)
    : device_(&device), notifications_(device.queue_count(), 0) {
  ram_ = driver::SharedMemory::create(kRamSize).release_value();
  for (size_t i = 0; i < device.queue_count(); ++i) {
    queues_.push_back(driver::DriverQueue::create(*ram_, queue_size).release_value());
    queues_.back()->set_event_idx(false);
  }
  attach(features);
}

void FakeGuest::attach(uint64_t features) {
  virtio::VirtioDevice& device = *device_;
  UniqueFd fd(dup(ram_->fd()));
  auto added = device.memory().add_region(virtio::MemoryRegionSpec{0, kRamSize, ram_->user_addr(0), 0}, std::move(fd));
  EXPECT_TRUE(added.ok());
  auto negotiated = device.negotiate(features ? features : device.offered_features());
  EXPECT_TRUE(negotiated.ok());
  for (size_t i = 0; i < device.queue_count(); ++i) {
    auto& q = *queues_[i];
    q.set_event_idx(device.has_feature(virtio::ring::kFeatureEventIdx));
    virtio::SplitQueue& dq = device.queue(i);
    EXPECT_TRUE(dq.set_size(q.size()).ok());
    dq.set_addresses({ram_->user_addr(q.desc_gpa()), ram_->user_addr(q.avail_gpa()), ram_->user_addr(q.used_gpa())});
    uint16_t used_idx = 0;
    std::memcpy(&used_idx, ram_->at(q.used_gpa() + 2), 2);
    dq.set_next_avail(used_idx);
    dq.set_notifier([this, i] { ++notifications_[i]; });
    auto started = dq.start();
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message());
    device.on_queue_started(i);
  }
}

void FakeGuest::switch_to(virtio::VirtioDevice& next) {
  uint64_t features = device_->features();
  for (size_t i = 0; i < device_->queue_count(); ++i) {
    device_->queue(i).stop();
    device_->queue(i).set_notifier({});
  }
  device_ = &next;
  attach(features);
}

FakeGuest::~FakeGuest() {
  device_->reset();
  for (size_t i = 0; i < device_->queue_count(); ++i) {
    device_->queue(i).stop();
    device_->queue(i).set_notifier({});
  }
  device_->memory().clear();
}

std::vector<uint8_t> FakeGuest::read(const driver::Buffer& b, size_t len) const {
  return std::vector<uint8_t>(ram_->at(b.gpa), ram_->at(b.gpa) + len);
}

GpioAnswer gpio_request(FakeGuest& guest, uint16_t type, uint16_t gpio, uint32_t value) {
  gpio::Request req{type, gpio, value};
  SentChain sent = guest.chain(gpio::kRequestQueue).readable(req).writable(2).submit();
  guest.kick(gpio::kRequestQueue);
  auto used = guest.used(gpio::kRequestQueue);
  EXPECT_TRUE(used.has_value());
  if (!used) return {0xff, 0xff, 0};
  EXPECT_EQ(used->id, sent.head);
  auto bytes = guest.read(sent.writable[0], 2);
  return {bytes[0], bytes[1], used->len};
}

}  // namespace vgpio::testing
