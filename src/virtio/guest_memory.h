// Guest memory as the frontend shares it: regions of (guest physical address,
// size, frontend user address, fd + mmap offset). The guest is hostile, so
// every access goes through this class and is bounds-checked: a range is valid
// only when it lies wholly inside one region.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "virtio/memory_fault.h"

namespace vgpio::virtio {

struct MemoryRegionSpec {
  uint64_t guest_addr = 0;
  uint64_t size = 0;
  uint64_t user_addr = 0;
  uint64_t mmap_offset = 0;
};

class MemoryMapping {
 public:
  MemoryMapping(void* base, size_t length, FaultGuard guard) : base_(base), length_(length), guard_(std::move(guard)) {}
  ~MemoryMapping();
  MemoryMapping(const MemoryMapping&) = delete;
  MemoryMapping& operator=(const MemoryMapping&) = delete;
  uint8_t* base() const { return static_cast<uint8_t*>(base_); }
  FaultGuard& guard() { return guard_; }

 private:
  void* base_;
  size_t length_;
  FaultGuard guard_;
};

class GuestMemory {
 public:
  // A backend with more slots than QEMU asks for costs nothing; QEMU caps it.
  static constexpr size_t kMaxRegions = 32;

  Result<void> add_region(const MemoryRegionSpec& spec, UniqueFd fd);
  // Matches on guest address and size, as vhost-user REM_MEM_REG does.
  Result<void> remove_region(const MemoryRegionSpec& spec);
  void clear();
  // Takes other's regions in one step (a new memory table is built aside first).
  void swap_regions(GuestMemory& other);
  // Hears of a frontend that shrank the memory under a mapping (an eventfd;
  // see memory_fault.h). Set before regions are added.
  void set_fault_notifier(int fd) { fault_fd_ = fd; }
  // A mapping faulted since the last clear(): it reads as zeros now.
  bool faulted() const { return faulted_.load(); }
  size_t region_count() const { return regions_.size(); }
  // Bumped on every change, so users of raw pointers know to re-resolve them.

  // Host pointer for [gpa, gpa + len), or an error when any byte is outside.
  Result<uint8_t*> translate(uint64_t gpa, uint64_t len) const;
  // The same for a frontend user address (vring addresses use these).
  Result<uint8_t*> translate_user(uint64_t uva, uint64_t len) const;

  Result<void> read(uint64_t gpa, void* out, size_t len) const;
  Result<void> write(uint64_t gpa, const void* in, size_t len) const;

 private:
  struct Region {
    MemoryRegionSpec spec;
    std::unique_ptr<MemoryMapping> mapping;
    uint8_t* host() const { return mapping->base() + spec.mmap_offset; }
  };
  std::vector<Region> regions_;
  int fault_fd_ = -1;
  std::atomic<bool> faulted_{false};
};

}  // namespace vgpio::virtio
