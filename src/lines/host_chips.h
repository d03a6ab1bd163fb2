// Finding host GPIO lines: a chip given as a path, "gpiochipN" or its label;
// a line given by offset or by name on any chip. And what the kernel says
// about a line (who holds it).
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "base/result.h"

namespace vgpio::lines {

struct HostLineRef {
  std::string chip_path;  // /dev/gpiochipN
  unsigned offset;
};

// What makes a chip the same chip when it comes back: a /dev/gpiochipN number
// is reused by whatever chip appears next, so the path alone proves nothing.
struct ChipIdentity {
  std::string label;
  size_t num_lines = 0;
  std::string line_name;  // the line's own name; "" when it has none
  bool operator==(const ChipIdentity&) const = default;
  // "label \"gpio-sim.0-node0\", 8 lines, line named \"relay\"".
  std::string describe() const;
};

// A host line as the config names it: by chip (path, gpiochipN or label) and
// offset, or by the line's name. Kept so that a chip that comes back under
// another /dev/gpiochipN is found again.
struct HostLineSource {
  std::string chip;
  unsigned offset = 0;
  std::string host_name;  // when set, chip and offset are unused
};

// libgpiod reports failures as std::system_error; this makes them Errors.
Error error_from(const std::exception& e, const std::string& context);

Result<std::string> resolve_chip(const std::string& spec);
Result<HostLineRef> find_line_by_name(const std::string& name);
// Checks the offset exists on the chip.
Result<void> check_line(const HostLineRef& ref);
// Finds the line now, checks it exists, and gives its chip's canonical path
// (the same chip named two ways is one chip).
Result<HostLineRef> resolve_line(const HostLineSource& source);
Result<ChipIdentity> identify(const HostLineRef& ref);
// "" when the line is free, else its consumer ("?" when it has none).
Result<std::string> line_holder(const HostLineRef& ref);
// Whether the line is configured as an output now; an error when its chip
// cannot be read.
Result<bool> line_is_output(const HostLineRef& ref);
// The chip's name and label, e.g. "gpiochip2 [gpio-sim.0-node0]".
std::string describe_chip(const std::string& path);

}  // namespace vgpio::lines
