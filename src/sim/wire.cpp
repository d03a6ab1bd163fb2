#include "sim/wire.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "base/duration.h"

namespace vgpio::sim {

std::string WireSpec::describe() const {
  std::string s = from() + " -> " + to();
  std::string extra;
  if (delay.count() > 0) extra = "delay " + format_duration(delay);
  if (invert) extra += (extra.empty() ? "" : ", ") + std::string("inverted");
  return extra.empty() ? s : s + " (" + extra + ")";
}

Result<void> split_endpoint(const std::string& text, std::string& device, std::string& line) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return Error("\"" + text + "\" is not DEVICE:LINE (a line name or number)", EINVAL);
  device = text.substr(0, colon);
  line = text.substr(colon + 1);
  return ok();
}

Result<std::shared_ptr<Wire>> Wire::create(WireSpec spec, size_t from_line, size_t to_line) {
  UniqueFd event(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event) return Error::from_errno(errno, "eventfd for wire " + spec.describe());
  return std::shared_ptr<Wire>(new Wire(std::move(spec), from_line, to_line, std::move(event)));
}

void Wire::send(bool level, bool force) {
  if (!force && last_sent_ == int(level)) return;
  last_sent_ = level;
  int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  // Once one level was dropped, later ones are too until the target has
  // taken the latest: a ring item must never overtake it.
  if (dropped_.load(std::memory_order_acquire) != 0 || tail - head_.load(std::memory_order_acquire) == kCapacity) {
    latest_.store((int64_t(level) << 62) | now, std::memory_order_release);
    dropped_.fetch_add(1, std::memory_order_acq_rel);
  } else {
    ring_[tail % kCapacity] = Item{level, now};
    tail_.store(tail + 1, std::memory_order_release);
  }
  uint64_t one = 1;
  (void)!::write(event_.get(), &one, sizeof one);
}

}  // namespace vgpio::sim
