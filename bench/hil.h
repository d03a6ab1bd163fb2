// Virtual-HIL figures: how close stimulus edges land to their schedule, and
// how long a level takes down a wire from one device's guest to another's.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::bench {

// A 1 kHz clock on line `line` of a running vgpio's first device, with a
// driver on `socket` taking every edge as an interrupt: the error of each
// edge's device timestamp against the clock's schedule.
Result<nlohmann::json> measure_stimulus_timing(const std::string& socket, const std::string& ctl, int edges);

// The least a timer can do here: a bare timerfd + epoll loop on `cpu` (-1:
// any), woken every 500 us at absolute times, as the stimuli are. Returns
// how late each wake-up was; a stimulus edge cannot beat it.
Result<nlohmann::json> measure_timer_floor(int wakeups, int cpu);

// Starts vgpio with two devices and a wire a:l0 -> b:l0 (in `dir`, daemon on
// `daemon_cpu`): from device a's SET_VALUE to device b's eventq completion.
Result<nlohmann::json> measure_wire_latency(const std::string& vgpio, const std::string& dir, int daemon_cpu,
                                            int samples, double floor_p50_us);

}  // namespace vgpio::bench
