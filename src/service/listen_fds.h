// Sockets handed over by a service manager: systemd's socket activation
// (sd_listen_fds(3): $LISTEN_PID, $LISTEN_FDS, $LISTEN_FDNAMES, fds from 3)
// or a management layer's `--fd N` (QEMU's vhost-user backend conventions).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "service/fd_store.h"

namespace vgpio::service {

struct InheritedSocket {
  UniqueFd fd;
  std::string name;  // FileDescriptorName= ("" when none was given)
  std::string path;  // the address it listens on ("" for an unnamed socket)
};

// Takes the sockets systemd passed to this process, once: the variables are
// removed so that nothing started later takes them for its own. None when the
// variables are absent or meant for another process. Fds whose names start
// with one of `kept_prefixes` are not sockets but what the previous process
// kept in the fd store (fd_store.h): they go to `kept`.
Result<std::vector<InheritedSocket>> take_listen_fds(const std::vector<std::string>& kept_prefixes, StoredFds& kept);

// Checks that `fd` is an AF_UNIX stream socket that listens.
Result<InheritedSocket> adopt_listening_fd(int fd, std::string name);

// The socket among `sockets` meant for a device: by name first, then by path.
std::optional<size_t> find_socket(const std::vector<InheritedSocket>& sockets, const std::string& name,
                                  const std::string& path);

}  // namespace vgpio::service
