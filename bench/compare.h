// Several runs of the same measurements, reduced to their medians, and the
// ratios of vgpio's medians to the peer's.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace vgpio::bench {

// The element-wise median of runs that share one shape: every number (and
// every number in an array) becomes the median of its values across runs.
nlohmann::json median_of(const std::vector<nlohmann::json>& runs);

// vgpio / peer for each figure that both have: throughput and backend CPU
// per request at each level in flight, and the GET_VALUE percentiles.
// `floor_p50_us`, the machine's eventfd ping-pong, goes in beside them.
nlohmann::json ratios(const nlohmann::json& vgpio, const nlohmann::json& peer, double floor_p50_us);

}  // namespace vgpio::bench
