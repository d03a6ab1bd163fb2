#include "lines/line.h"

namespace vgpio {

Result<void> Line::drive(bool) {
  return Error("line " + name_ + " is " + describe() + ", not simulated; it cannot be driven");
}

}  // namespace vgpio
