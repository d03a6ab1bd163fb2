// LineRequest through libgpiod's C++ bindings: every request vgpio makes.
#include <gpiod.hpp>

#include "lines/line_request.h"

namespace vgpio::lines {
namespace {

using gpiod::line::value;

gpiod::line_settings settings_of(const RequestConfig& c) {
  gpiod::line_settings s;
  s.set_active_low(c.active_low);
  if (c.mode == LineMode::Output)
    return s.set_direction(gpiod::line::direction::OUTPUT).set_output_value(c.level ? value::ACTIVE : value::INACTIVE);
  // Both edges always: the guest may enable any interrupt type at any time,
  // and watchers of the control socket see every change.
  s.set_direction(gpiod::line::direction::INPUT).set_edge_detection(gpiod::line::edge::BOTH);
  switch (c.bias) {
    case Bias::AsIs: break;
    case Bias::Disabled: s.set_bias(gpiod::line::bias::DISABLED); break;
    case Bias::PullUp: s.set_bias(gpiod::line::bias::PULL_UP); break;
    case Bias::PullDown: s.set_bias(gpiod::line::bias::PULL_DOWN); break;
  }
  if (c.debounce.count() > 0) s.set_debounce_period(c.debounce);
  return s;
}

class GpiodRequest final : public LineRequest {
 public:
  GpiodRequest(gpiod::line_request request, unsigned offset) : request_(std::move(request)), offset_(offset) {}
  ~GpiodRequest() override {
    try {
      request_.release();
    } catch (const std::exception&) {
      // The chip is gone: nothing left to release.
    }
  }
  int fd() const override { return request_.fd(); }
  Result<void> reconfigure(const RequestConfig& c) override {
    try {
      request_.reconfigure_lines(gpiod::line_config().add_line_settings(offset_, settings_of(c)));
      return ok();
    } catch (const std::exception& e) {
      return error_from(e, "reconfiguring the line");
    }
  }
  Result<bool> get() override {
    try {
      return request_.get_value(offset_) == value::ACTIVE;
    } catch (const std::exception& e) {
      return error_from(e, "reading the line");
    }
  }
  Result<void> set(bool level) override {
    try {
      request_.set_value(offset_, level ? value::ACTIVE : value::INACTIVE);
      return ok();
    } catch (const std::exception& e) {
      return error_from(e, "setting the line");
    }
  }
  Result<void> read_edges(const std::function<void(Edge)>& each) override {
    try {
      size_t n = request_.read_edge_events(events_);
      for (size_t i = 0; i < n; ++i)
        each(events_.get_event(i).type() == gpiod::edge_event::event_type::RISING_EDGE ? Edge::Rising : Edge::Falling);
      return ok();
    } catch (const std::exception& e) {
      return error_from(e, "reading edge events");
    }
  }

 private:
  gpiod::line_request request_;
  unsigned offset_;
  gpiod::edge_event_buffer events_{16};
};

}  // namespace

Result<std::unique_ptr<LineRequest>> request_line(const HostLineRef& ref, const std::string& consumer,
                                                  const RequestConfig& config) {
  try {
    gpiod::chip chip(ref.chip_path);
    return std::unique_ptr<LineRequest>(new GpiodRequest(
        chip.prepare_request().set_consumer(consumer).add_line_settings(ref.offset, settings_of(config)).do_request(),
        ref.offset));
  } catch (const std::exception& e) {
    return error_from(e, "requesting " + ref.chip_path + " line " + std::to_string(ref.offset));
  }
}

}  // namespace vgpio::lines
