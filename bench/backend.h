// What any vhost-user-gpio backend costs, measured over its socket with
// requests that every backend following the spec must answer OK.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace vgpio::bench {

struct BackendOptions {
  int samples = 20000;             // per latency figure
  double seconds_per_level = 1.0;  // per throughput level
  pid_t pid = -1;                  // the backend's, for its CPU time; -1: not known
  double floor_p50_us = 0;         // for the ratios
};

// Makes the first lines outputs (SET_VALUE 0, then SET_DIRECTION OUT) and
// then times GET_VALUE and SET_VALUE of them: one at a time (latency, with a
// CDF) and 1 to 64 in flight (throughput, and the backend's CPU per request
// when its pid is known).
Result<nlohmann::json> measure_backend(const std::string& socket, const BackendOptions& options);

// The requests measure_backend() sends, for the report.
inline constexpr const char* kRequestsUsed =
    "lines 0..63 made outputs (SET_VALUE 0, SET_DIRECTION OUT); then GET_VALUE and SET_VALUE of those outputs";

// The levels of requests in flight that measure_backend() runs.
inline constexpr int kInFlightLevels[] = {1, 2, 4, 8, 16, 32, 64};

}  // namespace vgpio::bench
