// The system call allowlist (libseccomp). Everything vgpio does after
// start-up, and nothing else: no execve, no fork, no ptrace, no sockets but
// AF_UNIX, no mounts or namespaces, and ioctl only for GPIO chips and lines.
// A call outside the list traps; the handler makes it fail with EPERM and
// logs it (rate-limited), and the daemon serves on.
#include <linux/gpio.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "base/strings.h"
#include "service/sandbox.h"

namespace vgpio::service {

namespace {

// Plain calls, whatever their arguments. Names missing on an architecture
// (open on arm64, say) are skipped.
const int kAllowed[] = {
    // files and descriptors
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(close_range),
    SCMP_SYS(open),
    SCMP_SYS(openat),
    SCMP_SYS(fstat),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(getcwd),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(getdents64),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(pipe2),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(umask),
    SCMP_SYS(chmod),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(chown),
    SCMP_SYS(fchown),
    SCMP_SYS(fchownat),
    SCMP_SYS(lchown),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),  // a control socket made again with new access
    // a device's saved state (service/fd_store.h)
    SCMP_SYS(memfd_create),
    SCMP_SYS(ftruncate),
    // memory (guest memory is mapped from the frontend's fds)
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    // threads
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(get_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    // signals
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(signalfd4),
    // event loops, timers, hot-plug
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(eventfd2),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime),
    SCMP_SYS(inotify_init1),
    SCMP_SYS(inotify_add_watch),
    SCMP_SYS(inotify_rm_watch),
    // sockets (socket and socketpair: AF_UNIX only, below)
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(connect),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(shutdown),
    // time, identity, odds and ends
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getrandom),
    SCMP_SYS(uname),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getresuid),
    SCMP_SYS(getresgid),
    SCMP_SYS(getgroups),
    // The same calls under their 32-bit names (armhf): 64-bit offsets and
    // sizes, 64-bit times beside 32-bit time_t, 32-bit user ids.
    SCMP_SYS(mmap2),
    SCMP_SYS(_llseek),
    SCMP_SYS(fstat64),
    SCMP_SYS(stat64),
    SCMP_SYS(lstat64),
    SCMP_SYS(fstatat64),
    SCMP_SYS(fcntl64),
    SCMP_SYS(ftruncate64),
    SCMP_SYS(clock_gettime64),
    SCMP_SYS(clock_getres_time64),
    SCMP_SYS(clock_nanosleep_time64),
    SCMP_SYS(timerfd_settime64),
    SCMP_SYS(timerfd_gettime64),
    SCMP_SYS(ppoll_time64),
    SCMP_SYS(futex_time64),
    SCMP_SYS(getuid32),
    SCMP_SYS(geteuid32),
    SCMP_SYS(getgid32),
    SCMP_SYS(getegid32),
    SCMP_SYS(getresuid32),
    SCMP_SYS(getresgid32),
    SCMP_SYS(getgroups32),
    SCMP_SYS(chown32),
    SCMP_SYS(fchown32),
    SCMP_SYS(lchown32),
    SCMP_SYS(ugetrlimit),
    SCMP_SYS(sigreturn),
    SCMP_SYS(send),
    SCMP_SYS(recv),
};

// The GPIO v2 uAPI calls libgpiod makes (chips, line info and its watches,
// requests, values, reconfiguration), and TCGETS, with which the C library
// asks whether stdout is a terminal.
const unsigned long kIoctls[] = {
    GPIO_GET_CHIPINFO_IOCTL,          GPIO_GET_LINEINFO_UNWATCH_IOCTL, GPIO_V2_GET_LINEINFO_IOCTL,
    GPIO_V2_GET_LINEINFO_WATCH_IOCTL, GPIO_V2_GET_LINE_IOCTL,          GPIO_V2_LINE_SET_CONFIG_IOCTL,
    GPIO_V2_LINE_GET_VALUES_IOCTL,    GPIO_V2_LINE_SET_VALUES_IOCTL,   TCGETS,
};

// Namespaces and fork: a clone must make a thread, and no namespace.
constexpr uint64_t kCloneCheckedFlags = CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                        CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

std::atomic<uint64_t> g_denied{0};

