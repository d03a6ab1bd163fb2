// libFuzzer: the vhost-user message stream into a Backend, with fds. Input is
// a list of records:
//   u8 fds     (bits 0-1: how many fds, 0..3; bit 2: memfds instead of eventfds)
//   u16 length, then `length` bytes sent as they are (header and payload)
// Memfds are 64 KiB, filled with what follows the message in the record (the
// message is the header and the payload its size names), so ring addresses
// can point at fuzzer-made rings. After each record every eventfd is kicked.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "gpio/gpio_device.h"
#include "lines/sim_line.h"
#include "vhost_user/backend.h"

using namespace vgpio;

namespace {
constexpr size_t kMemSize = 64 * 1024;

gpio::GpioDevice& device() {
  static std::unique_ptr<gpio::GpioDevice> d = [] {
    set_log_level(LogLevel::Off);
    std::vector<std::unique_ptr<lines::Line>> lines;
    for (int i = 0; i < 4; ++i) lines.push_back(std::make_unique<lines::SimLine>("l" + std::to_string(i)));
    return gpio::GpioDevice::create("fuzz", std::move(lines)).release_value();
  }();
  return *d;
}

int make_fd(bool memfd, const uint8_t* fill, size_t fill_len) {
  if (!memfd) return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (ftruncate(fd, kMemSize) != 0) return fd;
  for (size_t off = 0; fill_len > 0 && off < kMemSize; off += fill_len)
    if (pwrite(fd, fill, std::min(fill_len, kMemSize - off), static_cast<off_t>(off)) < 0) break;
  return fd;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<EventLoop> loop = EventLoop::create().release_value();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  fcntl(sv[1], F_SETFL, O_NONBLOCK);  // a message cut short must fail, not wait
  {
    vhost::Backend backend(device(), *loop, "fuzz", nullptr);
    vhost::Outbox outbox;
    std::vector<int> eventfds;
    bool open = true;
    size_t pos = 0;
    while (open && pos + 3 <= size) {
      uint8_t flags = data[pos];
      uint16_t len;
      std::memcpy(&len, data + pos + 1, 2);
      pos += 3;
      len = static_cast<uint16_t>(std::min<size_t>(len, size - pos));
      const uint8_t* bytes = data + pos;
      pos += len;
      size_t msg_len = len;
      if ((flags & 4) && len >= sizeof(vhost::Header)) {
        vhost::Header h;
        std::memcpy(&h, bytes, sizeof h);
        msg_len = std::min<size_t>(len, sizeof h + std::min<uint32_t>(h.size, len));
      }
      int fds[3];
      int nfds = flags & 3;
      for (int i = 0; i < nfds; ++i) fds[i] = make_fd(flags & 4, bytes + msg_len, len - msg_len);
      iovec iov{const_cast<uint8_t*>(bytes), msg_len};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      if (nfds > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
      }
      if (msg_len > 0) sendmsg(sv[0], &msg, MSG_NOSIGNAL);
      for (int i = 0; i < nfds; ++i) {
        if (flags & 4) close(fds[i]);
        else eventfds.push_back(fds[i]);  // kept to kick with
      }
      // Serve every whole message that arrived, as the server does.
      pollfd p{sv[1], POLLIN, 0};
      while (open && poll(&p, 1, 0) == 1) {
        auto m = vhost::read_message(sv[1]);
        if (!m || !m.value()) open = false;
        else if (backend.handle(*m.value(), outbox) == vhost::Backend::Outcome::Close) open = false;
        if (open && !outbox.flush(sv[1])) open = false;
      }
      char sink[4096];  // replies: read and drop
      while (recv(sv[0], sink, sizeof sink, MSG_DONTWAIT) > 0) {}
      uint64_t one = 1;
      for (int fd : eventfds) [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);
      loop->run_once(0);
    }
    for (int fd : eventfds) close(fd);
  }  // the session ends: device reset
  close(sv[0]);
  close(sv[1]);
  // Kick watchers of this session are gone; clear what the loop still holds.
  loop->run_once(0);
  return 0;
}
