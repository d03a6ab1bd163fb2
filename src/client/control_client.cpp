#include "client/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_socket.h"

namespace vgpio::client {

Result<ControlClient> ControlClient::connect(const std::string& path) {
  UniqueFd fd = TRY(connect_unix(path).error_context("is the daemon running? control socket"));
  return ControlClient(std::move(fd));
}

Result<void> ControlClient::send(const nlohmann::json& request) {
  std::string line = request.dump() + "\n";
  if (::send(fd_.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return Error::from_errno(errno, "sending to the control socket");
  return ok();
}

Result<nlohmann::json> ControlClient::call(const nlohmann::json& request) {
  nlohmann::json answer = TRY(exchange(request));
  if (!answer.value("ok", false)) return Error(answer.value("error", "request failed"));
  return answer;
}

Result<nlohmann::json> ControlClient::exchange(const nlohmann::json& request) {
  if (auto sent = send(request); !sent) {
    // A daemon that turns a connection away (too many, no grant) says why,
    // then closes, perhaps before the request got there: read its reason.
    auto why = next(std::chrono::milliseconds(1000));  // at once: it is there, or the socket is closed
    if (why && why.value() && !why.value()->value("ok", true)) return *why.value();
    return sent.release_error();
  }
  // next() also returns early when a signal interrupts its wait: wait on.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error("the daemon did not answer within 10 s");
    auto answer = TRY(next(left));
    if (answer) return *answer;
  }
}

Result<std::optional<nlohmann::json>> ControlClient::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t pos = buffer_.find('\n');
    if (pos != std::string::npos) {
      std::string line = buffer_.substr(0, pos);
      buffer_.erase(0, pos + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) return Error("the daemon sent a line that is not JSON");
      return std::optional<nlohmann::json>(std::move(j));
    }
    int wait = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::optional<nlohmann::json>();
      wait = static_cast<int>(left.count());
    }
    pollfd p{fd_.get(), POLLIN, 0};
    int n = poll(&p, 1, wait);
    if (n < 0 && errno == EINTR) return std::optional<nlohmann::json>();  // the caller looks at why
    if (n < 0) return Error::from_errno(errno, "poll");
    if (n == 0) continue;
    char buf[4096];
    ssize_t got = ::read(fd_.get(), buf, sizeof buf);
    if (got < 0) return Error::from_errno(errno, "reading the control socket");
    if (got == 0) return Error("the daemon closed the control connection");
    buffer_.append(buf, static_cast<size_t>(got));
  }
}

}  // namespace vgpio::client