// Async-signal-safe: no allocation, no locks, one write(2).
void append_number(char*& out, uint64_t n) {
  char digits[24];
  int len = 0;
  do digits[len++] = static_cast<char>('0' + n % 10);
  while ((n /= 10) != 0);
  while (len > 0) *out++ = digits[--len];
}

void append_text(char*& out, const char* text) {
  while (*text) *out++ = *text++;
}

void on_denied(int, siginfo_t* info, void* context) {
  int saved_errno = errno;
  auto* uc = static_cast<ucontext_t*>(context);
#if defined(__x86_64__)
  uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
  uc->uc_mcontext.regs[0] = static_cast<uint64_t>(-EPERM);
#elif defined(__arm__)
  uc->uc_mcontext.arm_r0 = static_cast<unsigned long>(-EPERM);
#endif
  uint64_t n = g_denied.fetch_add(1) + 1;
  // The first ten, then one in a thousand: a guest cannot flood the log.
  if (n <= 10 || n % 1000 == 0) {
    char line[256];
    char* out = line;
    append_text(out, "vgpio: warning: sandbox: denied system call ");
    append_number(out, static_cast<uint64_t>(info->si_syscall));
    append_text(out, " (`scmp_sys_resolver ");
    append_number(out, static_cast<uint64_t>(info->si_syscall));
    char thread[17] = {};
    prctl(PR_GET_NAME, thread);  // "vgpio vm1": the device's thread
    append_text(out, "` names it) in thread \"");
    append_text(out, thread);
    append_text(out, "\"");
    append_text(out, "; it failed with EPERM and vgpio serves on. ");
    append_number(out, n);
    append_text(out, " denied so far. If vgpio needed it, that is a bug: please report it (--no-sandbox to debug)\n");
    [[maybe_unused]] ssize_t w = write(STDERR_FILENO, line, static_cast<size_t>(out - line));
  }
  errno = saved_errno;
}

// Frees the libseccomp context on every path.
struct Filter {
  scmp_filter_ctx ctx;
  ~Filter() { seccomp_release(ctx); }
};

Result<void> checked(int rc, const char* what) {
  if (rc < 0) return Error::from_errno(-rc, strfmt("seccomp: %s", what));
  return ok();
}

}  // namespace

uint64_t denied_syscalls() { return g_denied.load(); }

Result<void> install_syscall_filter(SandboxState& state) {
#if defined(__x86_64__) || defined(__aarch64__) || defined(__arm__)
  const uint32_t default_action = SCMP_ACT_TRAP;
  struct sigaction sa {};
  sa.sa_sigaction = on_denied;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return Error::from_errno(errno, "sigaction(SIGSYS)");
#else
  // Elsewhere there is no register to set from the handler: EPERM directly, unlogged.
  const uint32_t default_action = SCMP_ACT_ERRNO(EPERM);
#endif
  Filter f{seccomp_init(default_action)};
  if (!f.ctx) return Error("seccomp: cannot make a filter");
  // Every thread at once; threads made later inherit the filter.
  TRY(checked(seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_TSYNC, 1), "thread sync"));
  for (int nr : kAllowed)
    if (nr >= 0) TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, nr, 0), "allow"));
  for (int family : {SCMP_SYS(socket), SCMP_SYS(socketpair)})
    TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, family, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0)), "socket"));
  for (unsigned long request : kIoctls)
    TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request & 0xffffffffu)),
                "ioctl"));
  TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, kCloneCheckedFlags, CLONE_THREAD)),
              "clone"));
  // clone3's flags sit in memory a filter cannot read: ENOSYS makes the C
  // library fall back to clone, checked above.
  TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3"));
  // Signals to this process only (raise, pthread_kill, abort): never to a
  // sibling instance, which may run as the same user. tkill names a thread
  // of any process, so it has no allowed form.
  const scmp_datum_t self = static_cast<scmp_datum_t>(getpid());
  for (int call : {SCMP_SYS(kill), SCMP_SYS(tgkill)})
    TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, call, 1, SCMP_A0(SCMP_CMP_EQ, self, 0)), "signals"));
  // Thread names only.
  for (scmp_datum_t option : {PR_SET_NAME, PR_GET_NAME})
    TRY(checked(seccomp_rule_add(f.ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, option, 0)), "prctl"));
  TRY(checked(seccomp_load(f.ctx), "load"));
  state.seccomp = "filter";
  return ok();
}

}  // namespace vgpio::service
