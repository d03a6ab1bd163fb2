#include "lines/chip_monitor.h"

#include <sys/inotify.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace vgpio::lines {

Result<std::unique_ptr<ChipMonitor>> ChipMonitor::create(EventLoop& loop, std::string dir) {
  UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return Error::from_errno(errno, "inotify_init1 (to see GPIO chips come back)");
  // IN_ATTRIB too: udev gives a new node its group after the kernel made it,
  // and only then can an unprivileged vgpio open it.
  if (inotify_add_watch(fd.get(), dir.c_str(), IN_CREATE | IN_ATTRIB | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM) < 0)
    return Error::from_errno(errno, "watching " + dir + " for GPIO chips");
  std::unique_ptr<ChipMonitor> m(new ChipMonitor(loop, std::move(dir), std::move(fd)));
  m->watch_ = TRY(loop.watch(m->fd_.get(), EPOLLIN, [raw = m.get()](uint32_t) { raw->on_readable(); }));
  return m;
}

ChipMonitor::~ChipMonitor() { loop_.unwatch(watch_); }

void ChipMonitor::subscribe(ChipListener* listener) { listeners_.push_back(listener); }

void ChipMonitor::unsubscribe(ChipListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void ChipMonitor::on_readable() {
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        LOG_WARN_LIMITED("reading inotify events for %s failed: %s; re-plugged GPIO chips may not be picked up",
                         dir_.c_str(), std::strerror(errno));
      return;
    }
    for (ssize_t at = 0; at < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        notify("", true);
        continue;
      }
      if (ev->len == 0 || std::strncmp(ev->name, "gpiochip", 8) != 0) continue;
      notify(dir_ + "/" + ev->name, !(ev->mask & (IN_DELETE | IN_MOVED_FROM)));
    }
  }
}

void ChipMonitor::notify(const std::string& path, bool present) {
  // A listener may subscribe or unsubscribe others while it is told.
  auto listeners = listeners_;
  for (ChipListener* l : listeners)
    if (std::find(listeners_.begin(), listeners_.end(), l) != listeners_.end()) l->on_chip_change(path, present);
}

}  // namespace vgpio::lines
