#include "base/peer.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "base/strings.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

namespace vgpio {

std::string Peer::describe() const { return strfmt("uid %u (pid %d)", unsigned(uid), int(pid)); }

Result<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Error::from_errno(errno, "SO_PEERCRED");
  Peer peer{cred.pid, cred.uid, cred.gid, {}};
  // The list's size is told by ERANGE; a few tries, as it may change.
  socklen_t size = 16 * sizeof(gid_t);
  for (int attempt = 0; attempt < 4; ++attempt) {
    peer.groups.resize(size / sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &size) == 0) {
      peer.groups.resize(size / sizeof(gid_t));
      return peer;
    }
    if (errno != ERANGE) return Error::from_errno(errno, "SO_PEERGROUPS");
  }
  return Error("SO_PEERGROUPS: the peer's group list kept changing");
}

bool Grant::admits(const Peer& peer) const {
  if (std::count(users.begin(), users.end(), peer.uid)) return true;
  for (gid_t g : groups)
    if (g == peer.gid || std::count(peer.groups.begin(), peer.groups.end(), g)) return true;
  return false;
}

}  // namespace vgpio
