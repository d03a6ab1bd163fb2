// What the Linux guest driver can take, beyond what virtio-gpio allows.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace vgpio::gpio {

// Linux 6.12's gpio-virtio keeps the state of every line in one kmalloc of
// at most 4 MiB (192 bytes a line, plus a header that the architecture's DMA
// alignment sizes), so its probe fails with -ENOMEM above these. Measured and
// pinned by the guest test driver_line_limit.
inline constexpr size_t kLinuxMaxLinesX86 = 21845;
inline constexpr size_t kLinuxMaxLinesArm64 = 21844;

// A warning for a device too big for a Linux guest, or nothing. Such a
// device still works for other drivers (vgpio's own driver library, the bench).
inline std::optional<std::string> linux_line_limit_warning(const std::string& device, size_t lines) {
  if (lines <= kLinuxMaxLinesArm64) return std::nullopt;
  const char* who = lines > kLinuxMaxLinesX86 ? "no Linux guest will see it"
                                              : "an arm64 Linux guest will not see it (an x86_64 one will)";
  return "device " + device + " has " + std::to_string(lines) + " lines, and " + who +
         ": Linux 6.12's gpio-virtio driver probes at most " + std::to_string(kLinuxMaxLinesX86) +
         " lines on x86_64 and " + std::to_string(kLinuxMaxLinesArm64) +
         " on arm64. Split the lines over several devices.";
}

}  // namespace vgpio::gpio
