#include "service/listen_fds.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/strings.h"

namespace vgpio::service {
namespace {
constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : path;
}
}  // namespace

Result<InheritedSocket> adopt_listening_fd(int fd, std::string name) {
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return Error(strfmt("fd %d is not a listening Unix stream socket (%s); a vhost-user socket must be one", fd,
                        std::strerror(errno)));
  len = sizeof listening;
  getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  sockaddr_un addr{};
  len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX ||
      type != SOCK_STREAM || !listening)
    return Error(strfmt("fd %d is not a listening Unix stream socket (a vhost-user socket must be one)", fd));
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  InheritedSocket s{UniqueFd(fd), std::move(name), ""};
  if (len > offsetof(sockaddr_un, sun_path) && addr.sun_path[0] != '\0')
    s.path = std::string(addr.sun_path, strnlen(addr.sun_path, len - offsetof(sockaddr_un, sun_path)));
  return s;
}

Result<std::vector<InheritedSocket>> take_listen_fds(const std::vector<std::string>& kept_prefixes, StoredFds& kept) {
  std::vector<InheritedSocket> sockets;
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  const char* names = std::getenv("LISTEN_FDNAMES");
  std::string name_list = names ? names : "";
  bool ours = pid && count && std::strtol(pid, nullptr, 10) == getpid();
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (!ours) return sockets;
  char* end = nullptr;
  long n = std::strtol(count, &end, 10);
  if (*end || n < 0 || n > 1024) return Error(strfmt("LISTEN_FDS=\"%s\" is not a count of sockets", count));
  std::vector<std::string> fd_names;
  for (size_t start = 0; start <= name_list.size();) {
    size_t colon = name_list.find(':', start);
    if (colon == std::string::npos) colon = name_list.size();
    fd_names.push_back(name_list.substr(start, colon - start));
    start = colon + 1;
  }
  for (long i = 0; i < n; ++i) {
    std::string name = static_cast<size_t>(i) < fd_names.size() ? fd_names[i] : "";
    int fd = kFirstFd + static_cast<int>(i);
    bool is_kept = false;
    for (const auto& prefix : kept_prefixes) is_kept |= name.rfind(prefix, 0) == 0;
    if (is_kept) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      kept.add(name, UniqueFd(fd));
      continue;
    }
    sockets.push_back(TRY(adopt_listening_fd(kFirstFd + static_cast<int>(i), name)
                              .error_context("socket activation (" + (name.empty() ? "unnamed" : name) + ")")));
  }
  return sockets;
}

std::optional<size_t> find_socket(const std::vector<InheritedSocket>& sockets, const std::string& name,
                                  const std::string& path) {
  for (size_t i = 0; i < sockets.size(); ++i)
    if (!name.empty() && sockets[i].name == name) return i;
  for (size_t i = 0; i < sockets.size(); ++i)
    if (!path.empty() && !sockets[i].path.empty() && real(sockets[i].path) == real(path)) return i;
  return std::nullopt;
}

}  // namespace vgpio::service
