// "Guest RAM" for a driver in user space: one memfd, mapped here and shared
// with the backend, with guest physical addresses 0..size (as QEMU's
// memory-backend-memfd gives a guest). A bump allocator hands out buffers.
#pragma once

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio::driver {

class SharedMemory {
 public:
  static Result<std::unique_ptr<SharedMemory>> create(size_t size);
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  int fd() const { return fd_.get(); }
  size_t size() const { return size_; }
  uint8_t* at(uint64_t gpa) const { return base_ + gpa; }
  // The frontend's own address of gpa (vhost-user "user address").
  uint64_t user_addr(uint64_t gpa) const { return reinterpret_cast<uint64_t>(base_) + gpa; }
  Result<uint64_t> alloc(size_t len, size_t align = 8);

 private:
  SharedMemory(UniqueFd fd, uint8_t* base, size_t size) : fd_(std::move(fd)), base_(base), size_(size) {}
  UniqueFd fd_;
  uint8_t* base_;
  size_t size_;
  size_t next_ = 0;
};

}  // namespace vgpio::driver
