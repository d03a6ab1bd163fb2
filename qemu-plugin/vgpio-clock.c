/*
 * vgpio-clock: a QEMU TCG plugin that runs a guest in lockstep with vgpio,
 * so that a virtual HIL device's stimuli, and what the guest sees of them,
 * happen at exact guest times however loaded the host is.
 *
 *   qemu-system-... -icount shift=3,sleep=off \
 *     -plugin /usr/lib/vgpio/vgpio-clock.so,socket=/run/vgpio/dev0.sock.clock
 *
 * Guest time is QEMU's virtual clock under -icount (a function of the
 * instructions executed; with sleep=off an idle guest skips ahead to its next
 * timer). The plugin holds the guest, tells vgpio the time, and lets the guest
 * go on only once vgpio has answered and QEMU has taken every interrupt vgpio
 * raised. It holds:
 *   - when vgpio asked to be called (a stimulus is due, or a quantum has
 *     passed), exactly then;
 *   - whenever the guest goes idle (x86 hlt, Arm wfi): a guest that waits
 *     for vgpio's answer does so, and vgpio answers its queues only at holds,
 *     so every request is answered at the same guest time in every run.
 *
 * Why QEMU's internals and not only the plugin API (QEMU 10.0): the API's
 * time control (qemu_plugin_update_ns) sets the virtual clock only where the
 * accelerator has set_virtual_clock, which only qtest has; under TCG the call
 * changes nothing. The API has no way to read the virtual clock, nor to stop
 * the guest at a time. QEMU exports its timer functions to its own modules,
 * so the plugin takes them from there: a timer list of its own on the virtual
 * clock (icount stops the vCPU at its deadline, and an idle guest's skip ahead
 * stops there too), whose notifier does the hold. These are not a stable
 * interface: the plugin is built against the source of the QEMU it runs in,
 * from Debian's own source package (qemu-plugin/CMakeLists.txt).
 *
 * Protocol (a Unix stream socket, vgpio listening; little-endian):
 *   plugin -> vgpio  {u32 magic "vgck", u32 kind, u64 guest_ns}
 *                     kind 1: hello (guest_ns: now), kind 2: held at guest_ns
 *   vgpio -> plugin  {u32 magic, u32 flags, u64 until_ns} + SCM_RIGHTS fds
 *                     until_ns: the next hold (the guest runs until then);
 *                     fds: the call eventfds vgpio signalled while holding
 *                     (at most 4), which QEMU must read before the guest
 *                     runs on, so the interrupt comes at the held time.
 *
 * Copyright 2026 vgpio developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* The QEMU whose source the plugin was built from, as its --version says it:
 * "10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)" (qemu-plugin/CMakeLists.txt). */
#ifndef VGPIO_CLOCK_BUILT_FOR
#error "VGPIO_CLOCK_BUILT_FOR: the version of the QEMU source this is built from"
#endif

/* QAPI's answer to query-version (qapi/control.json), the one internal read
 * before the version is known to match: its shape has stayed the same from
 * QEMU 2.x to 10.x, as the QMP command it serves is a stable interface. */
typedef struct {
  int64_t major, minor, micro;
} VersionTriple;
typedef struct {
  VersionTriple *qemu;
  char *package; /* --with-pkgversion: Debian's is "Debian " and its version */
} VersionInfo;
extern VersionInfo *qmp_query_version(void **errp);
extern void qapi_free_VersionInfo(VersionInfo *info);

/* QEMU's own, exported to its modules (include/qemu/timer.h, main-loop.h). */
enum { kClockVirtual = 1, kScaleNs = 1 };
typedef struct QEMUTimerList QEMUTimerList;
typedef struct {
  QEMUTimerList *tl[4]; /* QEMU_CLOCK_MAX */
} QEMUTimerListGroup;
typedef void QEMUTimerCB(void *opaque);
typedef void QEMUTimerListNotifyCB(void *opaque, int type);
extern int64_t qemu_clock_get_ns(int type);
extern QEMUTimerList *timerlist_new(int type, QEMUTimerListNotifyCB *cb, void *opaque);
extern void timer_init_full(void *ts, QEMUTimerListGroup *group, int type, int scale, int attributes,
                            QEMUTimerCB *cb, void *opaque);
extern void timer_mod_ns(void *ts, int64_t expire_time);
extern void timer_del(void *ts);
extern bool qemu_in_vcpu_thread(void);
extern void qemu_notify_event(void);
extern bool bql_locked(void);
extern void bql_lock_impl(const char *file, int line);
extern void bql_unlock(void);
extern int use_icount; /* 1: -icount shift=N, 2: shift=auto */

