// What the page's buttons do, through the control socket. Pure request ->
// answer functions, so that they are tested without a browser.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::panel {

// {"device", "line", "action": "toggle" | "pulse" | "bounce"}. Simulated
// inputs only: a host line, or a guest's output, is refused here.
Result<nlohmann::json> drive(const std::string& control, const nlohmann::json& request);

// {"seconds": 1..60}: every line of every device, recorded into a VCD.
Result<std::string> record(const std::string& control, const nlohmann::json& request);

}  // namespace vgpio::panel
