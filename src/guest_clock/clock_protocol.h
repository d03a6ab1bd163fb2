// What vgpio and the vgpio-clock QEMU plugin (qemu-plugin/vgpio-clock.c, which
// defines the same in C and says how the hold works) say to each other over
// the clock socket: fixed 16-byte messages, little-endian.
#pragma once

#include <cstdint>

namespace vgpio::guest_clock {

constexpr uint32_t kMagic = 0x6b636776;  // "vgck"

// Plugin to vgpio.
enum class Kind : uint32_t {
  Hello = 1,  // a guest starts; guest_ns: its time now
  Held = 2,   // the guest is held at guest_ns, the time vgpio asked for
};
struct FromPlugin {
  uint32_t magic;
  uint32_t kind;
  uint64_t guest_ns;
};

// vgpio to plugin: run the guest until until_ns, the next hold. With it, as
// SCM_RIGHTS, the call eventfds vgpio signalled while the guest was held:
// QEMU must have read them (and raised the interrupts) before the guest runs.
struct ToPlugin {
  uint32_t magic;
  uint32_t flags;  // none yet
  uint64_t until_ns;
};
constexpr size_t kMaxCallFds = 4;

static_assert(sizeof(FromPlugin) == 16 && sizeof(ToPlugin) == 16);

}  // namespace vgpio::guest_clock
