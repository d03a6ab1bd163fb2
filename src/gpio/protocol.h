// virtio-gpio wire format and constants, virtio 1.2 §5.18.
#pragma once

#include <cstdint>

namespace vgpio::gpio {

inline constexpr uint32_t kDeviceId = 41;                      // §5.18.1
inline constexpr uint64_t kFeatureIrq = 1ull << 0;             // §5.18.3 VIRTIO_GPIO_F_IRQ
inline constexpr uint16_t kRequestQueue = 0, kEventQueue = 1;  // §5.18.2

// §5.18.4: struct virtio_gpio_config { le16 ngpio; u8 padding[2]; le32 gpio_names_size; }
inline constexpr uint32_t kConfigSize = 8;
// ngpio is a le16.
inline constexpr uint32_t kMaxLines = 65535;

// §5.18.6: message types.
enum MessageType : uint16_t {
  kGetLineNames = 1,
  kGetDirection = 2,
  kSetDirection = 3,
  kGetValue = 4,
  kSetValue = 5,
  kSetIrqType = 6,
};

inline constexpr uint8_t kStatusOk = 0, kStatusErr = 1;

inline constexpr uint8_t kDirectionNone = 0, kDirectionOut = 1, kDirectionIn = 2;

inline constexpr uint8_t kIrqNone = 0, kIrqEdgeRising = 1, kIrqEdgeFalling = 2, kIrqEdgeBoth = 3, kIrqLevelHigh = 4,
                         kIrqLevelLow = 8;

// §5.18.7: struct virtio_gpio_irq_response { u8 status; }
inline constexpr uint8_t kIrqStatusInvalid = 0, kIrqStatusValid = 1;

// struct virtio_gpio_request { le16 type; le16 gpio; le32 value; }
struct Request {
  uint16_t type;
  uint16_t gpio;
  uint32_t value;
};
static_assert(sizeof(Request) == 8);

// struct virtio_gpio_response { u8 status; u8 value; }
inline constexpr uint32_t kResponseSize = 2;
// struct virtio_gpio_irq_request { le16 gpio; }
inline constexpr uint32_t kIrqRequestSize = 2;
inline constexpr uint32_t kIrqResponseSize = 1;

inline bool is_valid_irq_type(uint32_t t) {
  return t == kIrqNone || t == kIrqEdgeRising || t == kIrqEdgeFalling || t == kIrqEdgeBoth || t == kIrqLevelHigh ||
         t == kIrqLevelLow;
}
inline bool is_edge_type(uint8_t t) { return t >= kIrqEdgeRising && t <= kIrqEdgeBoth; }
inline bool is_level_type(uint8_t t) { return t == kIrqLevelHigh || t == kIrqLevelLow; }

const char* irq_type_name(uint8_t t);
const char* direction_name(uint8_t d);
const char* message_name(uint16_t type);

}  // namespace vgpio::gpio
