#include "vhost_user/outbox.h"

#include <sys/socket.h>

#include <cerrno>

namespace vgpio::vhost {

bool Outbox::push(const Header& header, std::span<const uint8_t> payload) {
  bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(sent_));  // at most kMaxBytes move
  sent_ = 0;
  if (bytes_.size() - sent_ + sizeof header + payload.size() > kMaxBytes) return false;
  const auto* h = reinterpret_cast<const uint8_t*>(&header);
  bytes_.insert(bytes_.end(), h, h + sizeof header);
  bytes_.insert(bytes_.end(), payload.begin(), payload.end());
  return true;
}

Result<void> Outbox::flush(int socket) {
  while (!empty()) {
    ssize_t n = ::send(socket, bytes_.data() + sent_, bytes_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ok();
      return Error::from_errno(errno, "sending a reply to the frontend");
    }
    sent_ += static_cast<size_t>(n);
  }
  return ok();
}

}  // namespace vgpio::vhost
