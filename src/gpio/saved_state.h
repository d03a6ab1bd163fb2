// What the guest set up on a device, kept where a restarted vgpio finds it: a
// memfd the service manager holds in its fd store (restart/carryover.h).
// Written through a shared mapping as the guest changes it, so keeping it
// costs no system call, and a crash at any instant leaves it as the last
// request answered left it: a request not answered yet is not in it, and the
// frontend hands that request to the next process again (QEMU rewinds a
// broken ring to its used index), where it is answered as if it were new.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio::gpio {

class SavedState {
 public:
  // One line, as GpioDevice::GuestLine holds it.
  struct Line {
    uint8_t direction;
    uint8_t value;
    uint8_t irq_type;
    uint8_t flags;      // kEdgePending, kHoldsBuffer, kDrivenHigh
    uint16_t irq_head;  // the eventq buffer held (unmasked), with kHoldsBuffer
    uint16_t reserved;
  };
  // kDrivenHigh: a simulated line's harness drives it high (Line::drive).
  static constexpr uint8_t kEdgePending = 1, kHoldsBuffer = 2, kDrivenHigh = 4;

  // A new one, for a device of these lines, with every line idle.
  static Result<std::unique_ptr<SavedState>> create(const std::string& device,
                                                    const std::vector<std::string>& line_names);
  // The previous process's. Fails, saying why, when it is not one (corrupt,
  // or for another line set): the device then starts clean.
  static Result<std::unique_ptr<SavedState>> open(UniqueFd fd, const std::string& device,
                                                  const std::vector<std::string>& line_names);
  ~SavedState();
  SavedState(const SavedState&) = delete;
  SavedState& operator=(const SavedState&) = delete;

  int fd() const { return fd_.get(); }
  size_t line_count() const { return count_; }
  Line& line(size_t i) { return lines_[i]; }
  // The eventq's next avail index: every buffer before it was taken, and is
  // answered, held (recorded in its line) or lost to a crash; valid only
  // after set.
  bool has_event_next_avail() const;
  uint16_t event_next_avail() const;
  void set_event_next_avail(uint16_t index);
  void clear_event_next_avail();

 private:
  struct Header;
  SavedState(UniqueFd fd, void* map, size_t size, size_t count);
  UniqueFd fd_;
  void* map_;
  size_t size_;
  size_t count_;
  Header* header_;
  Line* lines_;
};

}  // namespace vgpio::gpio
