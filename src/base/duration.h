// Durations as people write them, in config files and on the command line:
// "10ms", "500us", "250ns", "1.5s", or a bare number of microseconds.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace vgpio {

// At most 1000 s; never negative.
Result<std::chrono::nanoseconds> parse_duration(const std::string& text);
// The shortest exact form: "10ms", "2.5us", "1s".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace vgpio
