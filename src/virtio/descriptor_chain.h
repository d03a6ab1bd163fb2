// One available descriptor chain, taken from a SplitQueue. Move-only, and it
// must be handed back: complete() returns it to the driver through the used
// ring, abandon() drops it at teardown. The destructor checks (as Fuchsia's
// VirtioChain does), so a chain a device forgets shows up as a test failure
// instead of a guest waiting forever.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "virtio/guest_buffer_list.h"

namespace vgpio::virtio {

class SplitQueue;

class DescriptorChain {
 public:
  DescriptorChain(DescriptorChain&& other) noexcept;
  DescriptorChain& operator=(DescriptorChain&& other) noexcept;
  DescriptorChain(const DescriptorChain&) = delete;
  DescriptorChain& operator=(const DescriptorChain&) = delete;
  ~DescriptorChain();

  uint16_t head() const { return head_; }
  // A chain the driver built wrongly (bad address, loop, wrong order...). The
  // device should complete it with used length 0 and log problem().
  bool malformed() const { return !problem_.empty(); }
  const std::string& problem() const { return problem_; }

  uint64_t readable_length() const { return readable_len_; }
  uint64_t writable_length() const { return writable_len_; }

  // Gather `len` bytes starting at `offset` of the device-readable part.
  Result<void> read(size_t offset, void* out, size_t len) const;
  // Scatter into the device-writable part.
  Result<void> write(size_t offset, const void* in, size_t len) const;

  // §2.7.8: returns the chain with `used_len` bytes written.
  void complete(uint32_t used_len);
  // Drops the chain without returning it (the ring is going away).
  void abandon() { queue_ = nullptr; }
  bool pending() const { return queue_ != nullptr; }

 private:
  friend class SplitQueue;
  DescriptorChain(SplitQueue* queue, uint16_t head) : queue_(queue), head_(head) {}
  Result<void> copy(const GuestBufferList& buffers, size_t offset, uint8_t* data, size_t len, bool to_guest) const;

  SplitQueue* queue_;
  uint16_t head_;
  GuestBufferList readable_;
  GuestBufferList writable_;
  uint64_t readable_len_ = 0;
  uint64_t writable_len_ = 0;
  std::string problem_;
};

}  // namespace vgpio::virtio
