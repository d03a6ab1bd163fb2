#include "client/line_recorder.h"

#include "gpio/protocol.h"

namespace vgpio::client {

using namespace gpio;

namespace {
char direction_value(uint8_t d) { return d == kDirectionOut ? '1' : d == kDirectionIn ? '0' : 'z'; }
bool irq_rising(uint8_t t) { return t == kIrqEdgeRising || t == kIrqEdgeBoth || t == kIrqLevelHigh; }
bool irq_falling(uint8_t t) { return t == kIrqEdgeFalling || t == kIrqEdgeBoth || t == kIrqLevelLow; }
char bit(bool b) { return b ? '1' : '0'; }
}  // namespace

// z only for a line with no direction whose level nobody knows (a host line
// no one has requested); a simulated input has the level the harness drives.
char LineRecorder::level_value(const State& s) const {
  if (s.level < 0) return s.direction == kDirectionNone ? 'z' : 'x';
  return bit(s.level == 1);
}

size_t LineRecorder::add_line(const std::string& device, const std::string& line, State initial) {
  std::string name = device + "." + line;
  size_t first = vcd_.add_signal(name, level_value(initial));
  vcd_.add_signal(name + ".out", direction_value(initial.direction));
  vcd_.add_signal(name + ".irq_rising", bit(irq_rising(initial.irq_type)));
  vcd_.add_signal(name + ".irq_falling", bit(irq_falling(initial.irq_type)));
  vcd_.add_signal(name + ".irq_level", bit(is_level_type(initial.irq_type)));
  lines_.push_back({initial, first});
  return lines_.size() - 1;
}

Result<void> LineRecorder::begin(uint64_t start_ns, const std::string& comment, uint64_t precision_ns) {
  start_ns_ = start_ns;
  return vcd_.begin(comment, precision_ns);
}

void LineRecorder::level(size_t key, bool level, uint64_t ns) {
  Recorded& r = lines_.at(key);
  r.state.level = level;
  vcd_.change(at(ns), r.first_signal, level_value(r.state));
}

void LineRecorder::direction(size_t key, uint8_t direction, uint64_t ns) {
  Recorded& r = lines_.at(key);
  r.state.direction = direction;
  vcd_.change(at(ns), r.first_signal + 1, direction_value(direction));
  vcd_.change(at(ns), r.first_signal, level_value(r.state));
}

void LineRecorder::irq_type(size_t key, uint8_t type, uint64_t ns) {
  Recorded& r = lines_.at(key);
  r.state.irq_type = type;
  vcd_.change(at(ns), r.first_signal + 2, bit(irq_rising(type)));
  vcd_.change(at(ns), r.first_signal + 3, bit(irq_falling(type)));
  vcd_.change(at(ns), r.first_signal + 4, bit(is_level_type(type)));
}

Result<VcdWriter::Summary> LineRecorder::finish(uint64_t ns) { return vcd_.finish(at(ns)); }

}  // namespace vgpio::client
