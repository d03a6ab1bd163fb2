// One epoll loop per device: fds with callbacks, plus post() for work handed
// in from other threads (woken through an eventfd). No timers-by-polling: the
// loop sleeps in epoll_wait until an fd is ready.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
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
  // A task handed to the loop thread, that the caller waits for with a
  // deadline: a loop that is stuck (or stopped) never holds the caller. The
  // task may refer to the caller's stack: a call that was given up on never
  // runs, and one that began is waited for. Move-only; dropping it gives up.
  class Call {
   public:
    // True once the task has run; false when `deadline` came first.
    bool wait_until(std::chrono::steady_clock::time_point deadline);
    ~Call();
    Call(Call&&) = default;
    Call& operator=(Call&&) = delete;

   private:
    friend class EventLoop;
    struct State;
    explicit Call(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };
  // Thread-safe: starts `task` on the loop thread (at once when already on it,
  // or when run() has returned).
  Call call(Task task);
  // How long the main loop waits for a device's loop before it reports that
  // device as not answering.
  static constexpr std::chrono::milliseconds kAnswerTimeout{500};
  // What a caller says when the loop of device `name` did not answer in time.
  static Error not_answering(const std::string& name) {
    return Error("device " + name + " is not answering (its thread is busy or stuck); try again", ETIMEDOUT);
  }
  // call() and wait at most `timeout`; false when the loop did not answer in
  // time, and then the task never runs.
  [[nodiscard]] bool run_sync(Task task, std::chrono::milliseconds timeout = kAnswerTimeout);

  // Runs until stop(). Returns the number of dispatched callbacks (for tests).
  void run();
  // Dispatches what is ready now, waiting at most timeout_ms (-1: forever).
  void run_once(int timeout_ms);
  void stop();  // thread-safe
  bool on_loop_thread() const;
  // How many times the loop has woken from epoll_wait (loop thread only).
  uint64_t wakeups() const { return wakeups_; }

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
  uint64_t wakeups_ = 0;
  std::atomic<uint64_t> loop_thread_{0};
  std::atomic<bool> finished_{false};
};

}  // namespace vgpio
