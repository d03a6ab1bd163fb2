#include "guest_clock/guest_clock.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::guest_clock {

Result<std::unique_ptr<GuestClock>> GuestClock::create(EventLoop& loop, std::string device_name, Options options) {
  // The config's reader has checked it (config::parse_clock_quantum).
  assert(options.quantum >= kMinQuantum && "a quantum the config would refuse");
  Listener listener = TRY(listen_unix(options.socket, options.access)
                              .error_context("device " + device_name + ": the guest clock's socket"));
  std::unique_ptr<GuestClock> clock(
      new GuestClock(loop, std::move(device_name), std::move(options), std::move(listener)));
  GuestClock* raw = clock.get();
  clock->listen_watch_ = TRY(loop.watch(raw->listener_.fd.get(), EPOLLIN, [raw](uint32_t) { raw->on_accept(); }));
  return clock;
}

GuestClock::~GuestClock() {
  detach();
  if (plugin_watch_) loop_.unwatch(plugin_watch_);
  loop_.unwatch(listen_watch_);
}

void GuestClock::attach(vhost::Server& server) {
  server_ = &server;
  // What the guest asks is answered at holds only, so at the same guest time
  // in every run; the plugin holds whenever the guest idles, so a guest that
  // waits for an answer gets it at once.
  server.set_serve_on_kick(false);
  server.set_call_observer([this](int fd) {
    if (holding_ && signalled_.size() < kMaxCallFds &&
        std::find(signalled_.begin(), signalled_.end(), fd) == signalled_.end())
      signalled_.push_back(fd);
  });
}

void GuestClock::detach() {
  if (server_) server_->set_call_observer({}), server_->set_serve_on_kick(true);
  server_ = nullptr;
}

sim::SimClock::Report GuestClock::report() const {
  return {name(),          bool(plugin_), now_ns_, holds_, uint64_t(options_.quantum.count()),
          options_.socket, stop_ns_,      stopped_};
}

// Exact from a held guest; a running one was already told where its next
// hold is, so it stops at the first hold at or after `stop`.
Result<void> GuestClock::run_until(std::optional<sim::SteadyTime> stop) {
  if (stop && sim::count_ns(*stop) < now_ns_)
    return Error(strfmt("device %s: guest time is already %llu ns, past %llu ns", device_.c_str(),
                        static_cast<unsigned long long>(now_ns_),
                        static_cast<unsigned long long>(sim::count_ns(*stop))),
                 EBUSY);
  stop_ns_ = stop ? std::optional(sim::count_ns(*stop)) : std::nullopt;
  LOG_DEBUG("device %s: the guest %s", device_.c_str(),
            stop ? strfmt("runs to %llu ns and is held there", static_cast<unsigned long long>(*stop_ns_)).c_str()
                 : "runs freely");
  if (stopped_ && (!stop_ns_ || *stop_ns_ > now_ns_)) end_hold();
  return ok();
}

Result<void> GuestClock::add_alarm(sim::SteadyTime at, uint64_t owner, Alarm alarm) {
  auto of_owner =
      std::count_if(alarms_.begin(), alarms_.end(), [owner](const auto& a) { return a.second.owner == owner; });
  if (alarms_.size() >= kMaxAlarms || size_t(of_owner) >= kMaxAlarmsPerOwner)
    return Error(strfmt("device %s: too many guest-time waits pending (at most %zu, %zu per connection); end some "
                        "first",
                        device_.c_str(), kMaxAlarms, kMaxAlarmsPerOwner),
                 EUSERS);
  uint64_t at_ns = sim::count_ns(at);
  if (at_ns <= now_ns_) {  // guest time has been there: now, not at a later hold
    loop_.post([alarm = std::move(alarm), now = now()] { alarm(now, true); });
    return ok();
  }
  alarms_.emplace(at_ns, PendingAlarm{owner, std::move(alarm)});
  return ok();
}

void GuestClock::remove_alarms(uint64_t owner) {
  std::erase_if(alarms_, [owner](const auto& a) { return a.second.owner == owner; });
}

// Those due (all of them, unreached, when the guest has left).
void GuestClock::fire_alarms(bool reached) {
  std::vector<Alarm> due;
  while (!alarms_.empty() && (!reached || alarms_.begin()->first <= now_ns_)) {
    due.push_back(std::move(alarms_.begin()->second.alarm));
    alarms_.erase(alarms_.begin());
  }
  for (auto& alarm : due) alarm(now(), reached);
}

