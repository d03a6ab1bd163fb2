#include "lines/host_line.h"

#include "base/log.h"
#include "base/strings.h"

namespace vgpio {

using gpiod::line::value;

HostLine::HostLine(std::string name, LinePolicy policy, HostLineSettings settings, EventLoop& loop)
    : Line(std::move(name), policy), settings_(std::move(settings)), loop_(loop) {}

HostLine::~HostLine() { release(); }

std::string HostLine::where() const {
  return strfmt("%s line %u", settings_.ref.chip_path.c_str(), settings_.ref.offset);
}

std::string HostLine::describe() const { return where(); }

std::string HostLine::holder() const {
  if (request_) return settings_.consumer;
  auto h = line_holder(settings_.ref);
  return h ? h.value() : "unknown (" + h.error().message() + ")";
}

Result<void> HostLine::configure(LineMode mode, bool level) {
  gpiod::line_settings s;
  s.set_active_low(settings_.active_low);
  if (mode == LineMode::Input) {
    // Both edges always: the guest may enable any interrupt type at any time,
    // and watchers of the control socket see every change.
    s.set_direction(gpiod::line::direction::INPUT).set_edge_detection(gpiod::line::edge::BOTH);
    switch (settings_.bias) {
      case Bias::AsIs: break;
      case Bias::Disabled: s.set_bias(gpiod::line::bias::DISABLED); break;
      case Bias::PullUp: s.set_bias(gpiod::line::bias::PULL_UP); break;
      case Bias::PullDown: s.set_bias(gpiod::line::bias::PULL_DOWN); break;
    }
    if (settings_.debounce.count() > 0) s.set_debounce_period(settings_.debounce);
  } else {
    s.set_direction(gpiod::line::direction::OUTPUT).set_output_value(level ? value::ACTIVE : value::INACTIVE);
  }
  try {
    if (request_) {
      request_->reconfigure_lines(gpiod::line_config().add_line_settings(settings_.ref.offset, s));
    } else {
      gpiod::chip chip(settings_.ref.chip_path);
      request_.emplace(chip.prepare_request()
                           .set_consumer(settings_.consumer)
                           .add_line_settings(settings_.ref.offset, s)
                           .do_request());
      auto watch = loop_.watch(request_->fd(), EPOLLIN, [this](uint32_t ev) { on_events(ev); });
      if (!watch) {
        forget_request();  // unwatched, the line would be held for nothing
        return watch.release_error().with_context(where());
      }
      watch_ = watch.value();
    }
  } catch (const std::exception& e) {
    Error err = error_from(e, "requesting " + where());
    if (err.code() == EBUSY) {
      auto h = line_holder(settings_.ref);
      return Error(strfmt("%s is busy: held by \"%s\"; stop that user or give the VM another line", where().c_str(),
                          h ? h.value().c_str() : "?"),
                   EBUSY);
    }
    return err;
  }
  mode_ = mode;
  return ok();
}

Result<void> HostLine::set_input() { return configure(LineMode::Input, false); }

Result<void> HostLine::set_output(bool level) { return configure(LineMode::Output, level); }

void HostLine::release() {
  if (!request_) return;
  if (mode_ == LineMode::Output) {
    try {
      request_->set_value(settings_.ref.offset, policy().safe_level ? value::ACTIVE : value::INACTIVE);
      VGPIO_LOG_LIMITED(LogLevel::Info, "%s (%s): output set to its safe level %d, then released", where().c_str(),
                        name().c_str(), policy().safe_level);
    } catch (const std::exception& e) {
      LOG_ERROR("%s (%s): could not set the safe level %d before releasing it: %s", where().c_str(), name().c_str(),
                policy().safe_level, e.what());
    }
  }
  try {
    request_->release();
  } catch (const std::exception&) {
    // The chip is gone: nothing left to release.
  }
  forget_request();
}

void HostLine::forget_request() {
  if (watch_) loop_.unwatch(watch_);
  watch_ = 0;
  request_.reset();
  mode_ = LineMode::Idle;
}

Result<bool> HostLine::get() {
  if (!request_) return Error(where() + " is not requested: the guest has not set a direction");
  try {
    return request_->get_value(settings_.ref.offset) == value::ACTIVE;
  } catch (const std::exception& e) {
    return error_from(e, "reading " + where());
  }
}

Result<void> HostLine::set(bool level) {
  if (mode_ != LineMode::Output) return Error(where() + " is not an output");
  try {
    request_->set_value(settings_.ref.offset, level ? value::ACTIVE : value::INACTIVE);
    return ok();
  } catch (const std::exception& e) {
    return error_from(e, "setting " + where());
  }
}

void HostLine::on_events(uint32_t events) {
  if (events & (EPOLLHUP | EPOLLERR)) {
    LOG_ERROR("%s (%s): the chip went away; the line is released and the guest gets ERR until it returns",
              where().c_str(), name().c_str());
    forget_request();
    return;
  }
  try {
    size_t n = request_->read_edge_events(events_);
    for (size_t i = 0; i < n; ++i)
      report_edge(events_.get_event(i).type() == gpiod::edge_event::event_type::RISING_EDGE ? Edge::Rising
                                                                                              : Edge::Falling);
  } catch (const std::exception& e) {
    LOG_WARN_LIMITED("%s (%s): reading edge events failed: %s", where().c_str(), name().c_str(), e.what());
  }
}

}  // namespace vgpio
