#include "base/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "base/paths.h"

namespace vgpio {
namespace {
Result<sockaddr_un> make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return Error("socket path \"" + path + "\" is empty or longer than " + std::to_string(sizeof addr.sun_path - 1) +
                 " bytes");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// bind() and connect() take a path, not a directory fd: the kernel's own
// link to the open directory stands in for the path, so the name is looked
// up in that very directory.
std::string path_in(int dir, const std::string& name) { return "/proc/self/fd/" + std::to_string(dir) + "/" + name; }

Result<UniqueFd> connect_address(const std::string& path, const std::string& shown) {
  sockaddr_un addr = TRY(make_address(path));
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::from_errno(errno, "socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::from_errno(errno, "connect to " + shown);
  return fd;
}
}  // namespace

SocketFile& SocketFile::operator=(SocketFile&& other) noexcept {
  if (this != &other) {
    remove();
    dir_ = std::move(other.dir_);
    name_ = std::move(other.name_);
  }
  return *this;
}

void SocketFile::remove() {
  if (dir_) unlinkat(dir_.get(), name_.c_str(), 0);
  dir_.reset();
}

Result<UniqueFd> open_directory(const std::string& path) {
  UniqueFd dir(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Error::from_errno(errno, "opening the directory " + path);
  return dir;
}

Result<UniqueFd> connect_unix(const std::string& path) { return connect_address(path, path); }

Result<Listener> listen_unix(const std::string& path, const SocketAccess& access) {
  auto [dir, name] = split_path(path);
  if (name.empty() || name == "." || name == "..") return Error("socket path \"" + path + "\" names no file");
  TRY(make_address(path));  // the limit applies to the path the clients use
  UniqueFd dirfd = TRY(open_directory(dir).error_context("socket " + path));
  return listen_unix_at(dirfd.get(), name, path, access);
}

Result<Listener> listen_unix_at(int dir, const std::string& name, const std::string& shown,
                                const SocketAccess& access) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error("socket name \"" + name + "\" must be a file name, without '/'");
  std::string at = path_in(dir, name);
  sockaddr_un addr = TRY(make_address(at));
  struct stat st {};
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error(shown + " exists and is not a socket; refusing to replace it", EEXIST);
    auto probe = connect_address(at, shown);
    if (probe)
      return Error(shown + " is in use by another running process; stop it or choose another path", EADDRINUSE);
    if (probe.error().code() != ECONNREFUSED)
      return probe.release_error().with_context("checking the existing socket " + shown);
    LOG_INFO("replacing stale socket %s (nobody is listening on it)", shown.c_str());
    if (unlinkat(dir, name.c_str(), 0) != 0) return Error::from_errno(errno, "removing stale socket " + shown);
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::from_errno(errno, "socket");
  // Create it with no access at all, then open it up as configured: never a
  // moment where others could connect.
  mode_t old_mask = umask(0777);
  int rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  umask(old_mask);
  if (rc != 0) return Error::from_errno(bind_errno, "bind " + shown);
  UniqueFd held(fcntl(dir, F_DUPFD_CLOEXEC, 3));
  if (!held) return Error::from_errno(errno, "keeping the directory of " + shown);
  Listener l{std::move(fd), SocketFile(std::move(held), name)};  // removed again on any error below
  if ((access.owner || access.group) &&
      fchownat(dir, name.c_str(), access.owner.value_or(static_cast<uid_t>(-1)),
               access.group.value_or(static_cast<gid_t>(-1)), AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno(errno, "chown " + shown);
  if (fchmodat(dir, name.c_str(), access.mode, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno(errno, "chmod " + shown);
  if (listen(l.fd.get(), 4) != 0) return Error::from_errno(errno, "listen " + shown);
  return l;
}

Result<Listener> Listener::remake(const std::string& shown, const SocketAccess& access) {
  if (!file.dir_) return Error(shown + ": this socket has no file of its own to remake (handed over?)");
  const std::string& name = file.name_;
  Listener fresh = TRY(listen_unix_at(file.dir_.get(), name + ".new", shown + ".new", access));
  if (renameat(file.dir_.get(), (name + ".new").c_str(), file.dir_.get(), name.c_str()) != 0)
    return Error::from_errno(errno, "renaming a new socket over " + shown);  // `fresh` removes its file
  fresh.file.name_ = name;
  file.dir_.reset();  // its name is the new socket's now: never removed by this one
  return fresh;
}

Result<size_t> send_with_fds(int socket, std::span<const iovec> data, std::span<const int> fds, int flags,
                             const sockaddr_un* to, socklen_t to_length) {
  if (fds.size() > kMaxSendFds) return Error("too many fds for one message");
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_un*>(to);
  msg.msg_namelen = to ? to_length : 0;
  msg.msg_iov = const_cast<iovec*>(data.data());
  msg.msg_iovlen = data.size();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSendFds)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = sendmsg(socket, &msg, flags | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return Error::from_errno(errno, "sendmsg");
  return size_t(n);
}

}  // namespace vgpio