// One guest at a time: a second plugin is turned away, the first keeps its clock.
void GuestClock::on_accept() {
  UniqueFd fd(accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  if (plugin_) {
    LOG_WARN_LIMITED("device %s: a second vgpio-clock plugin connected to %s; turned away (one guest per device)",
                     device_.c_str(), options_.socket.c_str());
    return;
  }
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
  if (!watch) {
    LOG_WARN("device %s: cannot watch the guest clock's plugin: %s", device_.c_str(), watch.error().message().c_str());
    return;
  }
  plugin_ = std::move(fd);
  plugin_watch_ = watch.value();
  pending_bytes_ = 0;
}

void GuestClock::drop(const std::string& why) {
  LOG_WARN("device %s: the guest clock's plugin %s; guest time stays at %llu ns until a guest connects again",
           device_.c_str(), why.c_str(), static_cast<unsigned long long>(now_ns_));
  loop_.unwatch(plugin_watch_);
  plugin_watch_ = 0;
  plugin_.reset();
  holding_ = stopped_ = false;
  signalled_.clear();
  fire_alarms(/*reached=*/false);
}

void GuestClock::on_readable() {
  auto* bytes = reinterpret_cast<uint8_t*>(&pending_);
  ssize_t n = ::read(plugin_.get(), bytes + pending_bytes_, sizeof pending_ - pending_bytes_);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return drop(n == 0 ? "left (its QEMU ended)" : std::string("failed: ") + std::strerror(errno));
  pending_bytes_ += size_t(n);
  if (pending_bytes_ < sizeof pending_) return;
  pending_bytes_ = 0;
  FromPlugin m = pending_;
  if (m.magic != kMagic) return drop("sent something that is not the vgpio-clock protocol");
  switch (Kind(m.kind)) {
    case Kind::Hello:
      LOG_INFO("device %s: a guest runs on this device's time (vgpio-clock plugin), from %llu ns", device_.c_str(),
               static_cast<unsigned long long>(m.guest_ns));
      now_ns_ = m.guest_ns;  // a new guest: its time starts again
      holding_ = true;
      return end_hold();
    case Kind::Held:
      if (m.guest_ns < now_ns_)
        return drop(strfmt("went back in time (held at %llu ns, after %llu ns)",
                           static_cast<unsigned long long>(m.guest_ns), static_cast<unsigned long long>(now_ns_)));
      return hold(m.guest_ns);
  }
  drop(strfmt("sent an unknown message (%u)", m.kind));
}

void GuestClock::hold(uint64_t guest_ns) {
  now_ns_ = guest_ns;
  ++holds_;
  holding_ = true;
  // What the guest asked before the hold is answered first, as the line was
  // until now; then what is due at this time happens.
  if (server_) server_->serve_all();
  // Every hold wakes the simulation: it applies what is due, takes what
  // came on wires (the guest's own outputs just answered, too) at this
  // time, and asks for its next wake-up.
  wake_time_.reset();
  if (wake_) wake_();
  end_hold();
}

// Alarms due now go off; then the guest runs on, unless it is to stop here.
// A stopped guest stays "holding": what the test does to it meanwhile (a
// set, a stimulus's first edge) is taken by QEMU before the guest runs on.
void GuestClock::end_hold() {
  fire_alarms(/*reached=*/true);
  if (stop_ns_ && now_ns_ >= *stop_ns_) {
    if (!stopped_)
      LOG_DEBUG("device %s: guest held at %llu ns, as asked, until it is told to run", device_.c_str(),
                static_cast<unsigned long long>(now_ns_));
    stopped_ = true;
    return;
  }
  stopped_ = holding_ = false;
  answer();
}

void GuestClock::answer() {
  if (!plugin_) return;
  uint64_t until = now_ns_ + uint64_t(options_.quantum.count());
  auto hold_by = [&](uint64_t t) { until = std::min(until, std::max(t, now_ns_ + 1)); };
  if (wake_time_) hold_by(sim::count_ns(*wake_time_));
  if (!alarms_.empty()) hold_by(alarms_.begin()->first);
  if (stop_ns_) hold_by(*stop_ns_);
  until_ns_ = until;
  LOG_DEBUG("device %s: guest held at %llu ns; runs to %llu ns%s", device_.c_str(),
            static_cast<unsigned long long>(now_ns_), static_cast<unsigned long long>(until),
            signalled_.empty() ? "" : " once QEMU has taken its interrupts");
  ToPlugin m{kMagic, 0, until};
  iovec iov{&m, sizeof m};
  // The plugin waits for this with nothing else unread: 16 bytes always fit.
  auto sent = send_with_fds(plugin_.get(), std::span(&iov, 1), signalled_, MSG_DONTWAIT);
  signalled_.clear();
  if (!sent || sent.value() != sizeof m)
    drop("cannot be answered: " + (sent ? std::string("short write") : sent.error().message()));
}

}  // namespace vgpio::guest_clock
