// What /proc says about a process: memory and CPU time. For the fault tests
// and the benchmarks.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>

namespace vgpio {

// VmRSS in KiB, or -1.
long rss_kib(pid_t pid = getpid());
// A field of /proc/PID/smaps_rollup ("Pss", "Private_Dirty", ...) in KiB, or -1.
long smaps_kib(pid_t pid, const std::string& field);
// User + system CPU time in seconds.
double cpu_seconds(pid_t pid);

}  // namespace vgpio
