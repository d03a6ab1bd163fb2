// Records lines into a VCD file. Each line is five one-bit signals, because
// common VCD readers (sigrok) take one-bit signals only:
//   DEV.LINE                 its level, whatever the direction (a harness drives a pin
//                            before firmware configures it); z where nothing drives it
//   DEV.LINE.out             its direction: 1 output, 0 input, z none
//   DEV.LINE.irq_rising      \  its interrupt type: rising 100, falling 010,
//   DEV.LINE.irq_falling      > both edges 110, level high 101, level low 011,
//   DEV.LINE.irq_level       /  none 000
// Times are given in ns since the epoch and written from the recording's start,
// in the unit client/vcd_writer.h chooses.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "client/vcd_writer.h"

namespace vgpio::client {

class LineRecorder {
 public:
  struct State {
    int level = -1;         // -1: not known
    uint8_t direction = 0;  // gpio::kDirection*
    uint8_t irq_type = 0;   // gpio::kIrq*
  };
  explicit LineRecorder(std::ostream& out, Timescale scale = {}) : vcd_(out, scale) {}

  // Before begin(); returns the line's key for the changes below.
  size_t add_line(const std::string& device, const std::string& line, State initial);
  Result<void> begin(uint64_t start_ns, const std::string& comment, uint64_t precision_ns = 1);
  void level(size_t key, bool level, uint64_t ns);
  void direction(size_t key, uint8_t direction, uint64_t ns);
  void irq_type(size_t key, uint8_t type, uint64_t ns);
  Result<VcdWriter::Summary> finish(uint64_t ns);

 private:
  struct Recorded {
    State state;
    size_t first_signal;  // the level; the four others follow it
  };
  char level_value(const State& s) const;
  uint64_t at(uint64_t ns) const { return ns > start_ns_ ? ns - start_ns_ : 0; }

  VcdWriter vcd_;
  std::vector<Recorded> lines_;
  uint64_t start_ns_ = 0;
};

}  // namespace vgpio::client
