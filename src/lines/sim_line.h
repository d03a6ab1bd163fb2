// A simulated line: the harness drives its input level, the guest drives its
// output level, and both can be observed. Edges on the input are reported
// whenever the line is not an output (a guest may enable an interrupt on a
// line it never set to input).
#pragma once

#include "lines/line.h"

namespace vgpio::lines {

class SimLine final : public Line {
 public:
  explicit SimLine(std::string name, LinePolicy policy = {})
      : Line(std::move(name), policy), output_(policy.safe_level) {}

  std::string describe() const override { return "simulated"; }
  std::string holder() const override { return mode_ == LineMode::Idle ? "" : "guest"; }
  LineMode mode() const override { return mode_; }

  Result<void> set_input() override;
  Result<void> set_output(bool level) override;
  void release() override;
  Result<bool> get() override;
  Result<void> set(bool level) override;
  Result<void> drive(bool level) override;
  bool simulated() const override { return true; }
  bool driven_level() const override { return input_; }

  bool output_level() const { return output_; }

 private:
  LineMode mode_ = LineMode::Idle;
  bool input_ = false;  // what the harness drives
  bool output_;         // what the guest drives; its safe level while idle
};

}  // namespace vgpio::lines
