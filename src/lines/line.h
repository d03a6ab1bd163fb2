// One line behind a virtual chip, as a provider (simulated, or a host chip)
// offers it. The device model decides what the guest may do; a Line only does
// it. All calls happen on the owning device's loop thread.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.h"

namespace vgpio::lines {

enum class LineMode { Idle, Input, Output };
enum class Edge { Rising, Falling };

// What the host owner allows on a line, from the config file. The device
// model enforces it for every kind of line.
struct LinePolicy {
  bool may_input = true;
  bool may_output = true;
  // A logical level (it honours active-low): an output goes here when the
  // guest lets go, dies, or vgpio stops.
  bool safe_level = false;
  bool initial = false;  // output level when the guest sets OUT without SET_VALUE
  // Kept requested, driven to safe_level, whenever no guest drives the line
  // (from start-up on); else released while idle, for other host programs.
  bool hold_when_idle = false;
  bool operator==(const LinePolicy&) const = default;
};

// Told about input changes; implemented by the device model.
class LineListener {
 public:
  virtual ~LineListener() = default;
  virtual void on_line_edge(size_t index, Edge edge) = 0;
};

class Line {
 public:
  explicit Line(std::string name, LinePolicy policy = {}) : name_(std::move(name)), policy_(policy) {}
  virtual ~Line() = default;
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  const std::string& name() const { return name_; }
  const LinePolicy& policy() const { return policy_; }
  void attach(LineListener* listener, size_t index) {
    listener_ = listener;
    index_ = index;
  }

  // "simulated", "gpiochip0 line 5", ... for people reading `vgpio ctl list`.
  virtual std::string describe() const = 0;
  // Who has the line now ("" when nobody).
  virtual std::string holder() const = 0;
  virtual LineMode mode() const = 0;
  // What became of the line's request across vgpio's restart ("" when
  // nothing was handed over), for `vgpio ctl status`.
  virtual std::string adoption() const { return ""; }
  // A line whose request should have come over from the previous process,
  // and did not (the line was released when that process ended).
  virtual bool request_missed() const { return false; }
  // Why what the service manager kept under this line's name was refused
  // ("" when nothing was, or nothing was handed over).
  virtual std::string kept_request_refused() const { return ""; }

  virtual Result<void> set_input() = 0;
  virtual Result<void> set_output(bool level) = 0;
  // Back to idle: an output goes to policy().safe_level first, and a held
  // line stays there. Never fails from the guest's point of view: a provider
  // logs what it could not undo.
  virtual void release() = 0;
  virtual Result<bool> get() = 0;
  virtual Result<void> set(bool level) = 0;

  // Drives the line from outside (a test harness). Only simulated lines can.
  virtual Result<void> drive(bool level);
  virtual bool simulated() const { return false; }
  // The level drive() last set (simulated lines only).
  virtual bool driven_level() const { return false; }

 protected:
  void report_edge(Edge edge) {
    if (listener_) listener_->on_line_edge(index_, edge);
  }

 private:
  std::string name_;
  LinePolicy policy_;
  LineListener* listener_ = nullptr;
  size_t index_ = 0;
};

}  // namespace vgpio::lines
