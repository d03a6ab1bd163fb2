// vgpio's interrupt figures: an edge on an input, to the eventq completion seen
// by the driver. The edge is a simulated input's, driven through the control
// socket, or a host line's: a gpio-sim line pulled through its sysfs file.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::bench {

// Latency (from the edge as the daemon stamps it, and from the request that
// made it), the sustained rate, and the daemon's CPU per interrupt when
// `pid` > 0. The edges are on line 2 of the control socket's first device:
// made with `ctl set` when `pull_file` is empty, else by writing "pull-up" and
// "pull-down" to it (a gpio-sim line's `pull`, which line 2 must be).
Result<nlohmann::json> measure_interrupts(const std::string& socket, const std::string& ctl, pid_t pid, int samples,
                                          double floor_p50_us, const std::string& pull_file = "");

}  // namespace vgpio::bench
