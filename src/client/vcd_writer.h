// Writes a Value Change Dump (IEEE 1364-2005 §18) of one-bit signals. One-bit
// signals only: sigrok's VCD input, among others, stops at the first vector.
//
// Times are given in nanoseconds; the file's time unit ($timescale) is chosen
// when the recording ends, because readers pay for a fine one: libsigrok
// makes a sample of every unit, so a 10 s recording in nanoseconds is ten
// billion samples (minutes), in microseconds ten million (half a second).
// Until then the changes wait in a temporary file, so a long recording costs
// disk, not memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio::client {

// A VCD time unit: a power of ten from 1 ns to 1 s.
struct Timescale {
  // 0: the coarsest unit in which every change is exact ("auto").
  uint64_t unit_ns = 0;
  // "auto", or 1ns, 10ns, 100ns, 1us ... 100ms, 1s.
  static Result<Timescale> parse(const std::string& text);
};
// "1 ns", "10 us", "1 s": the form $timescale takes.
std::string timescale_text(uint64_t unit_ns);

class VcdWriter {
 public:
  explicit VcdWriter(std::ostream& out, Timescale scale = {}) : out_(out), scale_(scale) {}

  // Before begin(). `value` is '0', '1', 'x' or 'z'. Names are made safe:
  // anything but letters, digits and "._-:" becomes '_'.
  size_t add_signal(const std::string& name, char initial);
  // Keeps the comment and every signal's first value; fails when no
  // temporary file can be made for the changes. `precision_ns` (a power of
  // ten): how finely the times given are true. An automatic unit is never
  // finer, so the host clock's microsecond jitter does not force nanoseconds
  // on the reader.
  Result<void> begin(const std::string& comment, uint64_t precision_ns = 1);
  // Times before the last one written are taken as the last one: a change
  // the stream reports late is still recorded, in order.
  void change(uint64_t time_ns, size_t signal, char value);

  struct Summary {
    uint64_t unit_ns;
    size_t changes;
    size_t inexact;  // changes whose time a given unit rounded
  };
  // Writes the file, with a closing timestamp at `time_ns` (readers show the
  // last values up to there).
  Result<Summary> finish(uint64_t time_ns);

 private:
  static std::string identifier(size_t index);  // "!", "\"", ..., then two characters
  uint64_t round(uint64_t time_ns) const;       // to the nearest `step_`

  struct Change {
    uint64_t time;  // a multiple of step_, in ns
    uint32_t signal;
    char value;
  };
  struct Signal {
    std::string name;
    std::string id;
    char initial;
    char value;
  };
  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::ostream& out_;
  Timescale scale_;
  uint64_t step_ = 1;  // the given unit, else the precision
  std::string comment_;
  std::vector<Signal> signals_;
  std::unique_ptr<std::FILE, CloseFile> changes_;
  size_t count_ = 0, inexact_ = 0;
  uint64_t time_ = 0;  // the last change's
  uint64_t gcd_ = 0;   // of every change's time
};

}  // namespace vgpio::client
