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
    bool level;  // inverted already, when the wire inverts
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
  uint64_t head = head_.load(std::memory_order_relaxed);
  uint64_t tail = tail_.load(std::memory_order_acquire);
  for (; head != tail; ++head) {
    const Item& item = ring_[head % kCapacity];
    each(Arrival{item.level != spec_.invert,
                 std::chrono::steady_clock::time_point(std::chrono::nanoseconds(item.sent_ns)) + spec_.delay});
  }
  head_.store(head, std::memory_order_release);
  size_t dropped = dropped_.exchange(0, std::memory_order_acq_rel);
  if (dropped) {
    int64_t latest = latest_.load(std::memory_order_acquire);
    bool level = (latest >> 62) & 1;
    auto sent = std::chrono::nanoseconds(latest & ((int64_t(1) << 62) - 1));
    each(Arrival{level != spec_.invert, std::chrono::steady_clock::time_point(sent) + spec_.delay});
  }
  return dropped;
}

}  // namespace vgpio::sim
