// Where host line requests outlive the vgpio process that made them: the
// kernel releases a line when the last fd of its request closes, and what a
// freed pin does then is up to the chip's driver (many float or reset it). A
// keeper holds a copy of each request's fd elsewhere (the service manager's fd
// store: restart/carryover.h) and hands it to the next process, which
// adopts the request as it is instead of requesting the line again.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"
#include "lines/host_chips.h"

namespace vgpio::lines {

class RequestKeeper {
 public:
  virtual ~RequestKeeper() = default;
  // A new request for `ref` (its fd stays ours; the keeper copies it). When
  // the next process no longer has the line, it goes to `safe_level`.
  virtual void keep(const HostLineRef& ref, bool safe_level, int fd) = 0;
  // The request for `ref` is released: the keeper lets go of its copy.
  virtual void drop(const HostLineRef& ref) = 0;
  // The request the previous process kept for `ref`, once; invalid if none;
  // an error (and the fd closed) when what was kept is not that request.
  virtual Result<UniqueFd> adopt(const HostLineRef& ref) = 0;
};

}  // namespace vgpio::lines
