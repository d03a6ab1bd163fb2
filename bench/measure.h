// Small measuring tools for the benchmarks: percentiles, CPU pinning, a
// daemon process under a chosen placement, /proc readings, and the floor (an
// eventfd ping-pong between two processes).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/process_stats.h"
#include "base/result.h"

namespace vgpio::bench {

using Clock = std::chrono::steady_clock;

// Nanoseconds from `t0` to now.
inline double since_ns(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

struct Percentiles {
  double p50_us, p99_us, p999_us;
};
// Sorts `samples_ns` and reads the percentiles off it.
Percentiles percentiles(std::vector<double>& samples_ns);
// {"p50_us", "p99_us", "p999_us"}, and their ratios to the floor's p50 when
// it is given (> 0).
nlohmann::json percentiles_json(Percentiles p, double floor_p50_us = 0);

// Quantiles of sorted samples (ns) in µs, {"quantile": [...], "us": [...]}:
// enough points to draw a CDF on a log axis.
nlohmann::json cdf_json(const std::vector<double>& sorted_ns);

// Pins the calling process (all its threads) to `cpu`; -1 leaves it free.
Result<void> pin_self(int cpu);

// An eventfd round trip between this process and a child: the least a kick
// and a call can cost. `child_cpu`/`self_cpu` choose the placement.
std::vector<double> eventfd_ping_pong(int rounds, int self_cpu, int child_cpu);

// Where and how a backend runs: pinned to `cpu` (-1: free), and under
// SCHED_BATCH when `batch` (what systemd's CPUSchedulingPolicy=batch does).
struct Launch {
  Launch(int cpu = -1, bool batch = false) : cpu(cpu), batch(batch) {}
  int cpu;
  bool batch;
};

// A backend daemon as a child process, stopped with SIGTERM when this goes.
// Its output goes to /dev/null.
class DaemonProcess {
 public:
  // `vgpio args...`, ready once `wait_for_socket` exists.
  static Result<DaemonProcess> start(const std::string& vgpio, const std::vector<std::string>& args, Launch launch,
                                     const std::string& wait_for_socket);
  // Any backend, as a shell command line (run with exec, so the pid is the
  // backend's own), ready once one of `sockets` exists; socket() says which.
  static Result<DaemonProcess> start_command(const std::string& command, Launch launch,
                                             const std::vector<std::string>& sockets);
  DaemonProcess(DaemonProcess&& other) noexcept : pid_(other.pid_), socket_(std::move(other.socket_)) {
    other.pid_ = -1;
  }
  DaemonProcess(const DaemonProcess&) = delete;
  ~DaemonProcess();
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }

 private:
  explicit DaemonProcess(pid_t pid) : pid_(pid) {}
  static Result<DaemonProcess> spawn(const std::vector<std::string>& argv, Launch launch,
                                     const std::vector<std::string>& sockets);
  pid_t pid_;
  std::string socket_;
};

}  // namespace vgpio::bench
