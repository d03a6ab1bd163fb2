// The device-readable or the device-writable buffers of one descriptor
// chain, in order. A virtio-gpio chain has one of each (request, response;
// irq request, irq response), so the first lives inline and serving a request
// allocates nothing (tests/unit/no_allocation_test.cpp). Longer lists, which
// only an unusual driver builds, spill to the heap. One, not more: every line
// holds a chain for its eventq buffer, so each inline entry costs every line.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace vgpio::virtio {

struct GuestBuffer {
  uint64_t addr;  // guest physical
  uint32_t len;
};

class GuestBufferList {
 public:
  static constexpr size_t kInline = 1;

  void push_back(GuestBuffer b) {
    if (size_ < kInline) {
      inline_[size_++] = b;
      return;
    }
    if (size_ == kInline) spilled_.assign(inline_.begin(), inline_.end());
    spilled_.push_back(b);
    ++size_;
  }
  void clear() {
    size_ = 0;
    spilled_.clear();
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  std::span<const GuestBuffer> buffers() const {
    return size_ <= kInline ? std::span<const GuestBuffer>(inline_.data(), size_)
                            : std::span<const GuestBuffer>(spilled_);
  }
  auto begin() const { return buffers().begin(); }
  auto end() const { return buffers().end(); }

 private:
  std::array<GuestBuffer, kInline> inline_{};
  std::vector<GuestBuffer> spilled_;
  size_t size_ = 0;
};

}  // namespace vgpio::virtio
