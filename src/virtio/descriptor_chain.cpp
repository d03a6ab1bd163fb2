#include "virtio/descriptor_chain.h"

#include <cassert>
#include <cstring>

#include "base/log.h"
#include "virtio/split_queue.h"

namespace vgpio::virtio {

DescriptorChain::DescriptorChain(DescriptorChain&& other) noexcept
    : queue_(other.queue_),
      head_(other.head_),
      readable_(std::move(other.readable_)),
      writable_(std::move(other.writable_)),
      readable_len_(other.readable_len_),
      writable_len_(other.writable_len_),
      problem_(std::move(other.problem_)) {
  other.queue_ = nullptr;
}

DescriptorChain& DescriptorChain::operator=(DescriptorChain&& other) noexcept {
  if (this != &other) {
    assert(!pending() && "overwriting a descriptor chain that was never completed");
    queue_ = other.queue_;
    head_ = other.head_;
    readable_ = std::move(other.readable_);
    writable_ = std::move(other.writable_);
    readable_len_ = other.readable_len_;
    writable_len_ = other.writable_len_;
    problem_ = std::move(other.problem_);
    other.queue_ = nullptr;
  }
  return *this;
}

DescriptorChain::~DescriptorChain() {
  assert(!pending() && "descriptor chain dropped without complete() or abandon()");
}

Result<void> DescriptorChain::copy(const GuestBufferList& buffers, size_t offset, uint8_t* data, size_t len,
                                   bool to_guest) const {
  // Check the whole range first: a failed copy must not have written half.
  uint64_t total = to_guest ? writable_len_ : readable_len_;
  if (offset > total || len > total - offset) return Error("descriptor chain is shorter than the message");
  for (const auto& b : buffers) {
    if (len == 0) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    size_t n = std::min<size_t>(len, b.len - offset);
    const GuestMemory& mem = queue_->memory_;
    TRY(to_guest ? mem.write(b.addr + offset, data, n) : mem.read(b.addr + offset, data, n));
    data += n;
    len -= n;
    offset = 0;
  }
  if (len != 0) return Error("descriptor chain is shorter than the message");
  return ok();
}

Result<void> DescriptorChain::read(size_t offset, void* out, size_t len) const {
  assert(pending());
  return copy(readable_, offset, static_cast<uint8_t*>(out), len, false);
}

Result<void> DescriptorChain::write(size_t offset, const void* in, size_t len) const {
  assert(pending());
  return copy(writable_, offset, const_cast<uint8_t*>(static_cast<const uint8_t*>(in)), len, true);
}

void DescriptorChain::complete(uint32_t used_len) {
  assert(pending());
  queue_->push_used(head_, used_len);
  queue_ = nullptr;
}

}  // namespace vgpio::virtio
