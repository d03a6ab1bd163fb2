// Unix stream sockets: listening (with stale-file handling and permissions)
// and connecting.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio {

struct SocketAccess {
  mode_t mode = 0600;
  std::optional<uid_t> owner;
  std::optional<gid_t> group;
};

// Listens on `path`. A socket file nobody answers on (left by a crashed run)
// is replaced; one that a live process serves is refused.
Result<UniqueFd> listen_unix(const std::string& path, const SocketAccess& access);
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace vgpio
