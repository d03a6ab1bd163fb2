#include "base/event_loop.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>

namespace vgpio {
namespace {
constexpr EventLoop::WatchId kWakeId = 0;

uint64_t this_thread_token() { return static_cast<uint64_t>(pthread_self()); }
}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return Error::from_errno(errno, "epoll_create1");
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return Error::from_errno(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &ev) != 0) return Error::from_errno(errno, "epoll_ctl(wake)");
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll), std::move(wake)));
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}

EventLoop::~EventLoop() = default;

Result<EventLoop::WatchId> EventLoop::watch(int fd, uint32_t events, Callback callback) {
  WatchId id = next_id_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return Error::from_errno(errno, "epoll_ctl(add)");
  watches_[id] = std::make_shared<Watch>(Watch{fd, std::move(callback)});
  return id;
}

void EventLoop::unwatch(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  // The fd may already be closed by its owner; epoll drops closed fds itself.
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second->fd, nullptr);
  watches_.erase(it);
}

void EventLoop::modify(WatchId id, uint32_t events) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, it->second->fd, &ev);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

struct EventLoop::Call::State {
  enum class Stage { Waiting, Running, Done, GivenUp };
  std::mutex mu;
  std::condition_variable changed;
  Stage stage = Stage::Waiting;
  Task task;
};

EventLoop::Call EventLoop::call(Task task) {
  auto state = std::make_shared<Call::State>();
  // A loop that has returned from run() is run by nobody: the caller may.
  if (on_loop_thread() || finished_.load()) {
    task();
    state->stage = Call::State::Stage::Done;
    return Call(state);
  }
  state->task = std::move(task);
  post([state] {
    {
      std::lock_guard lock(state->mu);
      if (state->stage == Call::State::Stage::GivenUp) return;
      state->stage = Call::State::Stage::Running;
    }
    state->task();
    state->task = nullptr;
    std::lock_guard lock(state->mu);
    state->stage = Call::State::Stage::Done;
    state->changed.notify_all();
  });
  return Call(state);
}

bool EventLoop::Call::wait_until(std::chrono::steady_clock::time_point deadline) {
  using Stage = State::Stage;
  std::unique_lock lock(state_->mu);
  state_->changed.wait_until(lock, deadline, [&] { return state_->stage == Stage::Done; });
  // A task that has begun runs on the caller's state: it must end first.
  state_->changed.wait(lock, [&] { return state_->stage != Stage::Running; });
  if (state_->stage == Stage::Waiting) state_->stage = Stage::GivenUp;
  return state_->stage == Stage::Done;
}

EventLoop::Call::~Call() {
  if (state_) wait_until(std::chrono::steady_clock::time_point::min());
}

bool EventLoop::run_sync(Task task, std::chrono::milliseconds timeout) {
  return call(std::move(task)).wait_until(std::chrono::steady_clock::now() + timeout);
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

bool EventLoop::on_loop_thread() const { return loop_thread_.load() == this_thread_token(); }

void EventLoop::drain_posted() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(wake_.get(), &count, sizeof count);
  std::vector<Task> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::run_once(int timeout_ms) {
  loop_thread_.store(this_thread_token());
  epoll_event events[32];
  int n = epoll_wait(epoll_.get(), events, 32, timeout_ms);
  ++wakeups_;
  for (int i = 0; i < n; ++i) {
    WatchId id = events[i].data.u64;
    if (id == kWakeId) {
      drain_posted();
      continue;
    }
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;  // unwatched earlier in this batch
    auto watch = it->second;             // keeps the callback alive while it runs
    watch->callback(events[i].events);
  }
}

void EventLoop::run() {
  finished_ = false;
  stopping_ = false;
  while (!stopping_) run_once(-1);
  loop_thread_.store(0);
  finished_ = true;
}

}  // namespace vgpio
