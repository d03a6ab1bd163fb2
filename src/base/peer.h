// Who is at the other end of a Unix socket, as the kernel says
// (SO_PEERCRED, SO_PEERGROUPS: the credentials at connect time, which the
// peer cannot fake), and grants of users and groups to match it against.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary
  // "uid 1000 (pid 4242)", for messages.
  std::string describe() const;
};

Result<Peer> peer_of(int socket_fd);

// Users and groups given something (in a config file: "alice", "@gpio").
struct Grant {
  std::vector<uid_t> users;
  std::vector<gid_t> groups;
  bool admits(const Peer& peer) const;
  bool operator==(const Grant&) const = default;
};

}  // namespace vgpio
