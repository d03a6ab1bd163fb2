#include "vhost_user/message_io.h"

#include <sys/socket.h>

#include <cerrno>

#include "base/strings.h"

namespace vgpio::vhost {

Error Message::size_error(size_t expected) const {
  return Error(strfmt("%s: payload of %zu bytes, expected %zu", request_name(header.request), payload.size(),
                      expected));
}

namespace {
// Reads exactly len bytes; the first recvmsg also collects the fds.
Result<size_t> read_full(int socket, uint8_t* buf, size_t len, std::vector<UniqueFd>* fds) {
  size_t got = 0;
  while (got < len) {
    iovec iov{buf + got, len - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fds) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
    }
    ssize_t n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Error("frontend stalled in the middle of a message");
      return Error::from_errno(errno, "recvmsg");
    }
    if (fds) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds->emplace_back(fd);  // owned at once, so an error below closes them
        }
      }
      if (msg.msg_flags & MSG_CTRUNC) return Error(strfmt("message carries more than %d fds", kMaxFds));
      fds = nullptr;  // fds travel with the first bytes only
    }
    if (n == 0) return got;
    got += static_cast<size_t>(n);
  }
  return got;
}
}  // namespace

Result<std::optional<Message>> read_message(int socket) {
  Message m;
  size_t got = TRY(read_full(socket, reinterpret_cast<uint8_t*>(&m.header), sizeof m.header, &m.fds));
  if (got == 0) return std::optional<Message>();
  if (got < sizeof m.header) return Error(strfmt("connection closed inside a message header (%zu of 12 bytes)", got));
  if ((m.header.flags & kVersionMask) != kVersion)
    return Error(strfmt("%s: protocol version %u, expected %u", request_name(m.header.request),
                        m.header.flags & kVersionMask, kVersion));
  if (m.header.size > kMaxPayload)
    return Error(strfmt("%s: payload of %u bytes exceeds the %u-byte limit", request_name(m.header.request),
                        m.header.size, kMaxPayload));
  m.payload.resize(m.header.size);
  if (m.header.size > 0) {
    got = TRY(read_full(socket, m.payload.data(), m.payload.size(), nullptr));
    if (got < m.payload.size())
      return Error(strfmt("%s: connection closed inside the payload (%zu of %u bytes)",
                          request_name(m.header.request), got, m.header.size));
  }
  return std::optional<Message>(std::move(m));
}

Result<void> write_message(int socket, const Header& header, std::span<const uint8_t> payload,
                           std::span<const int> fds) {
  if (fds.size() > static_cast<size_t>(kMaxFds)) return Error("too many fds for one message");
  iovec iov[2] = {{const_cast<Header*>(&header), sizeof header},
                  {const_cast<uint8_t*>(payload.data()), payload.size()}};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  size_t total = sizeof header + payload.size();
  ssize_t n;
  do {
    n = sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::from_errno(errno, strfmt("sending %s", request_name(header.request)));
  if (static_cast<size_t>(n) != total) return Error(strfmt("short write of %s", request_name(header.request)));
  return ok();
}

}  // namespace vgpio::vhost
