// The daemon's own sandbox, which holds whether systemd started it or a
// person did. Layers, in the order serve applies them:
//   1. no_new_privs, and Landlock (filesystem): before any thread starts,
//      because Landlock binds the calling thread and the threads it makes;
//   2. the daemon is built: sockets bound, lines requested, nothing served;
//   3. --user/--group: a root daemon becomes that user (all threads);
//   4. seccomp: an allowlist of system calls, on every thread (TSYNC), and
//      inherited by the threads made later (hot-plug, reload, created devices);
//   5. only then do the device threads start, and read what frontends send.
// A denied call fails with EPERM and is logged; nothing kills the daemon, so
// outputs still go to their safe levels on the way out.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio::service {

// What the running daemon needs from the filesystem after start-up.
struct FilesystemNeeds {
  std::vector<std::string> socket_dirs;  // sockets are made and removed here
  // Files read beneath these folders: the config file's, for reloads. Not the
  // file itself: editors, `sed -i` and dpkg replace a file by renaming a new
  // one over it, and a Landlock rule names an inode.
  std::vector<std::string> read_dirs;
  // Files read by name, where they exist: the user and group databases, for
  // the names a reloaded config gives (control_group, control_act...).
  std::vector<std::string> read_files;
  // Host lines: GPIO chips are opened under /dev, also ones that appear after
  // start-up (a chip that comes back is a new inode, which no Landlock rule
  // made earlier can name).
  bool dev_files = false;
  // An abstract socket outside the sandbox is used (NOTIFY_SOCKET="@..."):
  // Landlock's abstract-socket scope stays off.
  bool abstract_sockets = false;
};

// What is in place, for `vgpio ctl status` and the start-up log.
struct SandboxState {
  bool enabled = false;  // false with --no-sandbox
  std::string user;      // the user and group the daemon runs as
  uid_t uid = 0;
  gid_t gid = 0;
  bool no_new_privs = false;
  std::string seccomp = "none";  // "filter" once installed
  int landlock_abi = 0;          // 0: the kernel has no Landlock
  std::string landlock = "none";
};

// privileges.cpp
Result<void> set_no_new_privs(SandboxState& state);
struct Identity {
  std::string name;  // "user:group"
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary: the user's own
};
// A user and a group, names or numbers; an empty user is who we are now, an
// empty group the user's own. Resolved before Landlock hides /etc/passwd.
Result<Identity> resolve_identity(const std::string& user, const std::string& group);
// Becomes `who` (all threads); needs root unless we already are `who`.
Result<void> become(const Identity& who, SandboxState& state);

// landlock.cpp: the filesystem, beyond what is already open, is limited to
// `needs`. A kernel without Landlock is not an error: state says "none".
Result<void> restrict_filesystem(const FilesystemNeeds& needs, SandboxState& state);

// seccomp_filter.cpp: the system call allowlist, on every thread.
Result<void> install_syscall_filter(SandboxState& state);
// How many calls the filter has denied so far.
uint64_t denied_syscalls();

}  // namespace vgpio::service