enum { kMagic = 0x6b636776 /* "vgck" */, kHello = 1, kHeld = 2, kMaxCallFds = 4 };

struct ToVgpio {
  uint32_t magic, kind;
  uint64_t guest_ns;
};
struct FromVgpio {
  uint32_t magic, flags;
  uint64_t until_ns;
};

static int sock = -1;
static QEMUTimerListGroup group;
/* A QEMUTimer (48 bytes in QEMU 10.0), with room to spare. */
static uint64_t hold_timer[32];
static int64_t hold_at = -1; /* the next hold; -1: none, the guest runs free */
static int call_fds[kMaxCallFds];
static int call_fd_count;
static bool holding;   /* in the notifier: timer_mod_ns notifies again */
static bool answered;  /* vgpio has answered the hold at hold_at */
static int64_t next_hold;
static int64_t last_held; /* the time of the last hold */
static bool idle_hold;    /* the guest went idle: hold at once */

static void say(const char *what) {
  g_autofree char *line = g_strdup_printf("vgpio-clock: %s\n", what);
  qemu_plugin_outs(line);
}

static void let_go(const char *why) {
  say(why);
  if (sock >= 0) close(sock);
  sock = -1;
  hold_at = -1;
  timer_del(hold_timer);
}

static bool send_to_vgpio(uint32_t kind, int64_t now) {
  struct ToVgpio m = {kMagic, kind, (uint64_t)now};
  ssize_t n;
  do n = send(sock, &m, sizeof m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)sizeof m;
}

/* vgpio's answer, with the call eventfds it signalled. */
static bool receive_from_vgpio(int64_t *until) {
  struct FromVgpio m;
  char control[CMSG_SPACE(sizeof(int) * kMaxCallFds)];
  struct iovec iov = {&m, sizeof m};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *fds = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < count; i++) {
      if (call_fd_count < kMaxCallFds) call_fds[call_fd_count++] = fds[i];
      else close(fds[i]);
    }
  }
  if (n != (ssize_t)sizeof m || m.magic != kMagic) return false;
  *until = (int64_t)m.until_ns;
  return true;
}

/* True once QEMU has read every call eventfd vgpio signalled: QEMU's handler
 * reads one and raises the interrupt under the BQL, in one go. */
static bool interrupts_taken(void) {
  while (call_fd_count > 0) {
    struct pollfd p = {call_fds[call_fd_count - 1], POLLIN, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) return false;
    close(call_fds[--call_fd_count]);
  }
  return true;
}

/* The hold, when guest time has reached hold_at. Runs with the BQL held, in
 * the vCPU thread (its icount budget ran out at the deadline) or in the main
 * loop (an idle guest's skip ahead stopped at it). While the timer is due the
 * vCPU cannot run on: its budget to the deadline is 0. */
static void on_clock_notify(void *opaque, int type) {
  (void)opaque, (void)type;
  if (holding || hold_at < 0 || !bql_locked()) return;
  int64_t now = qemu_clock_get_ns(kClockVirtual);
  if (now < hold_at) return;
  holding = true;
  if (!answered) {
    if (now > hold_at && !idle_hold) {
      g_autofree char *late = g_strdup_printf("guest time passed a hold by %" PRId64 " ns: run QEMU with "
                                              "-icount shift=N,sleep=off", now - hold_at);
      say(late);
    }
    if (!send_to_vgpio(kHeld, now) || !receive_from_vgpio(&next_hold)) {
      let_go("vgpio has gone; the guest runs on the host's time from here");
      holding = false;
      return;
    }
    answered = true;
    last_held = now;
  }
  if (!interrupts_taken()) {
    if (!qemu_in_vcpu_thread()) {
      /* The main loop reads them when this returns; the vCPU, still held by
       * the due timer, comes back here and finds them taken. */
      holding = false;
      return;
    }
    bql_unlock();
    while (!interrupts_taken()) {
      struct timespec brief = {0, 10000}; /* the main loop is a few microseconds away */
      nanosleep(&brief, NULL);
    }
    bql_lock_impl(__FILE__, __LINE__);
  }
  answered = false;
  idle_hold = false;
  hold_at = next_hold > last_held ? next_hold : last_held + 1;
  timer_mod_ns(hold_timer, hold_at);
  holding = false;
  /* The main loop sleeps for as long as its own timers let it, in host time:
   * an idle guest would wait that long for its next skip ahead. */
  if (!qemu_in_vcpu_thread()) qemu_notify_event();
}

