// vhost-user wire format, as QEMU's docs/interop/vhost-user.rst defines it.
#pragma once

#include <cstdint>

namespace vgpio::vhost {

// "Header: u32 request; u32 flags; u32 size"
struct Header {
  uint32_t request;
  uint32_t flags;
  uint32_t size;
};
static_assert(sizeof(Header) == 12);

inline constexpr uint32_t kVersion = 0x1;  // flags bits 0-1
inline constexpr uint32_t kVersionMask = 0x3;
inline constexpr uint32_t kFlagReply = 1u << 2;      // 0x4
inline constexpr uint32_t kFlagNeedReply = 1u << 3;  // 0x8

// The largest payload we accept: a memory table of 8 regions is 264 bytes and
// a config message 12 + 256. Anything far beyond is garbage.
inline constexpr uint32_t kMaxPayload = 4096;
// QEMU passes at most 8 fds (VHOST_MEMORY_BASELINE_NREGIONS).
inline constexpr int kMaxFds = 8;

enum Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSetBackendReqFd = 21,
  kGetConfig = 24,
  kSetConfig = 25,
  kResetDevice = 34,
  kGetMaxMemSlots = 36,
  kAddMemReg = 37,
  kRemMemReg = 38,
  kSetStatus = 39,
  kGetStatus = 40,
};

const char* request_name(uint32_t request);

// "#define VHOST_USER_F_PROTOCOL_FEATURES 30"
inline constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;

// Protocol feature bits.
inline constexpr uint64_t kProtoMq = 1ull << 0;
inline constexpr uint64_t kProtoReplyAck = 1ull << 3;
inline constexpr uint64_t kProtoBackendReq = 1ull << 5;
inline constexpr uint64_t kProtoConfig = 1ull << 9;
inline constexpr uint64_t kProtoResetDevice = 1ull << 13;
inline constexpr uint64_t kProtoConfigureMemSlots = 1ull << 15;
inline constexpr uint64_t kProtoStatus = 1ull << 16;

// "A vring state description": index, num.
struct VringState {
  uint32_t index;
  uint32_t num;
};
// "A vring address description": index, flags, descriptor, used, available, log.
struct VringAddr {
  uint32_t index;
  uint32_t flags;
  uint64_t desc;
  uint64_t used;
  uint64_t avail;
  uint64_t log;
};
static_assert(sizeof(VringAddr) == 40);

// "A region is: guest address, size, user address, mmap offset".
struct MemoryRegion {
  uint64_t guest_addr;
  uint64_t size;
  uint64_t user_addr;
  uint64_t mmap_offset;
};
// "Memory regions description": num regions, padding, region[num].
inline constexpr uint32_t kMaxMemTableRegions = 8;
struct MemoryTableHeader {
  uint32_t num_regions;
  uint32_t padding;
};
// "Single memory region description": u64 padding, then one region.
struct SingleRegion {
  uint64_t padding;
  MemoryRegion region;
};
static_assert(sizeof(SingleRegion) == 40);

// "Virtio device config space": offset, size, flags, payload[size].
struct ConfigHeader {
  uint32_t offset;
  uint32_t size;
  uint32_t flags;
};
inline constexpr uint32_t kMaxConfigSize = 256;

// SET_VRING_KICK / CALL / ERR payload: bits 0-7 vring index, bit 8 "invalid FD".
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNoFd = 1ull << 8;

}  // namespace vgpio::vhost
