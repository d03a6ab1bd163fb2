// The bench's report as a table for people (--json prints it whole).
#pragma once

#include <nlohmann/json.hpp>

namespace vgpio::bench {

void print_report(const nlohmann::json& report);

}  // namespace vgpio::bench
