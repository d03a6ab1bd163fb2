// The driver's half of a split virtqueue (virtio 1.2 §2.7) in SharedMemory:
// what the Linux driver's virtio_ring does, small. Tests use its raw access
// (write_desc / publish) to build the chains a broken or hostile driver would.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "driver/shared_memory.h"
#include "virtio/ring_layout.h"

namespace vgpio::driver {

struct Buffer {
  uint64_t gpa;
  uint32_t len;
  bool writable;
};

struct Used {
  uint16_t id;
  uint32_t len;
};

class DriverQueue {
 public:
  static Result<std::unique_ptr<DriverQueue>> create(SharedMemory& memory, uint16_t size);

  uint16_t size() const { return size_; }
  uint64_t desc_gpa() const { return desc_; }
  uint64_t avail_gpa() const { return avail_; }
  uint64_t used_gpa() const { return used_; }
  void set_event_idx(bool on) { event_idx_ = on; }

  // Makes a chain of `buffers` available; as one indirect table when `indirect`.
  // Returns its head descriptor.
  Result<uint16_t> add(std::span<const Buffer> buffers, bool indirect = false);
  // The next buffer the device returned, if any.
  std::optional<Used> pop_used();
  // With EVENT_IDX: ask for an interrupt at the next used buffer. Returns true
  // when one arrived meanwhile (§2.7.10).
  bool rearm_interrupts();
  // Whether the device wants a kick for what was added since the last call
  // (§2.7.10: VIRTQ_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX), as
  // Linux's virtqueue_kick_prepare() decides.
  bool kick_needed();
  // Back to a just-created queue, its rings zeroed: what a rebooted guest's
  // driver sets up. Buffers in flight are forgotten.
  void reset();
  size_t free_descriptors() const { return free_.size(); }
  // The head the next add() will use (so its buffers can be filled first).
  uint16_t next_head() const { return free_.back(); }

  // --- raw access, for tests of a misbehaving driver ---
  void write_desc(uint16_t index, const virtio::ring::Desc& desc);
  void publish(uint16_t head);       // avail ring entry + index
  void set_avail_idx(uint16_t idx);  // without a ring entry
  void write_avail_entry(uint16_t slot, uint16_t head);
  uint16_t avail_idx() const { return avail_idx_; }
  uint16_t used_idx_in_ring() const;

 private:
  DriverQueue(SharedMemory& memory, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used);

  SharedMemory& mem_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  bool event_idx_ = false;
  uint16_t avail_idx_ = 0;
  uint16_t last_used_ = 0;
  uint16_t kicked_avail_ = 0;  // avail index at the last kick_needed()
  std::vector<uint16_t> free_;
  std::vector<std::vector<uint16_t>> chains_;  // descriptors of each in-flight head
  std::vector<uint64_t> indirect_tables_;      // per head, allocated on first use
};

}  // namespace vgpio::driver
