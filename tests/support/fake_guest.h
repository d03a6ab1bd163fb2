// A guest for unit tests: shared RAM and driver-side queues wired straight
// into a VirtioDevice, no socket in between. chain() is a fluent builder for
// the chains a correct, broken or hostile driver would offer.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "driver/driver_queue.h"
#include "driver/shared_memory.h"
#include "gpio/protocol.h"
#include "virtio/device.h"

namespace vgpio::testing {

struct SentChain {
  uint16_t head;
  std::vector<driver::Buffer> writable;
};

class FakeGuest;

class ChainBuilder {
 public:
  ChainBuilder(FakeGuest& guest, size_t queue) : guest_(guest), queue_(queue) {}
  ChainBuilder& readable(const void* data, size_t len);
  template <typename T>
  ChainBuilder& readable(const T& value) {
    return readable(&value, sizeof value);
  }
  ChainBuilder& writable(uint32_t len);
  // A buffer at any guest address, in or out of guest memory.
  ChainBuilder& raw(uint64_t gpa, uint32_t len, bool writable);
  ChainBuilder& indirect() {
    indirect_ = true;
    return *this;
  }
  // Makes the chain available (no kick).
  SentChain submit();

 private:
  FakeGuest& guest_;
  size_t queue_;
  std::vector<driver::Buffer> buffers_;
  bool indirect_ = false;
};

class FakeGuest {
 public:
  static constexpr size_t kRamSize = 4 << 20;

  // Negotiates `features` (the device's offer when 0) and starts every queue.
  explicit FakeGuest(virtio::VirtioDevice& device, uint16_t queue_size = 64, uint64_t features = 0);
  ~FakeGuest();

  driver::SharedMemory& ram() { return *ram_; }
  driver::DriverQueue& queue(size_t i) { return *queues_[i]; }
  ChainBuilder chain(size_t queue) { return ChainBuilder(*this, queue); }
  void kick(size_t i) { device_->on_queue_kick(i); }
  // The next used buffer; like a real driver it then asks for the next interrupt.
  std::optional<driver::Used> used(size_t i) {
    auto u = queues_[i]->pop_used();
    queues_[i]->rearm_interrupts();
    return u;
  }
  int notifications(size_t i) const { return notifications_[i]; }
  // The backend was replaced by `next` (vgpio restarted): the rings and
  // memory stay, and each queue starts again on `next` where QEMU restarts a
  // ring whose backend went away: at its used index. `device` is left as a
  // crash leaves it (it is not reset).
  void switch_to(virtio::VirtioDevice& next);
  std::vector<uint8_t> read(const driver::Buffer& b, size_t len) const;

 private:
  void attach(uint64_t features);
  virtio::VirtioDevice* device_;
  std::unique_ptr<driver::SharedMemory> ram_;
  std::vector<std::unique_ptr<driver::DriverQueue>> queues_;
  std::vector<int> notifications_;
};

// Sends one virtio-gpio request on queue 0 and returns {status, value, used length}.
struct GpioAnswer {
  uint8_t status;
  uint8_t value;
  uint32_t used_len;
};
GpioAnswer gpio_request(FakeGuest& guest, uint16_t type, uint16_t gpio, uint32_t value = 0);

}  // namespace vgpio::testing
