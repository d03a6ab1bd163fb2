// Finding host GPIO lines: a chip given as a path, "gpiochipN" or its label;
// a line given by offset or by name on any chip. And what the kernel says
// about a line (who holds it).
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "base/result.h"

namespace vgpio {

struct HostLineRef {
  std::string chip_path;  // /dev/gpiochipN
  unsigned offset;
};

// libgpiod reports failures as std::system_error; this makes them Errors.
Error error_from(const std::exception& e, const std::string& context);

Result<std::string> resolve_chip(const std::string& spec);
Result<HostLineRef> find_line_by_name(const std::string& name);
// Checks the offset exists on the chip.
Result<void> check_line(const HostLineRef& ref);
// "" when the line is free, else its consumer ("?" when it has none).
Result<std::string> line_holder(const HostLineRef& ref);
// The chip's name and label, e.g. "gpiochip2 [gpio-sim.0-node0]".
std::string describe_chip(const std::string& path);

}  // namespace vgpio
