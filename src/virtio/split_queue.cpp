#include "virtio/split_queue.h"

#include <atomic>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::virtio {

using namespace ring;

uint16_t SplitQueue::load16(const uint8_t* p) const {
  // The driver writes these concurrently: read each exactly once.
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)))
      .load(std::memory_order_relaxed);
}

void SplitQueue::store16(uint8_t* p, uint16_t v) const {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, std::memory_order_relaxed);
}

Result<void> SplitQueue::set_size(uint32_t size) {
  // §2.7: queue sizes are powers of two up to 32768 (the index arithmetic below
  // relies on the size dividing 2^16).
  if (size == 0 || size > kMaxQueueSize || (size & (size - 1)) != 0)
    return Error(strfmt("queue %u: size %u is not a power of two from 1 to %u", index_, size, kMaxQueueSize));
  if (started()) return Error(strfmt("queue %u: cannot resize a started queue", index_));
  size_ = size;
  return ok();
}

Result<void> SplitQueue::resolve() {
  if (size_ == 0) return Error(strfmt("queue %u: size not set", index_));
  // §2.7 alignment requirements.
  if (addresses_.desc % kDescAlign || addresses_.avail % kAvailAlign || addresses_.used % kUsedAlign)
    return Error(strfmt("queue %u: ring addresses are misaligned", index_));
  desc_ = TRY(memory_.translate_user(addresses_.desc, desc_table_size(size_)).error_context("descriptor table"));
  avail_ = TRY(memory_.translate_user(addresses_.avail, avail_ring_size(size_)).error_context("avail ring"));
  used_ = TRY(memory_.translate_user(addresses_.used, used_ring_size(size_)).error_context("used ring"));
  // The ring indexes are accessed atomically, which needs them aligned here
  // too: an odd mmap offset from the frontend could misalign them in our
  // mapping even when the frontend's addresses are aligned (found by fuzzing).
  auto misaligned = [](const uint8_t* p, size_t align) { return reinterpret_cast<uintptr_t>(p) % align != 0; };
  if (misaligned(desc_, kDescAlign) || misaligned(avail_, kAvailAlign) || misaligned(used_, kUsedAlign))
    return Error(strfmt("queue %u: rings are misaligned in the shared memory (odd mmap offset?)", index_));
  return ok();
}

Result<void> SplitQueue::start() {
  if (auto r = resolve(); !r) return r.release_error().with_context(strfmt("queue %u", index_));
  used_idx_ = load16(used_ + kUsedIdx);
  signalled_used_ = used_idx_;
  signalled_used_valid_ = false;
  broken_ = false;
  state_ = State::Started;
  return ok();
}

uint16_t SplitQueue::stop() {
  state_ = State::Stopped;
  desc_ = avail_ = used_ = nullptr;
  return last_avail_;
}

Result<void> SplitQueue::remap() {
  if (!started()) return ok();
  if (auto r = resolve(); !r) {
    stop();
    return r.release_error().with_context(strfmt("queue %u stopped after a memory change", index_));
  }
  return ok();
}

std::optional<DescriptorChain> SplitQueue::pop() {
  while (started() && !broken_) {
    uint16_t avail_idx = load16(avail_ + kAvailIdx);
    if (avail_idx == last_avail_) return std::nullopt;
    // §2.7.6: the driver never has more than size buffers outstanding.
    if (static_cast<uint16_t>(avail_idx - last_avail_) > size_) {
      LOG_ERROR(
          "queue %u: driver moved avail index from %u to %u, more than the queue size %u; "
          "ignoring the queue until it is reset",
          index_, last_avail_, avail_idx, size_);
      broken_ = true;
      return std::nullopt;
    }
    // Read the ring entry only after seeing the index that covers it.
    std::atomic_thread_fence(std::memory_order_acquire);
    uint16_t head = load16(avail_ + kAvailRing + 2 * (last_avail_ % size_));
    ++last_avail_;
    if (head >= size_) {
      LOG_WARN_LIMITED("queue %u: driver offered head descriptor %u, beyond queue size %u; skipped", index_, head,
                       size_);
      continue;
    }
    return chain_at(head);
  }
  return std::nullopt;
}

DescriptorChain SplitQueue::chain_at(uint16_t head) {
  DescriptorChain chain(this, head);
  if (auto r = walk_chain(chain); !r) {
    chain.problem_ = r.error().message();
    chain.readable_.clear();
    chain.writable_.clear();
    chain.readable_len_ = chain.writable_len_ = 0;
  }
  return chain;
}

bool SplitQueue::resume_at(uint16_t next) {
  if (!started() || broken_) return false;
  uint16_t avail_idx = load16(avail_ + kAvailIdx);
  uint16_t outstanding = static_cast<uint16_t>(avail_idx - used_idx_);
  if (outstanding > size_ || static_cast<uint16_t>(next - used_idx_) > outstanding) return false;
  last_avail_ = next;
  return true;
}

