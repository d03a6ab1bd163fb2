// vgpio-fdstore: a stand-in for systemd's service manager where there is none
// (the test guest), speaking the same protocol to the service it runs: a
// Type=notify service with FileDescriptorStoreMax=N and Restart=on-failure,
// whose ExecStop sends SIGUSR2 on a restart (debian/vgpio.service).
// - $NOTIFY_SOCKET takes READY=1, FDSTORE=1 with FDNAME= (and the fd), and
//   FDSTOREREMOVE=1 with FDNAME=; other keys are ignored.
// - Each start gets the stored fds in $LISTEN_FDS / $LISTEN_FDNAMES from fd 3,
//   with $LISTEN_PID, as systemd passes its fd store.
// - A service that fails (an exit status other than 0, or a signal) is started
//   again at once, the store kept (an automatic restart).
// - SIGUSR1: a restart (`systemctl restart`): SIGUSR2 to the service, wait,
//   start again with the store.
// - SIGHUP: the same, after the command's program file was replaced (a package
//   upgrade: the new file is what the next start runs).
// - SIGTERM: a stop: SIGTERM to the service, wait, close the store, exit.
// Each event is one line on stdout ("ready PID", "stored NAME", ...), for the
// tests to wait on.
// usage: vgpio-fdstore [--max N] COMMAND [ARG...]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Stored {
  std::string name;
  int fd;
};
std::vector<Stored> store;
size_t store_max = 4096;
pid_t service = -1;
std::vector<char*> command;

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string value_of(const std::string& message, const std::string& key) {
  size_t at = 0;
  while (at < message.size()) {
    size_t end = message.find('\n', at);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(at, end - at);
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    at = end + 1;
  }
  return "";
}

void on_message(int sock) {
  char buf[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 16)];
  iovec iov{buf, sizeof buf - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) return;
  std::string text(buf, static_cast<size_t>(n));
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.push_back(fd);
      }
  std::string name = value_of(text, "FDNAME");
  if (value_of(text, "READY") == "1") say("ready " + std::to_string(service));
  if (value_of(text, "FDSTOREREMOVE") == "1") {
    for (size_t i = 0; i < store.size();)
      if (store[i].name == name) close(store[i].fd), store.erase(store.begin() + i), say("removed " + name);
      else ++i;
  }
  if (value_of(text, "FDSTORE") == "1") {
    for (int fd : fds) {
      if (store.size() >= store_max) {
        close(fd);
        say("refused " + name + " (store full)");
      } else {
        store.push_back({name, fd});
        say("stored " + name);
      }
    }
    fds.clear();
  }
  for (int fd : fds) close(fd);
}

void start(const std::string& notify_path) {
  std::string names;
  for (const auto& s : store) names += (names.empty() ? "" : ":") + s.name;
  service = fork();
  if (service == 0) {
    // Each stored fd to 3, 4, ...: first out of the way, then into place.
    std::vector<int> moved;
    for (const auto& s : store) moved.push_back(fcntl(s.fd, F_DUPFD, 1000));
    for (size_t i = 0; i < moved.size(); ++i) dup2(moved[i], 3 + static_cast<int>(i));
    for (int fd : moved) close(fd);
    setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    setenv("LISTEN_FDS", std::to_string(store.size()).c_str(), 1);
    setenv("LISTEN_FDNAMES", names.c_str(), 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvp(command[0], command.data());
    _exit(127);
  }
  say("started " + std::to_string(service) + " with " + std::to_string(store.size()) + " fds");
}

// Waits for the service to end; returns its wait status.
int wait_service() {
  int status = 0;
  while (waitpid(service, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--max") == 0) store_max = std::strtoul(argv[2], nullptr, 10), first = 3;
  if (first >= argc) {
    std::fprintf(stderr, "usage: vgpio-fdstore [--max N] COMMAND [ARG...]\n");
    return 2;
  }
  command.assign(argv + first, argv + argc);
  command.push_back(nullptr);

  std::string notify_path = "/tmp/vgpio-fdstore-" + std::to_string(getpid()) + ".sock";
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_path.c_str());
  unlink(notify_path.c_str());
  if (bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGUSR1, SIGHUP, SIGTERM, SIGINT}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC);

  start(notify_path);
  for (;;) {
    pollfd fds[2] = {{sock, POLLIN, 0}, {sigfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents & POLLIN) on_message(sock);
    if (!(fds[1].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (read(sigfd, &info, sizeof info) != sizeof info) continue;
    // What the service said before it went is read before it is restarted.
    while (poll(fds, 1, 0) > 0 && (fds[0].revents & POLLIN)) on_message(sock);
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD) {
      int status = 0;
      if (waitpid(service, &status, WNOHANG) != service) continue;
      while (poll(fds, 1, 0) > 0 && (fds[0].revents & POLLIN)) on_message(sock);
      bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
      say("exited " + std::to_string(service) + (failed ? " failed" : " ok"));
      if (!failed) break;
      start(notify_path);  // Restart=on-failure: the store is kept
    } else if (sig == SIGUSR1 || sig == SIGHUP) {
      kill(service, SIGUSR2);
      wait_service();
      while (poll(fds, 1, 0) > 0 && (fds[0].revents & POLLIN)) on_message(sock);
      say("exited " + std::to_string(service) + " for a restart");
      start(notify_path);
    } else {
      kill(service, SIGTERM);
      wait_service();
      while (poll(fds, 1, 0) > 0 && (fds[0].revents & POLLIN)) on_message(sock);
      say("exited " + std::to_string(service) + " stopped");
      break;
    }
  }
  for (const auto& s : store) close(s.fd);  // an explicit stop flushes the store (systemd 252)
  unlink(notify_path.c_str());
  return 0;
}
