// The systemd notification protocol (sd_notify(3)): datagrams of
// "KEY=VALUE\n" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. Written
// here rather than linking libsystemd: it is one sendto(), the protocol is
// stable, and the daemon stays small for the sandbox and the memory budget.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vgpio::service {

class Notifier {
 public:
  // From $NOTIFY_SOCKET; when it is unset, send() does nothing.
  static Notifier from_environment();
  explicit Notifier(std::string socket_path) : path_(std::move(socket_path)) {}
  Notifier() = default;

  bool enabled() const { return !path_.empty(); }
  // One datagram, e.g. "READY=1\nSTATUS=serving 2 devices"; with `fd`, that
  // fd travels along (SCM_RIGHTS), as FDSTORE=1 wants.
  Result<void> send(std::string_view state, int fd = -1) const;

  // The usual messages. Failures are logged, never fatal: a daemon must
  // serve even when the manager has gone deaf.
  void ready(const std::string& status) const;
  void status(const std::string& status) const;
  void reloading() const;
  void stopping() const;

 private:
  void send_logged(const std::string& state) const;
  std::string path_;  // "@name" for an abstract socket
};

}  // namespace vgpio::service
