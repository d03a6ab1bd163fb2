#include "base/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
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
}  // namespace

void set_log_level(LogLevel level) { g_level.store(level); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

bool parse_log_level(const std::string& text, LogLevel* out) {
  static const std::pair<const char*, LogLevel> kNames[] = {
      {"debug", LogLevel::Debug}, {"info", LogLevel::Info}, {"warn", LogLevel::Warn},
      {"warning", LogLevel::Warn}, {"error", LogLevel::Error}, {"off", LogLevel::Off}};
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
  std::fprintf(stderr, "vgpio: %s: %s\n", level_name(level), body);
}

bool RateLimiter::admit(uint64_t* dropped_before) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
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
