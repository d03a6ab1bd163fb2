// vgpio's interrupt figures: an edge on a simulated input, driven through the
// control socket, to the eventq completion seen by the driver.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::bench {

// Latency (from the edge as the daemon stamps it, and from the `ctl set`),
// the sustained rate, and the daemon's CPU per interrupt when `pid` > 0.
Result<nlohmann::json> measure_interrupts(const std::string& socket, const std::string& ctl, pid_t pid, int samples,
                                          double floor_p50_us);

}  // namespace vgpio::bench
