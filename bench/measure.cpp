#include "measure.h"

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace vgpio::bench {

Percentiles percentiles(std::vector<double>& s) {
  if (s.empty()) return {0, 0, 0};
  std::sort(s.begin(), s.end());
  auto at = [&](double q) { return s[std::min(s.size() - 1, static_cast<size_t>(q * s.size()))] / 1000.0; };
  return {at(0.50), at(0.99), at(0.999)};
}

nlohmann::json percentiles_json(Percentiles p, double floor_p50_us) {
  nlohmann::json j = {{"p50_us", p.p50_us}, {"p99_us", p.p99_us}, {"p999_us", p.p999_us}};
  if (floor_p50_us > 0) j["p50_x_floor"] = p.p50_us / floor_p50_us, j["p99_x_floor"] = p.p99_us / floor_p50_us;
  return j;
}

Result<void> pin_self(int cpu) {
  if (cpu < 0) return ok();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return Error::from_errno(errno, "sched_setaffinity");
  return ok();
}

std::vector<double> eventfd_ping_pong(int rounds, int self_cpu, int child_cpu) {
  int ping = eventfd(0, EFD_CLOEXEC), pong = eventfd(0, EFD_CLOEXEC);
  pid_t child = fork();
  if (child == 0) {
    (void)pin_self(child_cpu);
    uint64_t v;
    for (int i = 0; i < rounds; ++i) {
      if (read(ping, &v, 8) != 8) _exit(1);
      if (write(pong, &v, 8) != 8) _exit(1);
    }
    _exit(0);
  }
  (void)pin_self(self_cpu);
  std::vector<double> samples;
  samples.reserve(rounds);
  uint64_t one = 1, v;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    if (write(ping, &one, 8) != 8 || read(pong, &v, 8) != 8) break;
    samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  waitpid(child, nullptr, 0);
  close(ping);
  close(pong);
  (void)pin_self(-1);
  return samples;
}

Result<DaemonProcess> DaemonProcess::start(const std::string& vgpio, const std::vector<std::string>& args, int cpu,
                                           const std::string& wait_for_socket) {
  pid_t pid = fork();
  if (pid < 0) return Error::from_errno(errno, "fork");
  if (pid == 0) {
    (void)pin_self(cpu);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(vgpio.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(vgpio.c_str(), argv.data());
    _exit(127);
  }
  DaemonProcess d(pid);
  for (int i = 0; i < 3000; ++i) {  // waiting, not judging: up to 60 s
    struct stat st {};
    if (stat(wait_for_socket.c_str(), &st) == 0) return d;
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      d.pid_ = -1;
      return Error("the daemon exited at start: " + vgpio);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error("the daemon did not create " + wait_for_socket);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

}  // namespace vgpio::bench
