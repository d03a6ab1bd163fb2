#include "virtio/memory_fault.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>

namespace vgpio::virtio {
namespace {

// The handler reads these without a lock (it may interrupt anything), so each
// slot is a seqlock: a writer makes `seq` odd while it changes the slot. A
// slot that changes while the handler reads it is not the faulting one: a
// mapping is only ever removed by the thread that uses it, or after it stopped.
struct Slot {
  std::atomic<uint32_t> seq{0};
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};  // 0: free
  std::atomic<int> notify_fd{-1};
  std::atomic<std::atomic<bool>*> faulted{nullptr};
};
// 128 devices with 32 regions each (QEMU uses 1 to 8).
constexpr int kSlots = 4096;
Slot slots[kSlots];
std::mutex writers;
struct sigaction previous;

void write_slot(Slot& s, uintptr_t begin, uintptr_t end, int fd, std::atomic<bool>* faulted) {
  s.seq.fetch_add(1, std::memory_order_acq_rel);
  s.begin.store(begin, std::memory_order_relaxed);
  s.end.store(end, std::memory_order_relaxed);
  s.notify_fd.store(fd, std::memory_order_relaxed);
  s.faulted.store(faulted, std::memory_order_relaxed);
  s.seq.fetch_add(1, std::memory_order_release);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : slots) {
    uint32_t seq = s.seq.load(std::memory_order_acquire);
    uintptr_t begin = s.begin.load(std::memory_order_relaxed), end = s.end.load(std::memory_order_relaxed);
    int fd = s.notify_fd.load(std::memory_order_relaxed);
    std::atomic<bool>* faulted = s.faulted.load(std::memory_order_relaxed);
    if ((seq & 1) || s.seq.load(std::memory_order_acquire) != seq || addr < begin || addr >= end) continue;
    // Zero pages over the whole mapping: every later access succeeds too.
    // Where that fails, the access would fault again for ever: fatal instead.
    if (mmap(reinterpret_cast<void*>(begin), end - begin, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
      break;
    if (faulted) faulted->store(true);
    uint64_t one = 1;
    if (fd >= 0) {
      [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);  // an eventfd: it cannot fail here but full
    }
    return;  // the access runs again, on zeros
  }
  // Not guest memory: a fault of our own, as fatal as it would have been.
  // (A sanitizer's handler, when one came first, reports it.)
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) return previous.sa_sigaction(sig, info, context);
  if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN)
    return previous.sa_handler(sig);
  signal(SIGBUS, SIG_DFL);  // the access runs again and ends the process where it faulted
}

}  // namespace

void install_memory_fault_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous);
  });
}

Result<FaultGuard> FaultGuard::watch(void* base, size_t length, int notify_fd, std::atomic<bool>* faulted) {
  install_memory_fault_handler();
  std::lock_guard lock(writers);
  for (int i = 0; i < kSlots; ++i) {
    if (slots[i].end.load(std::memory_order_relaxed) != 0) continue;
    auto begin = reinterpret_cast<uintptr_t>(base);
    write_slot(slots[i], begin, begin + length, notify_fd, faulted);
    return FaultGuard(i);
  }
  return Error("guest memory: more than 4096 regions mapped in this daemon");
}

void FaultGuard::retarget(int notify_fd, std::atomic<bool>* faulted) {
  if (slot_ < 0) return;
  std::lock_guard lock(writers);
  Slot& s = slots[slot_];
  write_slot(s, s.begin.load(), s.end.load(), notify_fd, faulted);
}

void FaultGuard::stop() {
  if (slot_ < 0) return;
  std::lock_guard lock(writers);
  write_slot(slots[slot_], 0, 0, -1, nullptr);
  slot_ = -1;
}

}  // namespace vgpio::virtio
