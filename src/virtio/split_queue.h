// The device side of a split virtqueue (virtio 1.2 §2.7) over hostile guest
// memory. Ring pointers are resolved once at start() (and again when the
// memory table changes); every descriptor is copied out before it is used and
// every buffer address is checked by GuestMemory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "base/result.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/ring_layout.h"

namespace vgpio::virtio {

struct RingAddresses {
  uint64_t desc = 0;  // frontend user addresses (vhost-user SET_VRING_ADDR)
  uint64_t avail = 0;
  uint64_t used = 0;
};

class SplitQueue {
 public:
  enum class State { Stopped, Started };

  SplitQueue(GuestMemory& memory, uint16_t index) : memory_(memory), index_(index) {}
  SplitQueue(const SplitQueue&) = delete;
  SplitQueue& operator=(const SplitQueue&) = delete;

  uint16_t index() const { return index_; }

  // --- configuration (only while stopped) ---
  Result<void> set_size(uint32_t size);
  void set_addresses(const RingAddresses& addresses) { addresses_ = addresses; }
  void set_next_avail(uint16_t index) { last_avail_ = index; }
  void set_event_idx(bool enabled) { event_idx_ = enabled; }
  // VIRTIO_F_INDIRECT_DESC: without it, an indirect descriptor is an error.
  void set_indirect(bool enabled) { indirect_ = enabled; }
  void set_notifier(std::function<void()> notify) { notify_ = std::move(notify); }

  // Resolves and checks the ring addresses, and takes the used index from the
  // ring (so a restarted queue continues where the driver expects).
  Result<void> start();
  // Stops the queue and returns the next avail index (vhost-user GET_VRING_BASE).
  uint16_t stop();
  State state() const { return state_; }
  bool started() const { return state_ == State::Started; }
  // Re-resolves ring pointers after the memory table changed; stops the queue
  // when they no longer fit.
  Result<void> remap();
  uint32_t size() const { return size_; }

  // After start(), for a process that carries on from one before it that
  // crashed: resumes at `next` (where that process had taken buffers up to)
  // instead of the frontend's base, which is the used index after a crash.
  // Only when `next` lies between the used index and the driver's avail
  // index; false, changing nothing, otherwise.
  bool resume_at(uint16_t next);
  // The chain at `head`, which that process took and still held.
  std::optional<DescriptorChain> take_held(uint16_t head);

  // --- the data path ---
  // Next available chain, or nullopt when none (or the queue is stopped or
  // broken). A chain with a bad head index cannot be returned and is skipped.
  std::optional<DescriptorChain> pop();
  // With EVENT_IDX: asks for a kick at the next buffer (§2.7.10) and returns
  // true when more buffers arrived meanwhile.
  bool rearm_kicks();
  // Signals the driver if it asked for it (§2.7.10); call after a batch.
  // True when it did.
  bool notify_if_needed();
  // The driver's avail index as it is now (0 when the queue is not running).
  uint16_t driver_avail_idx() const;
  // With EVENT_IDX: the driver has taken every used buffer. A driver with
  // notifications on says where it wants the next one (§2.7.10), and Linux's
  // says it as it takes each buffer: used_event is the index it took up to.
  // False without EVENT_IDX (nothing tells).
  bool driver_took_every_used() const;
  // True when the driver broke the ring itself; the queue stops being served.
  bool broken() const { return broken_; }
  uint16_t next_avail() const { return last_avail_; }
  // A started ring on which nothing ever happened: next avail index 0 and
  // both ring indexes 0 in guest memory, as a driver that just set it up
  // leaves it.
  bool fresh() const;

 private:
  friend class DescriptorChain;
  DescriptorChain chain_at(uint16_t head);
  void push_used(uint16_t head, uint32_t len);
  Result<void> walk_chain(DescriptorChain& chain);
  Result<void> add_buffer(DescriptorChain& chain, const ring::Desc& desc);
  Result<void> resolve();

  uint16_t load16(const uint8_t* p) const;
  void store16(uint8_t* p, uint16_t v) const;

  GuestMemory& memory_;
  const uint16_t index_;
  State state_ = State::Stopped;
  uint32_t size_ = 0;
  RingAddresses addresses_;
  bool event_idx_ = false;
  bool indirect_ = false;
  bool broken_ = false;
  std::function<void()> notify_;

  uint8_t* desc_ = nullptr;
  uint8_t* avail_ = nullptr;
  uint8_t* used_ = nullptr;

  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
  uint16_t signalled_used_ = 0;
  bool signalled_used_valid_ = false;
};

}  // namespace vgpio::virtio
