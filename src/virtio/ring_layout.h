// The split virtqueue's memory layout, virtio 1.2 §2.7. Little-endian only:
// every host we target is, and the static_assert says so.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace vgpio::virtio::ring {

static_assert(std::endian::native == std::endian::little, "virtio 1.x rings are little-endian");

// §2.7.5: "struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; };"
struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Desc) == 16);

inline constexpr uint16_t kDescNext = 1;      // VIRTQ_DESC_F_NEXT
inline constexpr uint16_t kDescWrite = 2;     // VIRTQ_DESC_F_WRITE
inline constexpr uint16_t kDescIndirect = 4;  // VIRTQ_DESC_F_INDIRECT

inline constexpr uint16_t kAvailNoInterrupt = 1;  // VIRTQ_AVAIL_F_NO_INTERRUPT
inline constexpr uint16_t kUsedNoNotify = 1;      // VIRTQ_USED_F_NO_NOTIFY

// §2.7: "The maximum Queue Size value is 32768."
inline constexpr uint32_t kMaxQueueSize = 32768;

// §2.7 alignment and size table (with the event-index trailer fields).
inline constexpr size_t kDescAlign = 16, kAvailAlign = 2, kUsedAlign = 4;
inline constexpr size_t desc_table_size(uint32_t n) { return 16ull * n; }
inline constexpr size_t avail_ring_size(uint32_t n) { return 6 + 2ull * n; }
inline constexpr size_t used_ring_size(uint32_t n) { return 6 + 8ull * n; }

// Offsets inside the avail ring: flags, idx, ring[n], used_event.
inline constexpr size_t kAvailFlags = 0, kAvailIdx = 2, kAvailRing = 4;
inline constexpr size_t avail_used_event(uint32_t n) { return 4 + 2ull * n; }
// Offsets inside the used ring: flags, idx, ring[n] of {le32 id; le32 len}, avail_event.
inline constexpr size_t kUsedFlags = 0, kUsedIdx = 2, kUsedRing = 4;
inline constexpr size_t used_avail_event(uint32_t n) { return 4 + 8ull * n; }

// §2.7.10.1: true when the other side asked to be notified of this update
// (the kernel's vring_need_event).
inline bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

// Virtio feature bits the ring code depends on.
inline constexpr uint64_t kFeatureIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureEventIdx = 1ull << 29;
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;

}  // namespace vgpio::virtio::ring
