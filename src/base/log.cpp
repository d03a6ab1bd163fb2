#include "base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vgpio {
namespace {
std::atomic<LogLevel> g_level{LogLevel::Info};

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warning";
    case LogLevel::Error: return "error";
    case LogLevel::Off: break;
  }
  return "?";
}

// systemd.exec(5), $JOURNAL_STREAM: "DEVICE:INODE" of the stream a service's
// stderr is connected to, when that is the journal. There a line may start
// with its syslog priority (sd-daemon(3): "<3>" an error, "<4>" a warning,
// "<6>" info, "<7>" debug), and journalctl shows each line at its level.
bool stderr_is_journal() {
  static const bool journal = [] {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat st {};
    return stream && std::sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
           st.st_dev == dev && st.st_ino == ino;
  }();
  return journal;
}

const char* syslog_prefix(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "<7>";
    case LogLevel::Info: return "<6>";
    case LogLevel::Warn: return "<4>";
    case LogLevel::Error: return "<3>";
    case LogLevel::Off: break;
  }
  return "";
}
}  // namespace

void set_log_level(LogLevel level) { g_level.store(level); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

bool parse_log_level(const std::string& text, LogLevel* out) {
  static const std::pair<const char*, LogLevel> kNames[] = {{"debug", LogLevel::Debug}, {"info", LogLevel::Info},
                                                            {"warn", LogLevel::Warn},   {"warning", LogLevel::Warn},
                                                            {"error", LogLevel::Error}, {"off", LogLevel::Off}};
  for (const auto& [name, level] : kNames) {
    if (text == name) {
      *out = level;
      return true;
    }
  }
  return false;
}

void log_message(LogLevel level, const char* fmt, ...) {
  char body[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(body, sizeof body, fmt, args);
  va_end(args);
  // One fprintf per line so lines from device threads do not interleave.
  std::fprintf(stderr, "%svgpio: %s: %s\n", stderr_is_journal() ? syslog_prefix(level) : "", level_name(level), body);
}

bool RateLimiter::admit(uint64_t* dropped_before, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (now - window_start_ >= window_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= burst_) {
    ++dropped_;
    ++total_dropped_;
    return false;
  }
  ++in_window_;
  *dropped_before = dropped_;
  dropped_ = 0;
  return true;
}

uint64_t RateLimiter::total_dropped() const {
  std::lock_guard lock(mu_);
  return total_dropped_;
}

}  // namespace vgpio
