// Leveled logging to stderr. Every line should say which device and line it is
// about and what to do. Messages a guest can trigger repeatedly go through
// VGPIO_LOG_LIMITED, which lets a burst through and then counts what it drops.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace vgpio {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(const std::string& text, LogLevel* out);

void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Admits up to `burst` messages per `window`; reports how many it dropped
// when the next message is admitted.
class RateLimiter {
 public:
  explicit RateLimiter(uint32_t burst = 10, std::chrono::milliseconds window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // Returns true when the message may be logged; *dropped_before is the number
  // suppressed since the last admitted message. `now` is for tests, which
  // step time themselves.
  bool admit(uint64_t* dropped_before, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  uint64_t total_dropped() const;

 private:
  const uint32_t burst_;
  const std::chrono::milliseconds window_;
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t in_window_ = 0;
  uint64_t dropped_ = 0;
  uint64_t total_dropped_ = 0;
};

}  // namespace vgpio

#define VGPIO_LOG(level, ...)                                                                                        \
  do {                                                                                                               \
    if (static_cast<int>(level) >= static_cast<int>(::vgpio::log_level())) ::vgpio::log_message(level, __VA_ARGS__); \
  } while (0)

#define LOG_DEBUG(...) VGPIO_LOG(::vgpio::LogLevel::Debug, __VA_ARGS__)
#define LOG_INFO(...) VGPIO_LOG(::vgpio::LogLevel::Info, __VA_ARGS__)
#define LOG_WARN(...) VGPIO_LOG(::vgpio::LogLevel::Warn, __VA_ARGS__)
#define LOG_ERROR(...) VGPIO_LOG(::vgpio::LogLevel::Error, __VA_ARGS__)

// One limiter per call site, shared by all devices: a flood from one guest
// cannot flood the log.
#define VGPIO_LOG_LIMITED(level, ...)                                                                            \
  do {                                                                                                           \
    static ::vgpio::RateLimiter vgpio_limiter_;                                                                  \
    uint64_t vgpio_dropped_ = 0;                                                                                 \
    if (vgpio_limiter_.admit(&vgpio_dropped_)) {                                                                 \
      if (vgpio_dropped_ > 0)                                                                                    \
        VGPIO_LOG(level, "(%llu similar messages suppressed)", static_cast<unsigned long long>(vgpio_dropped_)); \
      VGPIO_LOG(level, __VA_ARGS__);                                                                             \
    }                                                                                                            \
  } while (0)

#define LOG_WARN_LIMITED(...) VGPIO_LOG_LIMITED(::vgpio::LogLevel::Warn, __VA_ARGS__)
