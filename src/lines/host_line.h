// A line of a host GPIO chip, through libgpiod v2. It is requested only while
// the guest has it active (IN or OUT), under the consumer name of the vgpio
// device, and released on NONE, disconnect and exit (outputs set to their
// safe level first). Edge events are read from the request's fd in the
// device's event loop: no thread, no polling.
#pragma once

#include <chrono>
#include <gpiod.hpp>
#include <memory>
#include <optional>

#include "base/event_loop.h"
#include "lines/host_chips.h"
#include "lines/line.h"

namespace vgpio {

enum class Bias { AsIs, Disabled, PullUp, PullDown };

struct HostLineSettings {
  HostLineRef ref;
  std::string consumer;  // "vgpio-<device>"
  bool active_low = false;
  Bias bias = Bias::AsIs;
  std::chrono::microseconds debounce{0};
};

class HostLine final : public Line {
 public:
  HostLine(std::string name, LinePolicy policy, HostLineSettings settings, EventLoop& loop);
  ~HostLine() override;

  std::string describe() const override;
  std::string holder() const override;
  LineMode mode() const override { return mode_; }

  Result<void> set_input() override;
  Result<void> set_output(bool level) override;
  void release() override;
  Result<bool> get() override;
  Result<void> set(bool level) override;

 private:
  Result<void> configure(LineMode mode, bool level);
  void on_events(uint32_t events);
  // Drops the request and its fd watch; the line is idle again.
  void forget_request();
  std::string where() const;

  HostLineSettings settings_;
  EventLoop& loop_;
  LineMode mode_ = LineMode::Idle;
  std::optional<gpiod::line_request> request_;
  EventLoop::WatchId watch_ = 0;
  gpiod::edge_event_buffer events_{16};
};

}  // namespace vgpio
