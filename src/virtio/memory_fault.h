// Guest memory that its frontend shrinks under us (ftruncate of the memfd or
// file behind it) faults on the next access with SIGBUS, which would end the
// process and every device in it. Sealing cannot be required: QEMU seals its
// memory-backend-memfd, but memory-backend-file (the classic vhost-user
// setup on /dev/shm or hugetlbfs) cannot be sealed. So, as Wayland
// compositors do with their clients' shared buffers (wl_shm), a fault inside
// a guest-memory mapping maps zero pages over that mapping, lets the access
// go on, and tells the device through an eventfd; the device then drops that
// frontend (lines to their safe levels). Any other SIGBUS stays fatal.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace vgpio::virtio {

// Installs the process's SIGBUS handler; idempotent. Before the sandbox.
void install_memory_fault_handler();

// One mapping that the handler rescues, for as long as this lives.
class FaultGuard {
 public:
  // `notify_fd` (an eventfd, or -1) hears of a fault; `faulted` is set.
  static Result<FaultGuard> watch(void* base, size_t length, int notify_fd, std::atomic<bool>* faulted);
  FaultGuard(FaultGuard&& other) noexcept : slot_(other.slot_) { other.slot_ = -1; }
  FaultGuard& operator=(FaultGuard&&) = delete;
  FaultGuard(const FaultGuard&) = delete;
  ~FaultGuard() { stop(); }
  // The handler no longer rescues the mapping.
  void stop();
  // Tells another owner of a fault from now on.
  void retarget(int notify_fd, std::atomic<bool>* faulted);

 private:
  explicit FaultGuard(int slot) : slot_(slot) {}
  int slot_;
};

}  // namespace vgpio::virtio
