// Test builds only (VGPIO_SANDBOX_PROBE): tries, from the calling thread, what
// the sandbox must refuse. Each attempt is harmless when it succeeds, so a
// daemon without its sandbox comes to no harm either.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vgpio::service {

// (attempt, errno): 0 when the call succeeded. `foreign_chip`: a GPIO chip
// the daemon was not given ("" to skip that attempt).
std::vector<std::pair<std::string, int>> probe_sandbox(const std::string& foreign_chip);

}  // namespace vgpio::service
