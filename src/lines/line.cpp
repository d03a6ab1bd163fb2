#include "lines/line.h"

namespace vgpio::lines {

Result<void> Line::drive(bool) {
  return Error("line " + name_ + " is " + describe() + ", not simulated; it cannot be driven");
}

}  // namespace vgpio::lines
