#include <cstdio>

#include "app/commands.h"
#include "app/host_setup.h"
#include "base/duration.h"
#include "gpio/guest_limits.h"

namespace vgpio::app {
namespace {
// What an output does while no guest drives it; the safe level is logical.
std::string idle_text(const config::LineSpec& l) {
  std::string level = std::to_string(l.policy.safe_level);
  if (l.active_low) level += " (logical: active-low, so the chip drives " + std::to_string(!l.policy.safe_level) + ")";
  return l.policy.hold_when_idle ? "idle: held at safe level " + level
                                 : "idle: released, after going to safe level " + level + " (when_idle = \"release\")";
}
}  // namespace

int check(const std::string& file) {
  auto spec = config::load(file);
  if (!spec) {
    std::fprintf(stderr, "vgpio check: %s\n", spec.error().message().c_str());
    return 1;
  }
  auto resolved = resolve(spec.value());
  if (!resolved) {
    std::fprintf(stderr, "vgpio check: %s\n", resolved.error().message().c_str());
    return 1;
  }
  int busy = 0;
  for (size_t d = 0; d < spec.value().devices.size(); ++d) {
    const auto& dev = spec.value().devices[d];
    std::printf("device %s  (%s%s)\n", dev.name.c_str(), dev.socket.c_str(), dev.connect ? ", connects" : "");
    if (auto w = gpio::linux_line_limit_warning(dev.name, resolved.value()[d].size()))
      std::printf("  warning: %s\n", w->c_str());
    for (size_t i = 0; i < resolved.value()[d].size(); ++i) {
      const ResolvedLine& r = resolved.value()[d][i];
      const auto& p = r.spec->policy;
      const char* dir = p.may_input && p.may_output ? "any" : p.may_input ? "input" : "output";
      std::string host = "simulated", state = "ok";
      if (r.host) {
        host = lines::describe_chip(r.host->chip_path) + " line " + std::to_string(r.host->offset);
        auto holder = lines::line_holder(*r.host);
        if (!holder) state = "error: " + holder.error().message(), ++busy;
        else if (!holder.value().empty()) state = "BUSY: held by \"" + holder.value() + "\"", ++busy;
      }
      std::printf("  %3zu  %-16s %-6s %-40s %s\n", i, r.spec->name.c_str(), dir, host.c_str(), state.c_str());
      if (p.may_output && r.host) std::printf("       %s\n", idle_text(*r.spec).c_str());
    }
  }
  if (busy) {
    std::fprintf(stderr, "vgpio check: %s: %d host line(s) are not free\n", file.c_str(), busy);
    return 1;
  }
  for (const auto& w : spec.value().wires)
    std::printf("wire %s:%s -> %s:%s%s%s\n", w.from_device.c_str(), w.from_line.c_str(), w.to_device.c_str(),
                w.to_line.c_str(), w.delay.count() ? (", delay " + format_duration(w.delay)).c_str() : "",
                w.invert ? ", inverted" : "");
  std::printf("%s: ok\n", file.c_str());
  return 0;
}

}  // namespace vgpio::app
