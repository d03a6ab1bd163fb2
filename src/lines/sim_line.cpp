#include "lines/sim_line.h"

namespace vgpio::lines {

Result<void> SimLine::set_input() {
  mode_ = LineMode::Input;
  return ok();
}

Result<void> SimLine::set_output(bool level) {
  mode_ = LineMode::Output;
  output_ = level;
  return ok();
}

void SimLine::release() {
  mode_ = LineMode::Idle;
  output_ = policy().safe_level;
}

Result<bool> SimLine::get() { return mode_ == LineMode::Output ? output_ : input_; }

Result<void> SimLine::set(bool level) {
  if (mode_ != LineMode::Output) return Error("line " + name() + " is not an output");
  output_ = level;
  return ok();
}

Result<void> SimLine::drive(bool level) {
  if (level == input_) return ok();
  input_ = level;
  if (mode_ != LineMode::Output) report_edge(level ? Edge::Rising : Edge::Falling);
  return ok();
}

}  // namespace vgpio::lines