std::optional<DescriptorChain> SplitQueue::take_held(uint16_t head) {
  if (!started() || broken_ || head >= size_) return std::nullopt;
  return chain_at(head);
}

Result<void> SplitQueue::add_buffer(DescriptorChain& chain, const Desc& d) {
  TRY(memory_.translate(d.addr, d.len));
  if (d.flags & kDescWrite) {
    chain.writable_.push_back({d.addr, d.len});
    chain.writable_len_ += d.len;
  } else {
    // §2.7.4.2: "The driver MUST place any device-writable descriptor elements
    // after any device-readable descriptor elements."
    if (!chain.writable_.empty()) return Error("device-readable descriptor after a device-writable one");
    chain.readable_.push_back({d.addr, d.len});
    chain.readable_len_ += d.len;
  }
  return ok();
}

Result<void> SplitQueue::walk_chain(DescriptorChain& chain) {
  const uint8_t* table = desc_;
  uint32_t table_len = size_;
  bool indirect = false;
  uint32_t index = chain.head_;
  // §2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the
  // Queue Size of the device", indirect tables included. That bound also
  // ends a chain that loops, and keeps one kick's work bounded.
  for (uint32_t length = 0;; ++length) {
    if (index >= table_len) return Error(strfmt("descriptor index %u beyond table of %u", index, table_len));
    if (length >= size_) return Error(strfmt("descriptor chain loops or is longer than the queue size %u", size_));
    Desc d;
    std::memcpy(&d, table + 16ull * index, sizeof d);  // copy once: the guest may change it
    if (d.flags & kDescIndirect) {
      // §2.7.5.3.1: "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag
      // unless the VIRTIO_F_INDIRECT_DESC feature was negotiated", nor
      // inside an indirect table, nor beside NEXT.
      if (!indirect_) return Error("indirect descriptor, but VIRTIO_F_INDIRECT_DESC was not negotiated");
      if (indirect) return Error("indirect descriptor inside an indirect table");
      if (d.flags & kDescNext) return Error("indirect descriptor with the NEXT flag");
      if (d.len == 0 || d.len % sizeof(Desc) != 0 || d.len / sizeof(Desc) > size_)
        return Error(strfmt("indirect table of %u bytes is not 1 to %u descriptors (the queue size)", d.len, size_));
      table = TRY(memory_.translate(d.addr, d.len).error_context("indirect table"));
      table_len = d.len / sizeof(Desc);
      indirect = true;
      index = 0;
      --length;  // the indirect descriptor itself is no buffer of the chain
      continue;
    }
    TRY(add_buffer(chain, d));
    if (!(d.flags & kDescNext)) return ok();
    index = d.next;
  }
}

void SplitQueue::push_used(uint16_t head, uint32_t len) {
  if (!started()) {
    LOG_ERROR("queue %u: buffer %u completed after the queue stopped; dropped", index_, head);
    return;
  }
  uint8_t* elem = used_ + kUsedRing + 8ull * (used_idx_ % size_);
  uint32_t id = head;
  std::memcpy(elem, &id, 4);
  std::memcpy(elem + 4, &len, 4);
  // §2.7.8.2: the element must be visible before the index that publishes it.
  std::atomic_thread_fence(std::memory_order_release);
  store16(used_ + kUsedIdx, ++used_idx_);
}

bool SplitQueue::fresh() const {
  return started() && last_avail_ == 0 && used_idx_ == 0 && load16(avail_ + kAvailIdx) == 0;
}

bool SplitQueue::rearm_kicks() {
  if (!started() || !event_idx_ || broken_) return false;
  store16(used_ + used_avail_event(size_), last_avail_);
  // The avail_event store must be visible before we look at avail->idx again,
  // or a buffer added in between would get neither a kick nor our attention.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return load16(avail_ + kAvailIdx) != last_avail_;
}

uint16_t SplitQueue::driver_avail_idx() const {
  if (!started() || broken_) return 0;
  return load16(avail_ + kAvailIdx);
}

bool SplitQueue::driver_took_every_used() const {
  if (!started() || broken_ || !event_idx_) return false;
  return load16(avail_ + avail_used_event(size_)) == used_idx_;
}

bool SplitQueue::notify_if_needed() {
  if (!started() || !notify_) return false;
  if (signalled_used_ == used_idx_) return false;  // nothing used since the last signal
  // The used index store must be visible before we read the driver's wishes.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool need;
  uint16_t old = signalled_used_;
  bool old_valid = signalled_used_valid_;
  signalled_used_ = used_idx_;
  signalled_used_valid_ = true;
  if (event_idx_) {
    // §2.7.10.1: notify when used_event lies in (old, new].
    need = !old_valid || need_event(load16(avail_ + avail_used_event(size_)), used_idx_, old);
  } else {
    need = !(load16(avail_ + kAvailFlags) & kAvailNoInterrupt);
  }
  LOG_DEBUG("queue %u: used index %u, %s", index_, used_idx_, need ? "driver notified" : "no notification wanted");
  if (need) notify_();
  return need;
}

}  // namespace vgpio::virtio
