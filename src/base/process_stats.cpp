#include "base/process_stats.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vgpio {
namespace {
long field_kib(const std::string& path, const std::string& field) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}
}  // namespace

long rss_kib(pid_t pid) { return field_kib("/proc/" + std::to_string(pid) + "/status", "VmRSS"); }

long smaps_kib(pid_t pid, const std::string& field) {
  return field_kib("/proc/" + std::to_string(pid) + "/smaps_rollup", field);
}

namespace {
double cpu_seconds_of(const std::string& stat_path) {
  std::ifstream stat(stat_path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // After the command name (which may hold spaces): utime is field 14, stime 15.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return double(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}
}  // namespace

double cpu_seconds(pid_t pid) { return cpu_seconds_of("/proc/" + std::to_string(pid) + "/stat"); }

double cpu_seconds(pid_t pid, pid_t tid) {
  return cpu_seconds_of("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
}

std::vector<pid_t> threads(pid_t pid) {
  std::vector<pid_t> out{pid};
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    if (pid_t tid = std::stoi(task.path().filename().string()); tid != pid) out.push_back(tid);
  return out;
}

long voluntary_switches(pid_t pid) {
  long total = 0;
  for (pid_t tid : threads(pid))
    total += std::max(0L, field_kib("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status",
                                    "voluntary_ctxt_switches"));
  return total;
}

}  // namespace vgpio
