// A line of a host GPIO chip, through libgpiod v2, under the consumer name of
// the vgpio device.
// - A held line (policy().hold_when_idle: outputs, by default) is requested
//   when it is made and stays requested, at its safe level, whenever no guest
//   drives it. A guest takes over that request, which is reconfigured in place:
//   never released and requested again, so it never passes through the other
//   level.
// - Any other line is requested only while the guest has it active (IN or
//   OUT), and released on NONE, disconnect and exit (an output set to its safe
//   level first).
// Edge events are read from the request's fd in the device's event loop: no
// thread, no polling. A chip that goes away and comes back (a re-plugged USB
// expander, under another /dev/gpiochipN) is found again through the
// ChipMonitor, and the line is put back as it was; only on a chip with the
// label, line count and line name it had at start-up, never on whatever chip
// took its number.
// With a RequestKeeper, every request outlives the process: a line whose
// request the previous process kept is adopted as it is (not held, not
// reconfigured) and the device model settles it (GpioDevice::resume).
#pragma once

#include <chrono>
#include <memory>

#include "base/event_loop.h"
#include "lines/chip_monitor.h"
#include "lines/host_chips.h"
#include "lines/line.h"
#include "lines/line_request.h"
#include "lines/request_keeper.h"

namespace vgpio::lines {

struct HostLineSettings {
  HostLineRef ref;        // where the line is now
  HostLineSource source;  // how the config names it, to find it again
  std::string consumer;   // "vgpio-<device>"
  bool active_low = false;
  Bias bias = Bias::AsIs;
  std::chrono::microseconds debounce{0};
  std::shared_ptr<RequestKeeper> keeper{};  // null: requests end with the process
};

class HostLine final : public Line, private ChipListener {
 public:
  // A held line is at its safe level when this returns. `chips` may be null:
  // then a chip that goes away is not looked for again.
  static Result<std::unique_ptr<HostLine>> create(std::string name, LinePolicy policy, HostLineSettings settings,
                                                  EventLoop& loop, std::shared_ptr<ChipMonitor> chips);
  // Safe level first, then the request is released.
  ~HostLine() override;

  std::string describe() const override;
  std::string holder() const override;
  std::string adoption() const override { return adoption_; }
  bool request_missed() const override { return settings_.keeper && !adopted_; }
  std::string kept_request_refused() const override { return refused_; }
  LineMode mode() const override { return mode_; }

  Result<void> set_input() override;
  Result<void> set_output(bool level) override;
  void release() override;
  Result<bool> get() override;
  Result<void> set(bool level) override;

 private:
  HostLine(std::string name, LinePolicy policy, HostLineSettings settings, EventLoop& loop,
           std::shared_ptr<ChipMonitor> chips);
  // Takes the request the previous process kept, if there is one.
  void adopt_kept_request();
  // Requests the line as `mode`, or reconfigures the request it has.
  Result<void> configure(LineMode mode, bool level);
  Result<void> watch_request();
  Result<void> hold_safe() { return configure(LineMode::Output, policy().safe_level); }
  void on_events(uint32_t events);
  void on_chip_change(const std::string& path, bool present) override;
  void chip_lost(const char* how);
  // Looks for a lost chip; when found, puts the line back as the guest (or
  // the hold) had it.
  void try_reacquire();
  // Drops the request and its fd watch, without touching the line.
  void forget_request();
  std::string where() const;

  HostLineSettings settings_;
  ChipIdentity identity_;  // the chip as it was at start-up
  std::string mismatch_;   // what was found instead, while it is not the same chip
  EventLoop& loop_;
  std::shared_ptr<ChipMonitor> chips_;
  LineMode mode_ = LineMode::Idle;  // as the guest set it
  bool level_ = false;              // the guest's output level, to restore on a chip's return
  bool chip_gone_ = false;
  bool reacquiring_ = false;
  std::unique_ptr<LineRequest> request_;
  EventLoop::WatchId watch_ = 0;
  std::string adoption_;  // what became of a request the previous process kept
  std::string refused_;   // why that was refused
  bool adopted_ = false;
};

}  // namespace vgpio::lines
