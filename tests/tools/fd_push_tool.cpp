// vgpio-fdpush: does to a service's fd store what a broken or hostile process
// inside the service could (systemd takes FDSTORE= from any process of the
// unit when NotifyAccess=all): hands it an fd under a name vgpio uses, or
// takes a name's fds out. The systemd guest's tests use it to give the next
// vgpio an fd that is not what its name says.
//
//   vgpio-fdpush NAME memfd               an empty memfd (a pipe would not stay: systemd
//                                         drops a stored fd that hangs up, as a pipe
//                                         whose writer is gone does)
//   vgpio-fdpush NAME line CHIP OFFSET    a request (an input) for CHIP's line OFFSET, made here
//   vgpio-fdpush NAME remove              FDSTOREREMOVE=1: the store closes NAME's fds
// ($NOTIFY_SOCKET names the service manager's socket.)
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "base/unique_fd.h"
#include "service/notify.h"

using namespace vgpio;

namespace {
// sd_notify_barrier(3): systemd tells a message's sender by its pid, and a
// sender that is gone before systemd reads the message is not of the unit.
// BARRIER=1 with a pipe's write end: systemd closes it once it has read
// everything sent before.
bool barrier(const service::Notifier& notifier) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(ends[0]);
  {
    UniqueFd write_end(ends[1]);
    if (!notifier.send("BARRIER=1", write_end.get())) return false;
  }
  pollfd p{read_end.get(), POLLIN, 0};
  return poll(&p, 1, 10000) == 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: vgpio-fdpush NAME memfd | NAME line CHIP OFFSET | NAME remove\n");
    return 2;
  }
  std::string name = argv[1], kind = argv[2];
  auto notifier = service::Notifier::from_environment();
  if (!notifier.enabled()) {
    std::fprintf(stderr, "vgpio-fdpush: no NOTIFY_SOCKET\n");
    return 2;
  }
  if (kind == "remove") {
    auto r = notifier.send("FDSTOREREMOVE=1\nFDNAME=" + name);
    if (!r) std::fprintf(stderr, "vgpio-fdpush: %s\n", r.error().message().c_str());
    return r && barrier(notifier) ? 0 : 1;
  }
  UniqueFd fd;
  if (kind == "memfd") {
    fd = UniqueFd(memfd_create("vgpio-fdpush", MFD_CLOEXEC));
    if (!fd) return std::perror("memfd_create"), 1;
  } else if (kind == "line" && argc == 5) {
    UniqueFd chip(open(argv[3], O_RDWR | O_CLOEXEC));
    if (!chip) return std::perror(argv[3]), 1;
    gpio_v2_line_request req{};
    req.offsets[0] = static_cast<unsigned>(std::stoul(argv[4]));
    req.num_lines = 1;
    req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
    std::strncpy(req.consumer, "vgpio-fdpush", sizeof req.consumer - 1);
    if (ioctl(chip.get(), GPIO_V2_GET_LINE_IOCTL, &req) != 0) return std::perror("GPIO_V2_GET_LINE_IOCTL"), 1;
    fd = UniqueFd(req.fd);
  } else {
    std::fprintf(stderr, "vgpio-fdpush: unknown kind \"%s\"\n", kind.c_str());
    return 2;
  }
  auto r = notifier.send("FDSTORE=1\nFDNAME=" + name, fd.get());
  if (!r) {
    std::fprintf(stderr, "vgpio-fdpush: %s\n", r.error().message().c_str());
    return 1;
  }
  if (!barrier(notifier)) {
    std::fprintf(stderr, "vgpio-fdpush: the service manager did not answer BARRIER=1\n");
    return 1;
  }
  return 0;
}
