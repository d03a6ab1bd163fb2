// Watches a folder (/dev) for GPIO chips that appear and vanish, through
// inotify in the owning device's event loop: no polling, no thread. USB GPIO
// expanders re-enumerate, and a re-plugged chip comes back as a new
// /dev/gpiochipN; host lines use this to find theirs again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio::lines {

class ChipListener {
 public:
  virtual ~ChipListener() = default;
  // `path` is the chip's device node ("" after an overflow of the inotify
  // queue: anything may have changed). `present` is false when it went away.
  virtual void on_chip_change(const std::string& path, bool present) = 0;
};

class ChipMonitor {
 public:
  static Result<std::unique_ptr<ChipMonitor>> create(EventLoop& loop, std::string dir = "/dev");
  ~ChipMonitor();
  ChipMonitor(const ChipMonitor&) = delete;
  ChipMonitor& operator=(const ChipMonitor&) = delete;

  void subscribe(ChipListener* listener);
  void unsubscribe(ChipListener* listener);

 private:
  ChipMonitor(EventLoop& loop, std::string dir, UniqueFd fd) : loop_(loop), dir_(std::move(dir)), fd_(std::move(fd)) {}
  void on_readable();
  void notify(const std::string& path, bool present);

  EventLoop& loop_;
  const std::string dir_;
  UniqueFd fd_;
  EventLoop::WatchId watch_ = 0;
  std::vector<ChipListener*> listeners_;
};

}  // namespace vgpio::lines
