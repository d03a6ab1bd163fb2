// A device on its guest's time. QEMU, run with -icount (guest time follows the
// instructions executed) and the vgpio-clock plugin (qemu-plugin/), holds the
// guest whenever it idles (it may be waiting for an answer), and at each time
// this clock asks for: when a stimulus is due, and at least once a quantum.
// At a hold, on the device's loop:
//   1. guest time becomes the held time, and every queue is drained: what the
//      guest asked before the hold is answered at it (kicks alone do nothing,
//      so every answer comes at the same guest time in every run);
//   2. the stimuli due by then are applied, their interrupts queued;
//   3. the plugin is told the next hold, with the call eventfds signalled, and
//      lets the guest go once QEMU has taken those interrupts.
// So stimuli land at exact guest times, and the guest sees them there, however
// slow or loaded the host. A change the guest makes is stamped with the time
// of the hold that answers it: when the guest next idles.
// A test may step the guest (run_until): at the stop it stays held, its time
// still, while the test sets inputs and starts stimuli at exactly that time;
// alarms (a watch's guest-time deadline) make a hold at their time.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/unix_socket.h"
#include "config/config.h"
#include "guest_clock/clock_protocol.h"
#include "sim/sim_clock.h"
#include "vhost_user/server.h"

namespace vgpio::guest_clock {

class GuestClock : public sim::SimClock {
 public:
  struct Options {
    std::string socket;  // where the plugin connects
    SocketAccess access;
    // The longest the guest runs between holds.
    std::chrono::nanoseconds quantum = std::chrono::milliseconds(10);
  };
  static constexpr std::chrono::nanoseconds kMinQuantum = config::kMinClockQuantum;
  // Alarms pending at once, in all and per owner (a control connection).
  static constexpr size_t kMaxAlarms = 1024, kMaxAlarmsPerOwner = 16;

  static Result<std::unique_ptr<GuestClock>> create(EventLoop& loop, std::string device_name, Options options);
  ~GuestClock() override;
  GuestClock(const GuestClock&) = delete;
  GuestClock& operator=(const GuestClock&) = delete;

  // The device's server: drained at each hold, its calls handed to the plugin.
  // Before the loop runs; the server must outlive this clock's use of it
  // (detach() before it goes).
  void attach(vhost::Server& server);
  void detach();

  sim::SteadyTime now() const override { return sim::SteadyTime(std::chrono::nanoseconds(now_ns_)); }
  sim::SteadyTime soonest() const override {
    return sim::SteadyTime(std::chrono::nanoseconds(held() ? now_ns_ : until_ns_));
  }
  uint64_t now_ns() const { return now_ns_; }
  void wake_at(std::optional<sim::SteadyTime> when) override { wake_time_ = when; }
  const char* name() const override { return "guest"; }
  // No guest connected: its time stands still, as when it is held.
  bool held() const override { return holding_ || !plugin_; }
  Result<void> run_until(std::optional<sim::SteadyTime> stop) override;
  Result<void> add_alarm(sim::SteadyTime at, uint64_t owner, Alarm alarm) override;
  void remove_alarms(uint64_t owner) override;
  Report report() const override;

 private:
  GuestClock(EventLoop& loop, std::string device_name, Options options, Listener listener)
      : loop_(loop), device_(std::move(device_name)), options_(std::move(options)), listener_(std::move(listener)) {}
  void on_accept();
  void on_readable();
  void hold(uint64_t guest_ns);
  void end_hold();
  void fire_alarms(bool reached);
  void answer();
  void drop(const std::string& why);

  EventLoop& loop_;
  const std::string device_;
  const Options options_;
  Listener listener_;
  EventLoop::WatchId listen_watch_ = 0;
  UniqueFd plugin_;
  EventLoop::WatchId plugin_watch_ = 0;
  FromPlugin pending_{};
  size_t pending_bytes_ = 0;  // of a message that came in parts
  vhost::Server* server_ = nullptr;
  bool holding_ = false;  // the guest waits for this clock's answer
  bool stopped_ = false;  // ... and stays held: it reached stop_ns_
  std::optional<uint64_t> stop_ns_;
  struct PendingAlarm {
    uint64_t owner;
    Alarm alarm;
  };
  std::multimap<uint64_t, PendingAlarm> alarms_;  // by guest ns
  std::vector<int> signalled_;                    // call eventfds written during this hold
  uint64_t now_ns_ = 0;
  uint64_t until_ns_ = 0;  // the next hold, as the plugin was told
  std::optional<sim::SteadyTime> wake_time_;
  uint64_t holds_ = 0;
};

}  // namespace vgpio::guest_clock
