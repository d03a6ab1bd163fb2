#include "base/result.h"

#include <cstring>

namespace vgpio {

Error Error::from_errno(int err, const std::string& context) { return Error(context + ": " + std::strerror(err), err); }

}  // namespace vgpio