static void on_hold_timer(void *opaque) { (void)opaque; /* never run: the notifier does the work */ }

/* The guest is about to idle. Mid-instruction the clock cannot be read under
 * icount (QEMU stops on a "Bad icount read"), so the hold is made due at the
 * last held time, which has passed: it happens as soon as this instruction
 * ends, at the guest time it ends at. */
static void on_idle_instruction(unsigned int cpu, void *udata) {
  (void)cpu, (void)udata;
  if (sock < 0 || idle_hold || holding) return;
  idle_hold = true;
  hold_at = last_held;
  timer_mod_ns(hold_timer, hold_at);
}

static bool is_idle_instruction(const struct qemu_plugin_insn *insn, bool arm) {
  uint8_t code[4];
  size_t n = qemu_plugin_insn_data(insn, code, sizeof code);
  if (arm) return n == 4 && code[0] == 0x7f && code[1] == 0x20 && code[2] == 0x03 && code[3] == 0xd5; /* wfi */
  return n == 1 && code[0] == 0xf4; /* hlt */
}

static bool arm_guest;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (is_idle_instruction(insn, arm_guest))
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_idle_instruction, QEMU_PLUGIN_CB_NO_REGS, NULL);
  }
}

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int cpu) {
  (void)id;
  if (cpu != 0 || sock < 0) return;
  int64_t now = qemu_clock_get_ns(kClockVirtual);
  last_held = now;
  if (!send_to_vgpio(kHello, now) || !receive_from_vgpio(&hold_at)) {
    let_go("vgpio did not answer the hello; the guest runs on the host's time");
    return;
  }
  group.tl[kClockVirtual] = timerlist_new(kClockVirtual, on_clock_notify, NULL);
  timer_init_full(hold_timer, &group, kClockVirtual, kScaleNs, 0, on_hold_timer, NULL);
  timer_mod_ns(hold_timer, hold_at);
}

/* The plugin calls QEMU's internal functions and lays out its QEMUTimer by
 * the source it was built from; in another QEMU their shape may differ, and
 * a call would corrupt the guest or QEMU. So only the same QEMU will do. */
static bool check_qemu_version(void) {
  VersionInfo *info = qmp_query_version(NULL);
  g_autofree char *running =
      info->package && info->package[0]
          ? g_strdup_printf("%" PRId64 ".%" PRId64 ".%" PRId64 " (%s)", info->qemu->major, info->qemu->minor,
                            info->qemu->micro, info->package)
          : g_strdup_printf("%" PRId64 ".%" PRId64 ".%" PRId64, info->qemu->major, info->qemu->minor,
                            info->qemu->micro);
  qapi_free_VersionInfo(info);
  if (strcmp(running, VGPIO_CLOCK_BUILT_FOR) == 0) return true;
  fprintf(stderr, "vgpio-clock: built for QEMU " VGPIO_CLOCK_BUILT_FOR ", not for this QEMU %s: it uses "
                  "QEMU's internals, which differ between versions; use the vgpio-qemu-clock package built for "
                  "this QEMU, or build the plugin against its source (scripts/qemu-plugin-api.sh)\n", running);
  return false;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  if (!check_qemu_version()) return -1;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (g_str_has_prefix(argv[i], "socket=")) path = argv[i] + strlen("socket=");
    else {
      fprintf(stderr, "vgpio-clock: unknown option \"%s\" (it takes socket=PATH)\n", argv[i]);
      return -1;
    }
  }
  if (!path) {
    fprintf(stderr, "vgpio-clock: give vgpio's clock socket: -plugin ...,socket=PATH\n");
    return -1;
  }
  if (info->system_emulation == false || use_icount != 1) {
    fprintf(stderr, "vgpio-clock: needs system emulation with -icount shift=N,sleep=off (a fixed shift): "
                    "guest time must follow the instructions executed\n");
    return -1;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "vgpio-clock: socket path too long: %s\n", path);
    return -1;
  }
  strcpy(addr.sun_path, path);
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
    fprintf(stderr, "vgpio-clock: cannot connect to %s: %s (is vgpio serving a device with clock = \"guest\"?)\n",
            path, strerror(errno));
    return -1;
  }
  arm_guest = strcmp(info->target_name, "aarch64") == 0;
  if (!arm_guest && strcmp(info->target_name, "x86_64") != 0 && strcmp(info->target_name, "i386") != 0) {
    fprintf(stderr, "vgpio-clock: a %s guest's idle instruction is not known (x86 and aarch64 are)\n",
            info->target_name);
    return -1;
  }
  qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  return 0;
}
