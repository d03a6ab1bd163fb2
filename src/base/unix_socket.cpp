#include "base/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace vgpio {
namespace {
Result<sockaddr_un> make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return Error("socket path \"" + path + "\" is empty or longer than " +
                 std::to_string(sizeof addr.sun_path - 1) + " bytes");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}
}  // namespace

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un addr = TRY(make_address(path));
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::from_errno(errno, "socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::from_errno(errno, "connect to " + path);
  return fd;
}

Result<UniqueFd> listen_unix(const std::string& path, const SocketAccess& access) {
  sockaddr_un addr = TRY(make_address(path));
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error(path + " exists and is not a socket; refusing to replace it");
    auto probe = connect_unix(path);
    if (probe) return Error(path + " is in use by another running process; stop it or choose another path");
    if (probe.error().code() != ECONNREFUSED)
      return probe.release_error().with_context("checking the existing socket " + path);
    LOG_INFO("replacing stale socket %s (nobody is listening on it)", path.c_str());
    if (unlink(path.c_str()) != 0) return Error::from_errno(errno, "removing stale socket " + path);
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::from_errno(errno, "socket");
  // Create it with no access at all, then open it up as configured: never a
  // moment where others could connect.
  mode_t old_mask = umask(0777);
  int rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  umask(old_mask);
  if (rc != 0) return Error::from_errno(bind_errno, "bind " + path);
  if ((access.owner || access.group) &&
      chown(path.c_str(), access.owner.value_or(static_cast<uid_t>(-1)), access.group.value_or(static_cast<gid_t>(-1))) != 0) {
    int e = errno;
    unlink(path.c_str());
    return Error::from_errno(e, "chown " + path);
  }
  if (chmod(path.c_str(), access.mode) != 0) {
    int e = errno;
    unlink(path.c_str());
    return Error::from_errno(e, "chmod " + path);
  }
  if (listen(fd.get(), 4) != 0) {
    int e = errno;
    unlink(path.c_str());
    return Error::from_errno(e, "listen " + path);
  }
  return fd;
}

}  // namespace vgpio
