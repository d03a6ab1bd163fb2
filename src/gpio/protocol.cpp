#include "gpio/protocol.h"

namespace vgpio::gpio {

const char* irq_type_name(uint8_t t) {
  switch (t) {
    case kIrqNone: return "none";
    case kIrqEdgeRising: return "edge-rising";
    case kIrqEdgeFalling: return "edge-falling";
    case kIrqEdgeBoth: return "edge-both";
    case kIrqLevelHigh: return "level-high";
    case kIrqLevelLow: return "level-low";
  }
  return "invalid";
}

const char* direction_name(uint8_t d) {
  switch (d) {
    case kDirectionNone: return "none";
    case kDirectionOut: return "out";
    case kDirectionIn: return "in";
  }
  return "invalid";
}

const char* message_name(uint16_t type) {
  switch (type) {
    case kGetLineNames: return "GET_LINE_NAMES";
    case kGetDirection: return "GET_DIRECTION";
    case kSetDirection: return "SET_DIRECTION";
    case kGetValue: return "GET_VALUE";
    case kSetValue: return "SET_VALUE";
    case kSetIrqType: return "SET_IRQ_TYPE";
  }
  return "unknown";
}

}  // namespace vgpio::gpio
