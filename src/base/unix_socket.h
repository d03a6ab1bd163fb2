// Unix stream sockets: listening (with stale-file handling and permissions)
// and connecting. A socket file is made, checked and removed through its
// directory held open (openat-style), by name alone: once the directory is
// open, no symlink swapped into its path or put in its place can send a bind,
// chown, chmod or unlink anywhere else.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio {

struct SocketAccess {
  mode_t mode = 0600;
  std::optional<uid_t> owner;
  std::optional<gid_t> group;
  bool operator==(const SocketAccess&) const = default;
};

// The file of a listening socket; removed when this goes.
class SocketFile {
 public:
  SocketFile() = default;
  SocketFile(UniqueFd dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}
  SocketFile(SocketFile&&) noexcept = default;
  SocketFile& operator=(SocketFile&& other) noexcept;
  ~SocketFile() { remove(); }

 private:
  friend struct Listener;
  void remove();
  UniqueFd dir_;
  std::string name_;
};

struct Listener {
  UniqueFd fd;
  SocketFile file;
  // A new listening socket with `access`, renamed over this one's file
  // through the held directory (a process that dropped root can still give
  // its socket new access): the path always answers, connections made to
  // this socket stay open, and this one's file then names nothing.
  Result<Listener> remake(const std::string& shown, const SocketAccess& access);
};

// A directory to make sockets in, held open (O_PATH): the symlinks in `path`
// are followed now, and never again.
Result<UniqueFd> open_directory(const std::string& path);

// Listens on `path`. A socket file nobody answers on (left by a crashed run)
// is replaced; one that a live process serves is refused.
Result<Listener> listen_unix(const std::string& path, const SocketAccess& access);
// The same, for `name` (no '/') in the directory `dir` (from open_directory);
// `shown` is the path for messages.
Result<Listener> listen_unix_at(int dir, const std::string& name, const std::string& shown, const SocketAccess& access);
Result<UniqueFd> connect_unix(const std::string& path);

// sendmsg of `data` with `fds` passed as SCM_RIGHTS (at most kMaxSendFds), on
// a connected socket or, with `to`, as a datagram; again on EINTR, never
// SIGPIPE. Returns the bytes sent (all of a datagram, maybe part of a stream).
inline constexpr size_t kMaxSendFds = 8;
Result<size_t> send_with_fds(int socket, std::span<const iovec> data, std::span<const int> fds, int flags = 0,
                             const sockaddr_un* to = nullptr, socklen_t to_length = 0);

}  // namespace vgpio
