// A wire: a guest output on one device drives a simulated input on another
// (or on the same device). The source device's thread sends each level the
// guest drives; the target device's thread receives them. In between is a
// single-producer single-consumer ring and an eventfd, so the hot path takes
// no lock and a slow target never blocks the source.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio::sim {

struct WireSpec {
  std::string from_device, from_line;  // line: a name or a number
  std::string to_device, to_line;
  std::chrono::nanoseconds delay{0};
  bool invert = false;

  std::string from() const { return from_device + ":" + from_line; }
  std::string to() const { return to_device + ":" + to_line; }
  std::string describe() const;  // "plc1:relay -> plant:pump_on (delay 2ms, inverted)"
};
// "DEVICE:LINE"; the line may be a name or a number.
Result<void> split_endpoint(const std::string& text, std::string& device, std::string& line);

class Wire {
 public:
  // Levels in flight before the target falls behind; then only the latest
  // level is kept (the target still ends where the source is).
  static constexpr size_t kCapacity = 1024;

  static Result<std::shared_ptr<Wire>> create(WireSpec spec, size_t from_line, size_t to_line);
  const WireSpec& spec() const { return spec_; }
  size_t from_line() const { return from_line_; }
  size_t to_line() const { return to_line_; }

  // Source thread. `force` sends even when the level did not change.
  void send(bool level, bool force = false);

  // Target thread: readable when levels arrived.
  int fd() const { return event_.get(); }
  struct Arrival {
    bool level;                                 // inverted already, when the wire inverts
    std::chrono::steady_clock::time_point due;  // sent + delay
  };
  // Takes what arrived, in order. Returns how many levels were dropped
  // because the ring was full (the last one given is then the latest level).
  template <typename F>
  size_t receive(F&& each);

 private:
  Wire(WireSpec spec, size_t from_line, size_t to_line, UniqueFd event)
      : spec_(std::move(spec)), from_line_(from_line), to_line_(to_line), event_(std::move(event)) {}
  struct Item {
    bool level;
    int64_t sent_ns;  // steady_clock
  };

  const WireSpec spec_;
  const size_t from_line_, to_line_;
  UniqueFd event_;
  std::array<Item, kCapacity> ring_{};
  std::atomic<uint64_t> head_{0};  // next to read; written by the target
  std::atomic<uint64_t> tail_{0};  // next to write; written by the source
  std::atomic<uint64_t> dropped_{0};
  std::atomic<int64_t> latest_{0};  // level << 62 | sent_ns, for after a drop
  int last_sent_ = -1;              // source thread only
};

template <typename F>
size_t Wire::receive(F&& each) {
  uint64_t counter;
  (void)!::read(event_.get(), &counter, sizeof counter);
  auto arrival = [&](bool level, int64_t sent_ns) {
    return Arrival{level != spec_.invert,
                   std::chrono::steady_clock::time_point(std::chrono::nanoseconds(sent_ns)) + spec_.delay};
  };
  auto drain = [&] {
    uint64_t head = head_.load(std::memory_order_relaxed);
    uint64_t tail = tail_.load(std::memory_order_acquire);
    for (; head != tail; ++head) each(arrival(ring_[head % kCapacity].level, ring_[head % kCapacity].sent_ns));
    head_.store(head, std::memory_order_release);
  };
  drain();
  size_t dropped = dropped_.load(std::memory_order_acquire);
  if (dropped == 0) return 0;
  // The source stopped filling the ring at its first drop, but may have added
  // items after the drain above read the tail: those are older than the
  // latest level, so they go first.
  drain();
  int64_t latest = latest_.load(std::memory_order_acquire);
  each(arrival((latest >> 62) & 1, latest & ((int64_t(1) << 62) - 1)));
  // Only now may the source use the ring again. Drops made meanwhile stay
  // counted, and the next receive gives their (newer) latest level.
  dropped_.fetch_sub(dropped, std::memory_order_acq_rel);
  return dropped;
}

}  // namespace vgpio::sim
