// A line whose every operation answers what the test set: the error paths of
// host lines (a chip that answers EIO, a line another program took, a request
// the previous process did not hand over) in unit tests, without a kernel.
// It records what was asked of it, in order.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "lines/line.h"

namespace vgpio::testing {

class ScriptedLine final : public lines::Line {
 public:
  explicit ScriptedLine(std::string name = "scripted", lines::LinePolicy policy = {})
      : lines::Line(std::move(name), policy) {}

  // What each operation answers: nullopt succeeds, an errno code fails.
  std::optional<int> fail_set_input, fail_set_output, fail_get, fail_set;
  bool level = false;  // what get() reads when it succeeds
  // What it says of itself across a restart (Line's accessors).
  bool missed = false;
  std::string refused, adopted;
  // "set_input", "set_output 1", "get", "set 0", "release": each call, in order.
  std::vector<std::string> calls;
  // An edge, as a host chip's event would report it.
  void edge(lines::Edge e) { report_edge(e); }

  std::string describe() const override { return "scripted"; }
  std::string holder() const override { return mode_ == lines::LineMode::Idle ? "" : "vgpio"; }
  lines::LineMode mode() const override { return mode_; }
  std::string adoption() const override { return adopted; }
  bool request_missed() const override { return missed; }
  std::string kept_request_refused() const override { return refused; }

  Result<void> set_input() override {
    calls.push_back("set_input");
    if (fail_set_input) return Error::from_errno(*fail_set_input, "set_input");
    mode_ = lines::LineMode::Input;
    return ok();
  }
  Result<void> set_output(bool value) override {
    calls.push_back(value ? "set_output 1" : "set_output 0");
    if (fail_set_output) return Error::from_errno(*fail_set_output, "set_output");
    mode_ = lines::LineMode::Output;
    level = value;
    return ok();
  }
  void release() override {
    calls.push_back("release");
    if (mode_ == lines::LineMode::Output) level = policy().safe_level;
    mode_ = lines::LineMode::Idle;
  }
  Result<bool> get() override {
    calls.push_back("get");
    if (fail_get) return Error::from_errno(*fail_get, "get");
    return level;
  }
  Result<void> set(bool value) override {
    calls.push_back(value ? "set 1" : "set 0");
    if (fail_set) return Error::from_errno(*fail_set, "set");
    level = value;
    return ok();
  }

 private:
  lines::LineMode mode_ = lines::LineMode::Idle;
};

}  // namespace vgpio::testing
