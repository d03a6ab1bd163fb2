// What /proc says about a process: memory and CPU time. For the fault tests
// and the benchmarks.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vgpio {

// VmRSS in KiB, or -1.
long rss_kib(pid_t pid = getpid());
// A field of /proc/PID/smaps_rollup ("Pss", "Private_Dirty", ...) in KiB, or -1.
long smaps_kib(pid_t pid, const std::string& field);
// User + system CPU time in seconds, of the whole process or of its thread `tid`.
double cpu_seconds(pid_t pid);
double cpu_seconds(pid_t pid, pid_t tid);
// The process's threads, the main thread first.
std::vector<pid_t> threads(pid_t pid);
// How many times the process's threads went to sleep (voluntary context
// switches, summed over /proc/PID/task/*/status): its wake-ups.
long voluntary_switches(pid_t pid);

}  // namespace vgpio
