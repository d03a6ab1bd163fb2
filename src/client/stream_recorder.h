// A VCD recording fed by the control socket's watch stream: the snapshot a
// watch starts with gives the lines and their first state, each event after
// it a change (client/line_recorder.h says what is written per line). Used by
// `vgpio ctl record` and by the panel's record button.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>

#include "client/line_recorder.h"

namespace vgpio::client {

class StreamRecorder {
 public:
  explicit StreamRecorder(std::ostream& out, Timescale scale = {}) : recorder_(out, scale) {}

  // The lines of a watch's snapshot for which `wanted(line)` holds; returns
  // how many. Then begin(). Times are the host's, or the guest's when the
  // lines are all of one device on its guest's time (src/guest_clock).
  size_t add_lines(const nlohmann::json& snapshot, const std::function<bool(const nlohmann::json&)>& wanted);
  Result<void> begin(const std::string& comment);
  // True when the event was about a recorded line.
  bool apply(const nlohmann::json& event);
  // "guest" when the times are the guest's, else "host".
  const char* clock() const { return guest_time_ ? "guest" : "host"; }
  // Writes the file, ending `elapsed_ns` after the snapshot (on guest time,
  // at the last change).
  Result<VcdWriter::Summary> finish(uint64_t elapsed_ns);

 private:
  client::LineRecorder recorder_;
  std::map<std::pair<std::string, size_t>, size_t> keys_;  // (device, line) -> recorder key
  uint64_t start_ns_ = 0;
  bool guest_time_ = false;
  uint64_t last_ns_ = 0;  // of the last change
};

// The names the control protocol uses, back to the protocol's numbers.
uint8_t direction_number(const std::string& name);
uint8_t irq_number(const std::string& name);

}  // namespace vgpio::client
