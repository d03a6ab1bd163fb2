// One epoll loop per device: fds with callbacks, plus post() for work handed
// in from other threads (woken through an eventfd). No timers-by-polling: the
// loop sleeps in epoll_wait until an fd is ready.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vgpio {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t events)>;
  using Task = std::function<void()>;
  // Identifies one registration; stays unique even when an fd number is reused.
  using WatchId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `callback` in the loop thread whenever `fd` has `events` (EPOLLIN...).
  Result<WatchId> watch(int fd, uint32_t events, Callback callback);
  // Safe to call from inside a callback, also for a registration in the same batch.
  void unwatch(WatchId id);
  // Changes the events a registration waits for.
  void modify(WatchId id, uint32_t events);

  // Thread-safe: runs `task` in the loop thread.
  void post(Task task);
  // Thread-safe: runs `task` in the loop thread and waits for it (runs it
  // directly when already on the loop thread).
  void run_sync(const Task& task);

  // Runs until stop(). Returns the number of dispatched callbacks (for tests).
  void run();
  // Dispatches what is ready now, waiting at most timeout_ms (-1: forever).
  void run_once(int timeout_ms);
  void stop();  // thread-safe
  bool on_loop_thread() const;

 private:
  EventLoop(UniqueFd epoll, UniqueFd wake);
  void drain_posted();

  struct Watch {
    int fd;
    Callback callback;
  };

  UniqueFd epoll_;
  UniqueFd wake_;
  WatchId next_id_ = 1;
  std::unordered_map<WatchId, std::shared_ptr<Watch>> watches_;
  std::mutex mu_;
  std::vector<Task> posted_;
  bool stopping_ = false;
  std::atomic<uint64_t> loop_thread_{0};
};

}  // namespace vgpio
