#include "guest_clock/guest_clock.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::guest_clock {

Result<std::unique_ptr<GuestClock>> GuestClock::create(EventLoop& loop, std::string device_name, Options options) {
  if (options.quantum < kMinQuantum)
    return Error(strfmt("device %s: the guest clock's quantum must be at least 1us", device_name.c_str()));
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
    if (holding_ && signalled_.size() < kMaxCallFds && std::find(signalled_.begin(), signalled_.end(), fd) == signalled_.end())
      signalled_.push_back(fd);
  });
}

void GuestClock::detach() {
  if (server_) server_->set_call_observer({}), server_->set_serve_on_kick(true);
  server_ = nullptr;
}

sim::SimClock::Report GuestClock::report() const {
  return {name(), bool(plugin_), now_ns_, holds_, uint64_t(options_.quantum.count()), options_.socket};
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
      return answer();
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
  if (wake_time_ && *wake_time_ <= now()) {
    wake_time_.reset();
    if (wake_) wake_();  // applies what is due, and asks for its next wake-up
  }
  holding_ = false;
  answer();
}

void GuestClock::answer() {
  uint64_t until = now_ns_ + uint64_t(options_.quantum.count());
  if (wake_time_) {
    auto wake = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(wake_time_->time_since_epoch()).count());
    until = std::min(until, std::max(wake, now_ns_ + 1));
  }
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
