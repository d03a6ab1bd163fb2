// A vhost-user frontend (the part of QEMU that talks to a backend), written
// against the protocol only, so it works with any vhost-user backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vhost_user/protocol.h"

namespace vgpio::driver {

class Frontend {
 public:
  static Result<std::unique_ptr<Frontend>> connect(const std::string& path, std::chrono::milliseconds timeout);

  // Sends a message that has no reply of its own; with REPLY_ACK negotiated it
  // asks for an ack and fails when the backend reports an error.
  Result<void> send(uint32_t request, std::span<const uint8_t> payload = {}, std::span<const int> fds = {});
  // Sends a message and returns its reply payload.
  Result<std::vector<uint8_t>> call(uint32_t request, std::span<const uint8_t> payload = {});
  Result<uint64_t> get_u64(uint32_t request);
  Result<void> send_u64(uint32_t request, uint64_t value, std::span<const int> fds = {});
  Result<std::vector<uint8_t>> get_config(uint32_t offset, uint32_t size);

  void set_reply_ack(bool on) { reply_ack_ = on; }
  // For fault tests: fail every message after the next `n` (-1: no limit).
  void set_message_budget(int n) { budget_ = n; }
  int socket() const { return socket_.get(); }

 private:
  explicit Frontend(UniqueFd socket) : socket_(std::move(socket)) {}
  Result<std::vector<uint8_t>> read_reply(uint32_t request);
  Result<void> spend(uint32_t request);

  UniqueFd socket_;
  bool reply_ack_ = false;
  int budget_ = -1;
};

}  // namespace vgpio::driver
