#include "service/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"

namespace vgpio::service {

Notifier Notifier::from_environment() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  return Notifier(path ? path : "");
}

Result<void> Notifier::send(std::string_view state, int fd_to_send) const {
  if (path_.empty()) return ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path || (path_[0] != '/' && path_[0] != '@'))
    return Error("NOTIFY_SOCKET \"" + path_ + "\" is not an absolute path or an abstract name");
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::from_errno(errno, "socket for NOTIFY_SOCKET");
  iovec iov{const_cast<char*>(state.data()), state.size()};
  std::span<const int> fds;
  if (fd_to_send >= 0) fds = std::span(&fd_to_send, 1);
  if (auto sent = send_with_fds(fd.get(), std::span(&iov, 1), fds, 0, &addr, len); !sent)
    return sent.release_error().with_context("notifying the service manager at " + path_);
  return ok();
}

void Notifier::send_logged(const std::string& state) const {
  if (auto r = send(state); !r) LOG_WARN_LIMITED("%s", r.error().message().c_str());
}

void Notifier::ready(const std::string& status) const { send_logged("READY=1\nSTATUS=" + status); }

void Notifier::status(const std::string& status) const { send_logged("STATUS=" + status); }

void Notifier::reloading() const {
  // MONOTONIC_USEC lets systemd 253+ (Type=notify-reload) match the reload.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  send_logged("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::stopping() const { send_logged("STOPPING=1"); }

}  // namespace vgpio::service
