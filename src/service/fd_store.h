// The service manager's file-descriptor store (sd_pid_notify_with_fds(3),
// FileDescriptorStoreMax= in systemd.service(5)): what vgpio hands it there
// outlives the process, and comes back to the next one like a socket from
// socket activation, by name. vgpio keeps there what a restart must not lose:
// each line request (the kernel releases a line when its last fd closes) and
// each device's saved state (a memfd).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "service/notify.h"

namespace vgpio::service {

class FdStore {
 public:
  // From $NOTIFY_SOCKET; without one, nothing is kept (enabled() is false).
  static std::shared_ptr<FdStore> from_environment();
  explicit FdStore(Notifier notifier) : notifier_(std::move(notifier)) {}

  bool enabled() const { return notifier_.enabled(); }
  // The manager keeps a copy of `fd` under `name` (FDSTORE=1). Thread-safe.
  Result<void> keep(const std::string& name, int fd) const;
  // The manager closes what it keeps under `name` (FDSTOREREMOVE=1).
  Result<void> drop(const std::string& name) const;

 private:
  Notifier notifier_;
};

// What the previous process kept, by name, handed over at start-up. Whoever
// takes an fd owns it; what nobody took is returned by leftovers().
class StoredFds {
 public:
  StoredFds() = default;
  void add(std::string name, UniqueFd fd) { fds_.emplace(std::move(name), std::move(fd)); }
  // The fd kept under `name`, once; an invalid fd when there is none.
  UniqueFd take(const std::string& name);
  size_t size() const { return fds_.size(); }
  // Every name not taken yet, with its fd, and forgets them.
  std::map<std::string, UniqueFd> leftovers() { return std::exchange(fds_, {}); }

 private:
  std::map<std::string, UniqueFd> fds_;
};

// A name the manager accepts (FDNAME=: printable ASCII without ':', at most
// 255 characters).
bool valid_fd_name(const std::string& name);

}  // namespace vgpio::service
