// vgpio's memory per device and per line, the largest device, and idle CPU.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::bench {

// Starts vgpio (`vgpio` binary) several times in `dir`; `quick` shortens the idle wait.
Result<nlohmann::json> measure_memory_and_scale(const std::string& vgpio, const std::string& dir, bool quick);

}  // namespace vgpio::bench
