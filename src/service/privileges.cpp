// Who the daemon runs as: no_new_privs, and a root daemon becoming --user.
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/strings.h"
#include "service/sandbox.h"

namespace vgpio::service {

namespace {

bool as_number(const std::string& text, unsigned long* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::strtoul(text.c_str(), nullptr, 10);
  return true;
}

std::string group_name(gid_t gid) {
  struct group* g = getgrgid(gid);
  return g ? g->gr_name : std::to_string(gid);
}

}  // namespace

Result<void> set_no_new_privs(SandboxState& state) {
  // No execve can gain privileges from here on; also what lets an
  // unprivileged process install seccomp and Landlock filters.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::from_errno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  state.no_new_privs = true;
  return ok();
}

Result<Identity> resolve_identity(const std::string& user, const std::string& group) {
  Identity who;
  unsigned long number = 0;
  struct passwd* pw = nullptr;
  if (user.empty()) {
    who.uid = getuid();
    pw = getpwuid(who.uid);
  } else if (as_number(user, &number)) {
    who.uid = static_cast<uid_t>(number);
    pw = getpwuid(who.uid);
  } else {
    pw = getpwnam(user.c_str());
    if (!pw) return Error(strfmt("--user %s: no such user", user.c_str()));
    who.uid = pw->pw_uid;
  }
  who.gid = user.empty() ? getgid() : pw ? pw->pw_gid : static_cast<gid_t>(who.uid);
  if (!group.empty()) {
    if (as_number(group, &number)) {
      who.gid = static_cast<gid_t>(number);
    } else {
      struct group* g = getgrnam(group.c_str());
      if (!g) return Error(strfmt("--group %s: no such group", group.c_str()));
      who.gid = g->gr_gid;
    }
  }
  std::string user_name = pw ? pw->pw_name : std::to_string(who.uid);
  if (pw) {
    // The user's own supplementary groups: typically gpio, for the chips.
    int count = 64;
    who.groups.resize(count);
    if (getgrouplist(pw->pw_name, who.gid, who.groups.data(), &count) < 0) {
      who.groups.resize(count);
      getgrouplist(pw->pw_name, who.gid, who.groups.data(), &count);
    }
    who.groups.resize(count);
  } else {
    who.groups = {who.gid};
  }
  who.name = user_name + ":" + group_name(who.gid);
  return who;
}

Result<void> become(const Identity& who, SandboxState& state) {
  state.user = who.name;
  if (getuid() == who.uid && geteuid() == who.uid && getgid() == who.gid && getegid() == who.gid) {
    state.uid = who.uid;
    state.gid = who.gid;
    return ok();
  }
  if (geteuid() != 0)
    return Error(strfmt("--user %s: only root can change user (running as uid %u)", who.name.c_str(), geteuid()));
  // glibc applies each of these to every thread of the process. Groups first:
  // after setuid there is no privilege left to change them.
  if (setgroups(who.groups.size(), who.groups.data()) != 0) return Error::from_errno(errno, "setgroups");
  if (setresgid(who.gid, who.gid, who.gid) != 0) return Error::from_errno(errno, "setresgid");
  if (setresuid(who.uid, who.uid, who.uid) != 0) return Error::from_errno(errno, "setresuid");
  if (who.uid != 0 && setuid(0) == 0) return Error("--user: could switch back to root after dropping it");
  state.uid = who.uid;
  state.gid = who.gid;
  return ok();
}

}  // namespace vgpio::service
