#include "driver/shared_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "base/strings.h"

namespace vgpio::driver {

Result<std::unique_ptr<SharedMemory>> SharedMemory::create(size_t size) {
  UniqueFd fd(memfd_create("vgpio-driver-ram", MFD_CLOEXEC));
  if (!fd) return Error::from_errno(errno, "memfd_create");
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return Error::from_errno(errno, "ftruncate(memfd)");
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) return Error::from_errno(errno, "mmap(memfd)");
  return std::unique_ptr<SharedMemory>(new SharedMemory(std::move(fd), static_cast<uint8_t*>(base), size));
}

SharedMemory::~SharedMemory() { munmap(base_, size_); }

Result<uint64_t> SharedMemory::alloc(size_t len, size_t align) {
  size_t start = (next_ + align - 1) / align * align;
  if (start > size_ || len > size_ - start)
    return Error(strfmt("driver memory of %zu bytes is full (asked for %zu more)", size_, len));
  next_ = start + len;
  return static_cast<uint64_t>(start);
}

}  // namespace vgpio::driver
