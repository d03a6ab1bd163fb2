// LineRequest over the GPIO v2 uAPI (linux/gpio.h), for a request the
// previous vgpio process made and left in the service manager's fd store.
// Written by hand because libgpiod 2.1 cannot wrap an existing request fd:
// a gpiod::line_request is only ever made by gpiod::chip::prepare_request().
// So this is the smallest set of calls HostLine needs, for a request of one
// line (index 0), as vgpio makes them.
#include <linux/gpio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/strings.h"
#include "lines/line_request.h"

namespace vgpio::lines {
namespace {

constexpr uint64_t kLine0 = 1;  // mask bit of the request's only line

uint64_t flags_of(const RequestConfig& c) {
  uint64_t f = c.active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0;
  if (c.mode == LineMode::Output) return f | GPIO_V2_LINE_FLAG_OUTPUT;
  f |= GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
  switch (c.bias) {
    case Bias::AsIs: break;
    case Bias::Disabled: f |= GPIO_V2_LINE_FLAG_BIAS_DISABLED; break;
    case Bias::PullUp: f |= GPIO_V2_LINE_FLAG_BIAS_PULL_UP; break;
    case Bias::PullDown: f |= GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN; break;
  }
  return f;
}

class AdoptedRequest final : public LineRequest {
 public:
  explicit AdoptedRequest(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const override { return fd_.get(); }

  Result<void> reconfigure(const RequestConfig& c) override {
    gpio_v2_line_config config{};
    config.flags = flags_of(c);
    auto add = [&config](uint32_t id, uint64_t value) {
      gpio_v2_line_config_attribute& a = config.attrs[config.num_attrs++];
      a.attr.id = id;
      if (id == GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES) a.attr.values = value;
      else a.attr.debounce_period_us = static_cast<uint32_t>(value);
      a.mask = kLine0;
    };
    if (c.mode == LineMode::Output) add(GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, c.level ? kLine0 : 0);
    else if (c.debounce.count() > 0) add(GPIO_V2_LINE_ATTR_ID_DEBOUNCE, static_cast<uint64_t>(c.debounce.count()));
    if (ioctl(fd_.get(), GPIO_V2_LINE_SET_CONFIG_IOCTL, &config) != 0)
      return Error::from_errno(errno, "reconfiguring the adopted line");
    return ok();
  }
  Result<bool> get() override {
    gpio_v2_line_values v{0, kLine0};
    if (ioctl(fd_.get(), GPIO_V2_LINE_GET_VALUES_IOCTL, &v) != 0)
      return Error::from_errno(errno, "reading the adopted line");
    return (v.bits & kLine0) != 0;
  }
  Result<void> set(bool level) override {
    gpio_v2_line_values v{level ? kLine0 : 0, kLine0};
    if (ioctl(fd_.get(), GPIO_V2_LINE_SET_VALUES_IOCTL, &v) != 0)
      return Error::from_errno(errno, "setting the adopted line");
    return ok();
  }
  Result<void> read_edges(const std::function<void(Edge)>& each) override {
    gpio_v2_line_event events[16];
    ssize_t n = ::read(fd_.get(), events, sizeof events);
    if (n < 0) return errno == EAGAIN ? ok() : Error::from_errno(errno, "reading edge events");
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof events[0]; ++i)
      each(events[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE ? Edge::Rising : Edge::Falling);
    return ok();
  }

 private:
  UniqueFd fd_;
};

}  // namespace

// Linux 6.7 and later say which chip and lines a request is for in its fdinfo
// (gpiolib-cdev.c, linereq_show_fdinfo: "gpio-chip:\tgpiochipN", then
// "gpio-line:\tOFFSET" a line). An older kernel says nothing: the request is
// then taken on its name.
Result<void> check_request_is_for(int fd, const HostLineRef& ref) {
  std::ifstream info(strfmt("/proc/self/fdinfo/%d", fd));
  if (!info) return Error::from_errno(errno, "cannot read what the kept fd is (/proc/self/fdinfo)");
  std::string line, chip;
  std::vector<unsigned long> offsets;
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string key, value;
    fields >> key >> value;
    if (key == "gpio-chip:") chip = value;
    else if (key == "gpio-line:") offsets.push_back(std::strtoul(value.c_str(), nullptr, 10));
  }
  if (chip.empty()) return ok();
  char resolved[PATH_MAX];
  std::string path = realpath(ref.chip_path.c_str(), resolved) ? resolved : ref.chip_path;
  std::string expected = path.substr(path.rfind('/') + 1);
  if (chip != expected || offsets.size() != 1 || offsets[0] != ref.offset) {
    std::string lines;
    for (auto o : offsets) lines += (lines.empty() ? "" : ",") + std::to_string(o);
    return Error(strfmt("the kept fd is a request for %s line %s, not %s line %u", chip.c_str(), lines.c_str(),
                        expected.c_str(), ref.offset));
  }
  return ok();
}

Result<std::unique_ptr<LineRequest>> adopt_request(UniqueFd fd) {
  // Reading the values is what only a line request answers (ENOTTY else).
  gpio_v2_line_values v{0, kLine0};
  if (ioctl(fd.get(), GPIO_V2_LINE_GET_VALUES_IOCTL, &v) != 0)
    return Error::from_errno(errno, "the kept fd is not a GPIO line request");
  TRY(set_nonblocking(fd.get()));
  return std::unique_ptr<LineRequest>(new AdoptedRequest(std::move(fd)));
}

}  // namespace vgpio::lines
