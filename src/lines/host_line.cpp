#include "lines/host_line.h"

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::lines {

Result<std::unique_ptr<HostLine>> HostLine::create(std::string name, LinePolicy policy, HostLineSettings settings,
                                                   EventLoop& loop, std::shared_ptr<ChipMonitor> chips) {
  std::unique_ptr<HostLine> line(new HostLine(std::move(name), policy, std::move(settings), loop, std::move(chips)));
  line->identity_ = TRY(identify(line->settings_.ref));
  line->adopt_kept_request();
  if (policy.hold_when_idle && !line->request_) {
    TRY(line->hold_safe().error_context(strfmt("cannot hold %s (%s) at its safe level %d", line->where().c_str(),
                                               line->name().c_str(), policy.safe_level)));
    LOG_INFO("%s (%s): held at its safe level %d until a guest drives it", line->where().c_str(), line->name().c_str(),
             policy.safe_level);
  }
  return line;
}

void HostLine::adopt_kept_request() {
  if (!settings_.keeper) return;
  auto kept = settings_.keeper->adopt(settings_.ref);
  if (kept && !kept.value()) return;
  auto adopted =
      kept ? adopt_request(kept.release_value()) : Result<std::unique_ptr<LineRequest>>(kept.release_error());
  if (!adopted) {
    // Refused and closed: nothing is driven through it, the store lets go of
    // it, and the line is requested afresh (at its safe level) and kept.
    refused_ = adopted.error().message();
    adoption_ = "requested anew: " + refused_;
    LOG_WARN("%s (%s): refused what the service manager kept for it: %s", where().c_str(), name().c_str(),
             adoption_.c_str());
    settings_.keeper->drop(settings_.ref);
    return;
  }
  // As the previous process left it: the device model settles it next. An
  // unknown direction is taken as an input, which reconfiguring makes right.
  auto is_output = line_is_output(settings_.ref);
  if (!is_output)
    LOG_WARN("%s (%s): %s; taken as an input until the guest sets it", where().c_str(), name().c_str(),
             is_output.error().message().c_str());
  bool output = is_output && is_output.value();
  request_ = adopted.release_value();
  if (auto r = watch_request(); !r) {
    adoption_ = "requested anew: " + r.error().message();
    return;
  }
  adopted_ = true;
  mode_ = output ? LineMode::Output : LineMode::Input;
  if (output) {
    auto level = request_->get();
    level_ = level ? level.value() : policy().safe_level;
  }
  settings_.keeper->keep(settings_.ref, policy().safe_level, request_->fd());  // its safe level may have changed
  adoption_ = output ? strfmt("adopted: an output at %d, never released", level_) : "adopted: an input, never released";
  LOG_INFO("%s (%s): %s", where().c_str(), name().c_str(), adoption_.c_str());
}

HostLine::HostLine(std::string name, LinePolicy policy, HostLineSettings settings, EventLoop& loop,
                   std::shared_ptr<ChipMonitor> chips)
    : Line(std::move(name), policy), settings_(std::move(settings)), loop_(loop), chips_(std::move(chips)) {
  if (chips_) chips_->subscribe(this);
}

HostLine::~HostLine() {
  if (chips_) chips_->unsubscribe(this);
  if (!request_) return;
  if (mode_ == LineMode::Output) {
    if (auto r = request_->set(policy().safe_level); !r)
      LOG_ERROR("%s (%s): could not set the safe level %d before releasing it: %s", where().c_str(), name().c_str(),
                policy().safe_level, r.error().message().c_str());
  }
  if (mode_ == LineMode::Output || policy().hold_when_idle)
    LOG_INFO("%s (%s): at its safe level %d, released as its device stops", where().c_str(), name().c_str(),
             policy().safe_level);
  forget_request();
}

std::string HostLine::where() const {
  return strfmt("%s line %u", settings_.ref.chip_path.c_str(), settings_.ref.offset);
}

std::string HostLine::describe() const { return where(); }

std::string HostLine::holder() const {
  if (chip_gone_) return mismatch_.empty() ? "chip gone" : "chip gone (" + mismatch_ + ")";
  if (request_ && mode_ == LineMode::Idle)
    return strfmt("%s, held at safe level %d", settings_.consumer.c_str(), policy().safe_level);
  if (request_) return settings_.consumer;
  auto h = line_holder(settings_.ref);
  return h ? h.value() : "unknown (" + h.error().message() + ")";
}

Result<void> HostLine::configure(LineMode mode, bool level) {
  if (chip_gone_) return Error(where() + ": the chip went away; ERR until it comes back", EIO);
  RequestConfig c{mode, level, settings_.active_low, settings_.bias, settings_.debounce};
  if (request_) return request_->reconfigure(c).error_context(where());
  auto made = request_line(settings_.ref, settings_.consumer, c);
  if (!made) {
    Error err = made.release_error();
    if (err.code() == EBUSY) {
      auto h = line_holder(settings_.ref);
      return Error(strfmt("%s is busy: held by \"%s\"; stop that user or give the VM another line", where().c_str(),
                          h ? h.value().c_str() : "?"),
                   EBUSY);
    }
    if (err.code() == ENOENT || err.code() == ENODEV) chip_lost("could not be opened");
    return err;
  }
  request_ = made.release_value();
  TRY(watch_request());
  if (settings_.keeper) settings_.keeper->keep(settings_.ref, policy().safe_level, request_->fd());
  return ok();
}

Result<void> HostLine::watch_request() {
  auto watch = loop_.watch(request_->fd(), EPOLLIN, [this](uint32_t ev) { on_events(ev); });
  if (!watch) {
    request_.reset();  // unwatched, the line would be held for nothing
    return watch.release_error().with_context(where());
  }
  watch_ = watch.value();
  return ok();
}

Result<void> HostLine::set_input() {
  TRY(configure(LineMode::Input, false));
  mode_ = LineMode::Input;
  return ok();
}

Result<void> HostLine::set_output(bool level) {
  TRY(configure(LineMode::Output, level));
  mode_ = LineMode::Output;
  level_ = level;
  return ok();
}

void HostLine::release() {
  LineMode was = std::exchange(mode_, LineMode::Idle);
  if (chip_gone_ || (!request_ && !policy().hold_when_idle)) return;
  if (policy().hold_when_idle) {
    if (was == LineMode::Idle && request_) return;  // resting already
    // An output keeps its request and only changes level; an input (or a
    // request lost with its chip) becomes an output again.
    Result<void> r = ok();
    if (was == LineMode::Output) {
      r = request_->set(policy().safe_level).error_context(where());
    } else {
      r = hold_safe();
    }
    if (r)
      VGPIO_LOG_LIMITED(LogLevel::Info, "%s (%s): back at its safe level %d, held until a guest drives it",
                        where().c_str(), name().c_str(), policy().safe_level);
    else
      // A guest can repeat NONE at will: rate-limited.
      VGPIO_LOG_LIMITED(LogLevel::Error,
                        "%s (%s): could not go back to its safe level %d: %s; check the chip and its wiring",
                        where().c_str(), name().c_str(), policy().safe_level, r.error().message().c_str());
    return;
  }
  if (was == LineMode::Output) {
    if (auto r = request_->set(policy().safe_level))
      VGPIO_LOG_LIMITED(LogLevel::Info, "%s (%s): output set to its safe level %d, then released", where().c_str(),
                        name().c_str(), policy().safe_level);
    else
      LOG_ERROR("%s (%s): could not set the safe level %d before releasing it: %s", where().c_str(), name().c_str(),
                policy().safe_level, r.error().message().c_str());
  }
  forget_request();
}

void HostLine::forget_request() {
  if (watch_) loop_.unwatch(watch_);
  watch_ = 0;
  if (request_ && settings_.keeper) settings_.keeper->drop(settings_.ref);
  request_.reset();
}

Result<bool> HostLine::get() {
  if (chip_gone_) return Error(where() + ": the chip went away", EIO);
  if (!request_) return Error(where() + " is not requested: the guest has not set a direction");
  return request_->get().error_context("reading " + where());
}

Result<void> HostLine::set(bool level) {
  if (mode_ != LineMode::Output || !request_) return Error(where() + " is not an output");
  TRY(request_->set(level).error_context("setting " + where()));
  level_ = level;
  return ok();
}

void HostLine::on_events(uint32_t events) {
  if (events & (EPOLLHUP | EPOLLERR)) {
    chip_lost("went away");
    return;
  }
  if (auto r = request_->read_edges([this](Edge e) { report_edge(e); }); !r)
    LOG_WARN_LIMITED("%s (%s): reading edge events failed: %s", where().c_str(), name().c_str(),
                     r.error().message().c_str());
}

void HostLine::on_chip_change(const std::string& path, bool present) {
  if (!present) {
    // A held or active line hears of it from its request fd instead.
    if (!chip_gone_ && !request_ && path == settings_.ref.chip_path) chip_lost("went away");
    return;
  }
  if (chip_gone_) try_reacquire();
}

void HostLine::chip_lost(const char* how) {
  forget_request();
  chip_gone_ = true;
  LOG_ERROR(
      "%s (%s): the chip %s; the guest gets ERR on this line until it comes back, and vgpio takes it "
      "again then",
      where().c_str(), name().c_str(), how);
  try_reacquire();  // it may be back already, under another number
}

void HostLine::try_reacquire() {
  if (reacquiring_) return;  // configure() below may find the chip gone again
  reacquiring_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{reacquiring_};
  auto ref = resolve_line(settings_.source);
  if (!ref) {
    LOG_DEBUG("%s (%s): still gone: %s", where().c_str(), name().c_str(), ref.error().message().c_str());
    return;
  }
  auto found = identify(ref.value());
  if (!found) return;  // gone again, or not ours to open yet: the next change in /dev tries again
  if (found.value() != identity_) {
    std::string mismatch = strfmt("%s has %s; this line's chip had %s", ref.value().chip_path.c_str(),
                                  found.value().describe().c_str(), identity_.describe().c_str());
    if (mismatch != mismatch_)
      LOG_ERROR("%s (%s): not taking %s line %u: another chip (%s); the line stays gone until its own chip is back",
                where().c_str(), name().c_str(), ref.value().chip_path.c_str(), ref.value().offset, mismatch.c_str());
    mismatch_ = std::move(mismatch);
    return;
  }
  mismatch_.clear();
  settings_.ref = ref.value();
  chip_gone_ = false;
  Result<void> r = ok();
  const char* now = "free until the guest uses it";
  switch (mode_) {
    case LineMode::Input: r = configure(LineMode::Input, false), now = "the guest's input again"; break;
    case LineMode::Output: r = configure(LineMode::Output, level_), now = "the guest's output again"; break;
    case LineMode::Idle:
      if (policy().hold_when_idle) r = hold_safe(), now = "held at its safe level again";
      break;
  }
  if (!r) {
    // Not yet ours to open (udev may still be setting its group): the next
    // change in /dev tries again. A busy line stays found, and says so.
    chip_gone_ = r.error().code() != EBUSY;
    LOG_WARN_LIMITED("%s (%s): the chip is back, but: %s", where().c_str(), name().c_str(),
                     r.error().message().c_str());
    return;
  }
  LOG_INFO("%s (%s): the chip is back; the line is %s", where().c_str(), name().c_str(), now);
}

}  // namespace vgpio::lines
