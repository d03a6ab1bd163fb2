#include "virtio/guest_memory.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace vgpio::virtio {
namespace {
// True when [addr, addr + len) lies inside [base, base + size), without overflow.
bool contains(uint64_t base, uint64_t size, uint64_t addr, uint64_t len) {
  if (addr < base) return false;
  uint64_t offset = addr - base;
  return offset <= size && len <= size - offset;
}

bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) { return a < b + b_len && b < a + a_len; }
}  // namespace

MemoryMapping::~MemoryMapping() {
  guard_.stop();  // before the unmap: the range may be someone else's after it
  munmap(base_, length_);
}

Result<void> GuestMemory::add_region(const MemoryRegionSpec& spec, UniqueFd fd) {
  if (regions_.size() >= kMaxRegions) return Error(strfmt("too many memory regions (at most %zu)", kMaxRegions));
  if (spec.size == 0) return Error("memory region of size 0");
  uint64_t end;
  if (__builtin_add_overflow(spec.guest_addr, spec.size, &end) ||
      __builtin_add_overflow(spec.user_addr, spec.size, &end))
    return Error("memory region wraps around the address space");
  uint64_t map_len;
  if (__builtin_add_overflow(spec.mmap_offset, spec.size, &map_len) || map_len > SIZE_MAX)
    return Error("memory region offset + size overflows");
  for (const auto& r : regions_) {
    if (overlaps(r.spec.guest_addr, r.spec.size, spec.guest_addr, spec.size))
      return Error(strfmt("memory region at guest address 0x%llx overlaps another",
                          static_cast<unsigned long long>(spec.guest_addr)));
  }
  // A file shorter than the region would fault (SIGBUS) on access: refuse it now.
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Error::from_errno(errno, "fstat(memory fd)");
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < map_len)
    return Error(strfmt("memory fd holds %lld bytes, region needs %llu", static_cast<long long>(st.st_size),
                        static_cast<unsigned long long>(map_len)));
  // Map from offset 0 so that an unaligned mmap_offset still works.
  void* base = mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
  if (base == MAP_FAILED) return Error::from_errno(errno, "mmap(guest memory)");
  auto guard = FaultGuard::watch(base, map_len, fault_fd_, &faulted_);
  if (!guard) {
    munmap(base, map_len);
    return guard.release_error();
  }
  regions_.push_back(Region{spec, std::make_unique<MemoryMapping>(base, map_len, guard.release_value())});
  return ok();
}

Result<void> GuestMemory::remove_region(const MemoryRegionSpec& spec) {
  for (auto it = regions_.begin(); it != regions_.end(); ++it) {
    if (it->spec.guest_addr == spec.guest_addr && it->spec.size == spec.size) {
      regions_.erase(it);
      return ok();
    }
  }
  return Error(strfmt("no memory region at guest address 0x%llx of size 0x%llx",
                      static_cast<unsigned long long>(spec.guest_addr), static_cast<unsigned long long>(spec.size)));
}

void GuestMemory::clear() {
  regions_.clear();
  faulted_ = false;
}

void GuestMemory::swap_regions(GuestMemory& other) {
  regions_.swap(other.regions_);
  for (auto& r : regions_) r.mapping->guard().retarget(fault_fd_, &faulted_);
  for (auto& r : other.regions_) r.mapping->guard().retarget(other.fault_fd_, &other.faulted_);
}

Result<uint8_t*> GuestMemory::translate(uint64_t gpa, uint64_t len) const {
  for (const auto& r : regions_) {
    if (contains(r.spec.guest_addr, r.spec.size, gpa, len)) return r.host() + (gpa - r.spec.guest_addr);
  }
  return Error(strfmt("guest address range 0x%llx+%llu is outside guest memory", static_cast<unsigned long long>(gpa),
                      static_cast<unsigned long long>(len)));
}

Result<uint8_t*> GuestMemory::translate_user(uint64_t uva, uint64_t len) const {
  for (const auto& r : regions_) {
    if (contains(r.spec.user_addr, r.spec.size, uva, len)) return r.host() + (uva - r.spec.user_addr);
  }
  return Error(strfmt("frontend address range 0x%llx+%llu is outside guest memory",
                      static_cast<unsigned long long>(uva), static_cast<unsigned long long>(len)));
}

Result<void> GuestMemory::read(uint64_t gpa, void* out, size_t len) const {
  uint8_t* p = TRY(translate(gpa, len));
  std::memcpy(out, p, len);
  return ok();
}

Result<void> GuestMemory::write(uint64_t gpa, const void* in, size_t len) const {
  uint8_t* p = TRY(translate(gpa, len));
  std::memcpy(p, in, len);
  return ok();
}

}  // namespace vgpio::virtio
