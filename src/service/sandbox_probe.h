// Test builds only (VGPIO_SANDBOX_PROBE): tries, from the calling thread, what
// the sandbox must refuse. Each attempt is harmless when it succeeds, so a
// daemon without its sandbox comes to no harm either.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vgpio::service {

// What to reach for besides the fixed attempts; each is skipped when unset.
struct ProbeTargets {
  std::string foreign_chip;    // a GPIO chip the daemon was not given
  int sibling_pid = 0;         // another process (a sibling instance): signalled with 0
  std::string sibling_socket;  // another instance's control socket: connected to
};

// (attempt, errno): 0 when the call succeeded.
std::vector<std::pair<std::string, int>> probe_sandbox(const ProbeTargets& targets);

}  // namespace vgpio::service
