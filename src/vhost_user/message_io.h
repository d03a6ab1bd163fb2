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

// Puts one message together from as many reads as it takes to arrive, so a
// non-blocking socket never holds the reader inside a message: read_some()
// takes what is there and returns. It fails on a bad version, an oversized
// payload, too many fds or a close inside a message: after that the stream
// cannot be trusted and the caller closes it.
class MessageReader {
 public:
  enum class Progress { Partial, Complete, Closed };  // Closed: an orderly close between messages
  Result<Progress> read_some(int socket);
  // Some bytes of a message have arrived, not all.
  bool in_message() const { return got_ > 0; }
  // The message, after read_some() said Complete; the reader starts afresh.
  Message take();

 private:
  Result<void> header_arrived();
  Message message_;
  size_t got_ = 0;  // header and payload bytes so far
};

// Reads one message from a blocking socket (the driver side and tests).
// Returns nullopt on an orderly close before a header; fails as MessageReader
// does, and when a receive timeout (SO_RCVTIMEO) ends the wait.
Result<std::optional<Message>> read_message(int socket);

Result<void> write_message(int socket, const Header& header, std::span<const uint8_t> payload,
                           std::span<const int> fds = {});

template <typename T>
Result<void> write_struct(int socket, uint32_t request, uint32_t flags, const T& body, std::span<const int> fds = {}) {
  Header h{request, flags, sizeof(T)};
  return write_message(socket, h, std::span(reinterpret_cast<const uint8_t*>(&body), sizeof(T)), fds);
}

}  // namespace vgpio::vhost
