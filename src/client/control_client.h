// The client side of the control socket: one JSON request, one JSON answer,
// or a stream of events after `watch`.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio::client {

class ControlClient {
 public:
  static Result<ControlClient> connect(const std::string& path);
  // Sends a request and returns the answer; an answer with "ok": false becomes an Error.
  Result<nlohmann::json> call(const nlohmann::json& request);
  // The same, but any answer is returned as it is, "ok": false and its
  // "error_kind" too; an Error is a connection that failed.
  Result<nlohmann::json> exchange(const nlohmann::json& request);
  // Sends a request without waiting; its answer is the next line.
  Result<void> send(const nlohmann::json& request);
  // Next line (after watch); nullopt on timeout, or when a signal interrupted
  // the wait. -1 ms waits forever.
  Result<std::optional<nlohmann::json>> next(std::chrono::milliseconds timeout);

 private:
  explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace vgpio::client
