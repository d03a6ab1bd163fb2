#include "service/fd_store.h"

namespace vgpio::service {

std::shared_ptr<FdStore> FdStore::from_environment() { return std::make_shared<FdStore>(Notifier::from_environment()); }

bool valid_fd_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c > 0x7e || c == ':') return false;
  return true;
}

Result<void> FdStore::keep(const std::string& name, int fd) const {
  if (!enabled()) return ok();
  if (!valid_fd_name(name)) return Error("\"" + name + "\" is not a name the service manager's fd store takes");
  return notifier_.send("FDSTORE=1\nFDNAME=" + name, fd);
}

Result<void> FdStore::drop(const std::string& name) const {
  if (!enabled()) return ok();
  return notifier_.send("FDSTOREREMOVE=1\nFDNAME=" + name);
}

UniqueFd StoredFds::take(const std::string& name) {
  auto it = fds_.find(name);
  if (it == fds_.end()) return UniqueFd();
  UniqueFd fd = std::move(it->second);
  fds_.erase(it);
  return fd;
}

}  // namespace vgpio::service
