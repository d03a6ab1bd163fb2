// Writes a Value Change Dump (IEEE 1364-2005 §18) of one-bit signals, with
// times in nanoseconds. One-bit signals only: sigrok's VCD input, among
// others, stops at the first vector.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace vgpio::client {

class VcdWriter {
 public:
  explicit VcdWriter(std::ostream& out) : out_(out) {}

  // Before begin(). `value` is '0', '1', 'x' or 'z'. Names are made safe:
  // anything but letters, digits and "._-:" becomes '_'.
  size_t add_signal(const std::string& name, char initial);
  // The header, and every signal's first value at time 0.
  void begin(const std::string& comment);
  // Times before the last one written are taken as the last one: a change
  // the stream reports late is still recorded, in order.
  void change(uint64_t time_ns, size_t signal, char value);
  // A closing timestamp: readers show the last values up to here.
  void finish(uint64_t time_ns);
  uint64_t last_time() const { return time_; }

 private:
  static std::string identifier(size_t index);  // "!", "\"", ..., then two characters
  void stamp(uint64_t time_ns);

  std::ostream& out_;
  struct Signal {
    std::string name;
    std::string id;
    char value;
  };
  std::vector<Signal> signals_;
  uint64_t time_ = 0;
};

}  // namespace vgpio::client
