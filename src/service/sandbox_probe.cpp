#include "service/sandbox_probe.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "base/unix_socket.h"

namespace vgpio::service {

namespace {

// 0 when `fd_or_result` succeeded (closing what it opened), else errno.
int outcome(long fd_or_result, bool is_fd) {
  if (fd_or_result < 0) return errno;
  if (is_fd) close(static_cast<int>(fd_or_result));
  return 0;
}

}  // namespace

std::vector<std::pair<std::string, int>> probe_sandbox(const ProbeTargets& targets) {
  const std::string& foreign_chip = targets.foreign_chip;
  std::vector<std::pair<std::string, int>> out;
  // A path that does not exist: without a sandbox this fails with ENOENT.
  char* const no_args[] = {nullptr};
  out.emplace_back("execve", outcome(syscall(SYS_execve, "/nonexistent/vgpio-sandbox-probe", no_args, no_args), false));
  out.emplace_back("socket(AF_INET)", outcome(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), true));
  out.emplace_back("open(/etc/shadow)", outcome(open("/etc/shadow", O_RDONLY | O_CLOEXEC), true));
  // Reading our own registers: without a sandbox ESRCH (nobody traces us).
  out.emplace_back("ptrace", outcome(syscall(SYS_ptrace, PTRACE_PEEKUSER, getpid(), 0, 0), false));
  int efd = eventfd(0, EFD_CLOEXEC);
  int pending = 0;
  out.emplace_back("ioctl(FIONREAD)", outcome(ioctl(efd, FIONREAD, &pending), false));
  close(efd);
  if (!foreign_chip.empty())
    out.emplace_back("open(" + foreign_chip + ")", outcome(open(foreign_chip.c_str(), O_RDWR | O_CLOEXEC), true));
  if (targets.sibling_pid > 0) {
    // Signal 0: delivers nothing, only asks whether it could.
    const std::string pid = std::to_string(targets.sibling_pid);
    out.emplace_back("kill(" + pid + ")", outcome(kill(targets.sibling_pid, 0), false));
    out.emplace_back("tgkill(" + pid + ")",
                     outcome(syscall(SYS_tgkill, targets.sibling_pid, targets.sibling_pid, 0), false));
  }
  if (!targets.sibling_socket.empty()) {
    auto fd = connect_unix(targets.sibling_socket);
    out.emplace_back("connect(" + targets.sibling_socket + ")", fd ? 0 : fd.error().code());
  }
  return out;
}

}  // namespace vgpio::service
