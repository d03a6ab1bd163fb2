#include "driver/frontend.h"

#include <sys/socket.h>

#include <cstring>

#include "base/strings.h"
#include "base/unix_socket.h"
#include "vhost_user/message_io.h"

namespace vgpio::driver {

using namespace vhost;

Result<std::unique_ptr<Frontend>> Frontend::connect(const std::string& path, std::chrono::milliseconds timeout) {
  UniqueFd fd = TRY(connect_unix(path));
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return std::unique_ptr<Frontend>(new Frontend(std::move(fd)));
}

Result<std::vector<uint8_t>> Frontend::read_reply(uint32_t request) {
  auto m = TRY(read_message(socket_.get()));
  if (!m) return Error(strfmt("backend closed the connection instead of answering %s", request_name(request)));
  if (m->header.request != request || !(m->header.flags & kFlagReply))
    return Error(strfmt("backend answered %s with %s", request_name(request), request_name(m->header.request)));
  return std::move(m->payload);
}

Result<void> Frontend::spend(uint32_t request) {
  if (budget_ == 0) return Error(strfmt("stopped before %s on purpose", request_name(request)));
  if (budget_ > 0) --budget_;
  return ok();
}

Result<void> Frontend::send(uint32_t request, std::span<const uint8_t> payload, std::span<const int> fds) {
  TRY(spend(request));
  uint32_t flags = kVersion | (reply_ack_ ? kFlagNeedReply : 0);
  TRY(write_message(socket_.get(), Header{request, flags, static_cast<uint32_t>(payload.size())}, payload, fds));
  if (!reply_ack_) return ok();
  auto reply = TRY(read_reply(request));
  uint64_t status = 1;
  if (reply.size() == sizeof status) std::memcpy(&status, reply.data(), sizeof status);
  if (status != 0) return Error(strfmt("backend rejected %s", request_name(request)));
  return ok();
}

Result<std::vector<uint8_t>> Frontend::call(uint32_t request, std::span<const uint8_t> payload) {
  TRY(spend(request));
  TRY(write_message(socket_.get(), Header{request, kVersion, static_cast<uint32_t>(payload.size())}, payload));
  return read_reply(request);
}

Result<uint64_t> Frontend::get_u64(uint32_t request) {
  auto reply = TRY(call(request));
  if (reply.size() != 8) return Error(strfmt("%s reply of %zu bytes, expected 8", request_name(request), reply.size()));
  uint64_t v;
  std::memcpy(&v, reply.data(), 8);
  return v;
}

Result<void> Frontend::send_u64(uint32_t request, uint64_t value, std::span<const int> fds) {
  return send(request, std::span(reinterpret_cast<const uint8_t*>(&value), 8), fds);
}

Result<std::vector<uint8_t>> Frontend::get_config(uint32_t offset, uint32_t size) {
  std::vector<uint8_t> payload(sizeof(ConfigHeader) + size, 0);
  ConfigHeader h{offset, size, 0};
  std::memcpy(payload.data(), &h, sizeof h);
  auto reply = TRY(call(kGetConfig, payload));
  if (reply.size() != payload.size())
    return Error(strfmt("backend refused to read %u config bytes at offset %u", size, offset));
  return std::vector<uint8_t>(reply.begin() + sizeof h, reply.end());
}

}  // namespace vgpio::driver
