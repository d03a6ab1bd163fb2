// vgpio-sampler: reads line levels (gpio-sim's sysfs `value` files) at a fixed
// rate until SIGTERM, and says every change it saw and how long it once went
// without a sample: a test that finds no change knows the shortest glitch it
// could have missed. It asks for SCHED_FIFO so that, in a one-vCPU guest, the
// daemon's restarts and dpkg do not push its samples back.
//
//   vgpio-sampler PERIOD_US VALUE_FILE...
// prints "change MS LEVELS" for each change (and the first levels), then at the end
//   "samples N seconds S rate HZ max_gap_us G gaps_over_1ms K blind_ms B changes C levels L"
// where B is the time in which a 1 ms pulse could have come and gone between
// two samples: the sum of every gap's excess over 1 ms.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {
volatile sig_atomic_t stop = 0;

int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: vgpio-sampler PERIOD_US VALUE_FILE...\n");
    return 2;
  }
  const int64_t period = std::stoll(argv[1]) * 1000;
  std::vector<int> fds;
  for (int i = 2; i < argc; ++i) {
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::perror(argv[i]);
      return 1;
    }
    fds.push_back(fd);
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sched_param fifo{};
  fifo.sched_priority = 50;
  bool realtime = sched_setscheduler(0, SCHED_FIFO, &fifo) == 0;
  std::printf("sampling %zu files every %lld us%s\n", fds.size(), static_cast<long long>(period / 1000),
              realtime ? " (SCHED_FIFO)" : "");
  std::fflush(stdout);

  std::string levels, last;
  uint64_t samples = 0, changes = 0, over_1ms = 0;
  int64_t blind = 0;
  const int64_t start = now_ns();
  int64_t previous = 0, max_gap = 0, next = start;
  while (!stop) {
    int64_t t = now_ns();
    levels.clear();
    for (int fd : fds) {
      char c = '?';
      levels += pread(fd, &c, 1, 0) == 1 ? c : '?';
    }
    if (samples > 0) {
      max_gap = std::max(max_gap, t - previous);
      if (t - previous > 1000000) ++over_1ms, blind += t - previous - 1000000;
    }
    previous = t;
    ++samples;
    if (levels != last) {
      if (samples > 1) ++changes;
      std::printf("change %.3f %s\n", double(t - start) / 1e6, levels.c_str());
      std::fflush(stdout);
      last = levels;
    }
    next += period;
    if (next < t) next = t + period;  // late: the gap says by how much
    timespec until{time_t(next / 1000000000), long(next % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
  }
  double seconds = double(now_ns() - start) / 1e9;
  std::printf(
      "samples %llu seconds %.3f rate %.0f max_gap_us %lld gaps_over_1ms %llu blind_ms %.1f changes %llu "
      "levels %s\n",
      static_cast<unsigned long long>(samples), seconds, double(samples) / seconds,
      static_cast<long long>(max_gap / 1000), static_cast<unsigned long long>(over_1ms), double(blind) / 1e6,
      static_cast<unsigned long long>(changes), last.c_str());
  return 0;
}
