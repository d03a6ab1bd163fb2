// Landlock (Documentation/userspace-api/landlock.rst): from here on, this
// thread and the threads it makes open only what FilesystemNeeds names.
// Files already open (the chips, the sockets, stderr) stay usable.
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "service/sandbox.h"

// Newer than Debian 12's kernel headers (ABI 2).
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

namespace vgpio::service {

namespace {

int landlock_abi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

// Every filesystem right the kernel's ABI knows: all are denied unless a rule
// grants them.
uint64_t handled_rights(int abi) {
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

// struct landlock_ruleset_attr as of ABI 6; the kernel reads as much of it
// as the size says, so an older kernel is given the first field only.
struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;
  uint64_t scoped = 0;
};

Result<void> allow(int ruleset, const std::string& path, uint64_t rights) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return Error::from_errno(errno, "Landlock rule for " + path);
  landlock_path_beneath_attr rule{};
  rule.allowed_access = rights;
  rule.parent_fd = fd.get();
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
    return Error::from_errno(errno, "Landlock rule for " + path);
  return ok();
}

}  // namespace

Result<void> restrict_filesystem(const FilesystemNeeds& needs, SandboxState& state) {
  int abi = landlock_abi();
  state.landlock_abi = abi;
  if (abi == 0) {
    LOG_WARN(
        "sandbox: this kernel has no Landlock (or it is not among the enabled LSMs); the daemon may open "
        "any file its user can. Boot with lsm=...,landlock to add that layer");
    state.landlock = "none";
    return ok();
  }
  uint64_t handled = handled_rights(abi);
  RulesetAttr attr;
  attr.handled_access_fs = handled;
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 6) {
    // Scopes (ABI 6): no signal to, and no abstract socket of, a process
    // outside this sandbox, such as a sibling instance under the same user.
    attr.scoped = LANDLOCK_SCOPE_SIGNAL | (needs.abstract_sockets ? 0 : LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET);
    size = sizeof attr;
  }
  UniqueFd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
  if (!ruleset) return Error::from_errno(errno, "landlock_create_ruleset");

  const uint64_t read_file = LANDLOCK_ACCESS_FS_READ_FILE;
  const uint64_t device = (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV |
                           LANDLOCK_ACCESS_FS_READ_DIR) &
                          handled;
  const uint64_t sockets = LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE;
  for (const auto& dir : needs.socket_dirs) TRY(allow(ruleset.get(), dir, sockets));
  for (const auto& dir : needs.read_dirs) TRY(allow(ruleset.get(), dir, read_file));
  for (const auto& file : needs.read_files)
    if (access(file.c_str(), F_OK) == 0) TRY(allow(ruleset.get(), file, read_file));
  if (needs.dev_files) TRY(allow(ruleset.get(), "/dev", device));

  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
    return Error::from_errno(errno, "landlock_restrict_self");
  state.landlock = strfmt("ABI %d", abi);
  if (abi >= 6) state.landlock += needs.abstract_sockets ? ", signals scoped" : ", signals and abstract sockets scoped";
  return ok();
}

}  // namespace vgpio::service
