// One requested host line, however it was got: requested through libgpiod
// (gpiod_request.cpp), or adopted from the previous vgpio process, which kept
// its fd in the service manager's store (adopted_request.cpp). HostLine uses
// either the same way.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "lines/host_chips.h"
#include "lines/line.h"

namespace vgpio::lines {

enum class Bias { AsIs, Disabled, PullUp, PullDown };

// How the line is configured: an input with both edges, or an output at `level`.
struct RequestConfig {
  LineMode mode = LineMode::Input;  // Input or Output
  bool level = false;               // logical, for an output
  bool active_low = false;
  Bias bias = Bias::AsIs;                 // inputs only
  std::chrono::microseconds debounce{0};  // inputs only
};

class LineRequest {
 public:
  virtual ~LineRequest() = default;  // releases the line (when no other fd holds it)
  virtual int fd() const = 0;        // readable when edge events wait
  // In place: the line is never released, so it never passes another state.
  virtual Result<void> reconfigure(const RequestConfig& config) = 0;
  virtual Result<bool> get() = 0;
  virtual Result<void> set(bool level) = 0;
  // The edge events waiting on fd(), oldest first.
  virtual Result<void> read_edges(const std::function<void(Edge)>& each) = 0;
};

// A new request, through libgpiod.
Result<std::unique_ptr<LineRequest>> request_line(const HostLineRef& ref, const std::string& consumer,
                                                  const RequestConfig& config);
// A request another process made and handed over (one line, at index 0).
// Fails when `fd` is not a GPIO line request.
Result<std::unique_ptr<LineRequest>> adopt_request(UniqueFd fd);
// Fails when `fd` is a line request for another chip or line than `ref`'s,
// where the kernel says (Linux 6.7 and later). It reads /proc/self/fdinfo:
// call it before the sandbox hides /proc.
Result<void> check_request_is_for(int fd, const HostLineRef& ref);

}  // namespace vgpio::lines
