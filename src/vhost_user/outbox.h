// Replies on their way to a frontend. The device thread never waits for a
// frontend to read: what the socket does not take now waits here, and a
// frontend that lets this fill up (it keeps asking and never reads) is cut
// off. A frontend that waits for each reply, as vhost-user frontends do,
// never has more than one here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "vhost_user/protocol.h"

namespace vgpio::vhost {

class Outbox {
 public:
  // Far more than any frontend that reads its replies ever leaves unread.
  static constexpr size_t kMaxBytes = 64 * 1024;

  // Queues one reply; false (and nothing queued) when it would pass the bound.
  bool push(const Header& header, std::span<const uint8_t> payload);
  // Sends what the socket takes now, without waiting. Fails when the
  // connection is broken.
  Result<void> flush(int socket);
  bool empty() const { return sent_ == bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
  size_t sent_ = 0;
};

}  // namespace vgpio::vhost
