#include "measure.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

nlohmann::json cdf_json(const std::vector<double>& sorted_ns) {
  nlohmann::json q = nlohmann::json::array(), us = nlohmann::json::array();
  if (sorted_ns.empty()) return {{"quantile", q}, {"us", us}};
  auto add = [&](double quantile) {
    q.push_back(quantile);
    us.push_back(sorted_ns[std::min(sorted_ns.size() - 1, static_cast<size_t>(quantile * sorted_ns.size()))] / 1000);
  };
  for (int i = 0; i < 100; ++i) add(i / 100.0);
  for (double tail : {0.995, 0.999, 0.9999}) add(tail);
  return {{"quantile", q}, {"us", us}};
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
    samples.push_back(since_ns(t0));
  }
  waitpid(child, nullptr, 0);
  close(ping);
  close(pong);
  (void)pin_self(-1);
  return samples;
}

Result<DaemonProcess> DaemonProcess::start(const std::string& vgpio, const std::vector<std::string>& args,
                                           Launch launch, const std::string& wait_for_socket) {
  std::vector<std::string> argv{vgpio};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, launch, {wait_for_socket});
}

Result<DaemonProcess> DaemonProcess::start_command(const std::string& command, Launch launch,
                                                   const std::vector<std::string>& sockets) {
  return spawn({"/bin/sh", "-c", "exec " + command}, launch, sockets);
}

Result<DaemonProcess> DaemonProcess::spawn(const std::vector<std::string>& args, Launch launch,
                                           const std::vector<std::string>& sockets) {
  for (const auto& s : sockets) ::unlink(s.c_str());  // one a killed backend left would look ready
  pid_t pid = fork();
  if (pid < 0) return Error::from_errno(errno, "fork");
  if (pid == 0) {
    (void)pin_self(launch.cpu);
    sched_param none{};
    if (launch.batch) sched_setscheduler(0, SCHED_BATCH, &none);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  DaemonProcess d(pid);
  for (int i = 0; i < 3000; ++i) {  // waiting, not judging: up to 60 s
    for (const auto& s : sockets) {
      struct stat st {};
      if (stat(s.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        d.socket_ = s;
        return d;
      }
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      d.pid_ = -1;
      return Error("the backend exited at start: " + args.back());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error("the backend did not create " + sockets.front() + " (" + args.back() + ")");
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

}  // namespace vgpio::bench
