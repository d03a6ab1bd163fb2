// The shared base of a virtio device, whatever transport carries it: guest
// memory, the queues, feature negotiation and config space. A concrete device
// says what its features and config are and handles kicks; the transport
// (vhost-user here) configures the queues and calls in.
#pragma once

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "virtio/guest_memory.h"
#include "virtio/split_queue.h"

namespace vgpio::virtio {

class VirtioDevice {
 public:
  explicit VirtioDevice(size_t num_queues);
  virtual ~VirtioDevice() = default;
  VirtioDevice(const VirtioDevice&) = delete;
  VirtioDevice& operator=(const VirtioDevice&) = delete;

  GuestMemory& memory() { return memory_; }
  // See let_the_driver_run_if_it_pays().
  static constexpr unsigned kYieldMisses = 4;
  static constexpr unsigned kRetryYield = 64;

  size_t queue_count() const { return queues_.size(); }
  SplitQueue& queue(size_t i) { return *queues_.at(i); }

  // Every feature the device offers, ring features included.
  uint64_t offered_features() const;
  // Applies the driver's choice; features not offered are refused.
  Result<void> negotiate(uint64_t features);
  uint64_t features() const { return features_; }
  bool has_feature(uint64_t bit_mask) const { return (features_ & bit_mask) != 0; }

  // Reads config space, honouring offset and size; fails when out of range.
  Result<std::vector<uint8_t>> read_config(uint32_t offset, uint32_t size) const;

  // The driver made buffers available on queue `i`. Returns true when the
  // device stopped with work left (see drain_queue); the transport then comes
  // back later through its event loop.
  virtual bool on_queue_kick(size_t i) = 0;
  // Queue `i` has started: its rings are in place.
  virtual void on_queue_started(size_t /*i*/) {}
  // Queue `i` is about to stop: buffers the device holds must go back now.
  virtual void on_queue_stopping(size_t /*i*/) {}
  // Back to the initial state (device reset, or the frontend went away).
  virtual void reset() = 0;

 protected:
  virtual uint64_t device_features() const = 0;
  virtual std::vector<uint8_t> config_space() const = 0;

  // Drains queue `i` through `handle`, notifying the driver once per batch
  // and re-arming kicks after it. The loop shape every device needs. The
  // order matters: the driver answers our notification with new buffers,
  // and while kicks are not re-armed it adds them without a kick, so we
  // find them here instead of going back to sleep (one wake-up, not two).
  // At most one ring's worth of chains per call: a guest that keeps the
  // ring full (or whose buffers overwrite its own avail index) cannot hold
  // the event loop. Returns true when it stopped at that bound.
  template <typename Handler>
  bool drain_queue(size_t i, Handler&& handle) {
    SplitQueue& q = queue(i);
    uint32_t budget = q.size();
    for (;;) {
      uint32_t before = budget;
      while (budget > 0) {
        auto chain = q.pop();
        if (!chain) break;
        handle(std::move(*chain));
        --budget;
      }
      uint16_t seen = q.driver_avail_idx();
      bool notified = q.notify_if_needed();
      if (budget == 0) return true;
      // Kicks are still off: what the driver adds while it runs comes
      // without one, and the next round takes it.
      if (notified) let_the_driver_run_if_it_pays(i, [&q, seen] { return q.driver_avail_idx() != seen; });
      if (budget < before) continue;  // this round found work: look once more
      if (!q.rearm_kicks()) return false;
    }
  }

  // Called after a notification on queue `i`. On a CPU the driver shares (a
  // vCPU thread beside this one, the common case on a small embedded host),
  // the driver runs now instead of at our next sleep: it takes what we used
  // and adds its next buffers before we look again, so one wake-up of ours
  // serves many of its requests. Not a poll: once per notification, and we
  // sleep as soon as a look finds nothing. Where the driver has a CPU of its
  // own the yield only costs a system call (or hands the CPU to one of our
  // own threads), so it is kept while it pays: while `paid()` says the driver
  // ran by the time it returned (for requests: its next buffers came; `seen`
  // is its avail index before the notification, which may itself hand the
  // driver our CPU). After kYieldMisses in a row that did not (one a burst's
  // last), it is tried only every kRetryYield notifications.
  template <typename Paid>
  void let_the_driver_run_if_it_pays(size_t i, Paid paid) {
    YieldHabit& h = yield_habits_[i];
    if (h.misses >= kYieldMisses && ++h.since_tried < kRetryYield) return;
    h.since_tried = 0;
    let_the_driver_run();
    h.misses = paid() ? 0 : std::min(h.misses + 1, kYieldMisses);
  }
  // Gives the CPU to whichever thread wants it, once. (Virtual for tests,
  // whose driver runs here.)
  virtual void let_the_driver_run() { sched_yield(); }

 private:
  GuestMemory memory_;
  std::vector<std::unique_ptr<SplitQueue>> queues_;
  struct YieldHabit {
    unsigned misses = 0;  // yields in a row that brought nothing
    unsigned since_tried = 0;
  };
  std::vector<YieldHabit> yield_habits_;  // one per queue
  uint64_t features_ = 0;
};

}  // namespace vgpio::virtio
