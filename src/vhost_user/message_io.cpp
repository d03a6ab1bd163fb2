#include "vhost_user/message_io.h"

#include <sys/socket.h>

#include <cerrno>

#include "base/strings.h"
#include "base/unix_socket.h"

namespace vgpio::vhost {

Error Message::size_error(size_t expected) const {
  return Error(
      strfmt("%s: payload of %zu bytes, expected %zu", request_name(header.request), payload.size(), expected));
}

Result<MessageReader::Progress> MessageReader::read_some(int socket) {
  constexpr size_t kHeader = sizeof(Header);
  for (;;) {
    bool in_header = got_ < kHeader;
    uint8_t* at =
        in_header ? reinterpret_cast<uint8_t*>(&message_.header) + got_ : message_.payload.data() + (got_ - kHeader);
    size_t want = in_header ? kHeader - got_ : message_.payload.size() - (got_ - kHeader);
    iovec iov{at, want};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (in_header) {  // fds travel with the header; any sent later are dropped by the kernel
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
    }
    ssize_t n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Progress::Partial;
      return Error::from_errno(errno, "recvmsg");
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); in_header && c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        message_.fds.emplace_back(fd);  // owned at once, so an error below closes them
      }
    }
    if ((msg.msg_flags & MSG_CTRUNC) || message_.fds.size() > static_cast<size_t>(kMaxFds))
      return Error(strfmt("message carries more than %d fds", kMaxFds));
    if (n == 0) {
      if (got_ == 0) return Progress::Closed;
      if (got_ < kHeader) return Error(strfmt("connection closed inside a message header (%zu of 12 bytes)", got_));
      return Error(strfmt("%s: connection closed inside the payload (%zu of %u bytes)",
                          request_name(message_.header.request), got_ - kHeader, message_.header.size));
    }
    got_ += static_cast<size_t>(n);
    if (got_ == kHeader) TRY(header_arrived());
    if (got_ >= kHeader && got_ == kHeader + message_.payload.size()) return Progress::Complete;
  }
}

Result<void> MessageReader::header_arrived() {
  const Header& h = message_.header;
  if ((h.flags & kVersionMask) != kVersion)
    return Error(
        strfmt("%s: protocol version %u, expected %u", request_name(h.request), h.flags & kVersionMask, kVersion));
  if (h.size > kMaxPayload)
    return Error(
        strfmt("%s: payload of %u bytes exceeds the %u-byte limit", request_name(h.request), h.size, kMaxPayload));
  message_.payload.resize(h.size);
  return ok();
}

Message MessageReader::take() {
  Message m = std::move(message_);
  message_ = Message{};
  got_ = 0;
  return m;
}

Result<std::optional<Message>> read_message(int socket) {
  MessageReader reader;
  switch (TRY(reader.read_some(socket))) {
    case MessageReader::Progress::Complete: return std::optional<Message>(reader.take());
    case MessageReader::Progress::Closed: return std::optional<Message>();
    case MessageReader::Progress::Partial: break;
  }
  return Error(reader.in_message() ? "the peer stalled in the middle of a message" : "no message in time");
}

Result<void> write_message(int socket, const Header& header, std::span<const uint8_t> payload,
                           std::span<const int> fds) {
  if (fds.size() > static_cast<size_t>(kMaxFds)) return Error("too many fds for one message");
  iovec iov[2] = {{const_cast<Header*>(&header), sizeof header},
                  {const_cast<uint8_t*>(payload.data()), payload.size()}};
  size_t total = sizeof header + payload.size();
  auto sent = send_with_fds(socket, std::span(iov, payload.empty() ? 1 : 2), fds);
  if (!sent) return sent.release_error().with_context(strfmt("sending %s", request_name(header.request)));
  size_t n = sent.value();
  if (static_cast<size_t>(n) != total) return Error(strfmt("short write of %s", request_name(header.request)));
  return ok();
}

}  // namespace vgpio::vhost
