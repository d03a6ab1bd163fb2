// Reading and writing whole vhost-user messages, with their fds, on a Unix
// stream socket. Used by both sides (the backend and our driver-side library).
#pragma once

#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vhost_user/protocol.h"

namespace vgpio::vhost {

struct Message {
  Header header{};
  std::vector<uint8_t> payload;
  std::vector<UniqueFd> fds;

  // The payload as T, when it is exactly sizeof(T) bytes.
  template <typename T>
  Result<T> as() const {
    if (payload.size() != sizeof(T)) return size_error(sizeof(T));
    T value;
    std::memcpy(&value, payload.data(), sizeof(T));
    return value;
  }
  Error size_error(size_t expected) const;
};

// Reads one message. Returns nullopt on an orderly close before a header.
// Fails on a short message, a bad version, an oversized payload or too many fds:
// after that the stream cannot be trusted and the caller closes it.
Result<std::optional<Message>> read_message(int socket);

Result<void> write_message(int socket, const Header& header, std::span<const uint8_t> payload,
                           std::span<const int> fds = {});

template <typename T>
Result<void> write_struct(int socket, uint32_t request, uint32_t flags, const T& body, std::span<const int> fds = {}) {
  Header h{request, flags, sizeof(T)};
  return write_message(socket, h, std::span(reinterpret_cast<const uint8_t*>(&body), sizeof(T)), fds);
}

}  // namespace vgpio::vhost
