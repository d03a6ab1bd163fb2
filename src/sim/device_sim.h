// The simulation side of one device, on that device's event loop: timed
// stimuli on its simulated inputs, and both ends of the wires that touch it.
// One wake-up of its clock (sim/sim_clock.h) serves every stimulus and every
// delayed wire level, so a device sleeps until its next edge is due, whatever
// number of lines are busy.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/event_loop.h"
#include "gpio/gpio_device.h"
#include "sim/sim_clock.h"
#include "sim/stimulus.h"
#include "sim/wire.h"

namespace vgpio::sim {

class DeviceSim {
 public:
  // Levels a delayed wire holds back at most; the oldest go first.
  static constexpr size_t kMaxDelayed = 65536;

  // `clock` (the host's when null) must outlive it.
  static Result<std::unique_ptr<DeviceSim>> create(EventLoop& loop, gpio::GpioDevice& device,
                                                   SimClock* clock = nullptr);
  // On the loop thread, or once the loop has stopped.
  ~DeviceSim();
  DeviceSim(const DeviceSim&) = delete;
  DeviceSim& operator=(const DeviceSim&) = delete;

  // Everything below runs on the device's loop thread.

  // A line the harness may drive: simulated, and allowed to be an input.
  Result<void> check_drivable(size_t line) const;
  const SimClock& clock() const { return *clock_; }
  SimClock& clock() { return *clock_; }
  // Starts `stimulus` now, replacing the line's running one; its first step
  // is applied before this returns. Returns the start time, which the
  // schedule counts from. Refused on a wired line.
  Result<SteadyTime> start(size_t line, Stimulus stimulus);
  bool stop(size_t line);  // true when a stimulus was running
  // The harness sets the level, ending any stimulus. Refused on a wired line.
  // Returns when it takes effect: now, or on a running guest's time its next
  // hold (so the guest sees it at the same guest time in every run).
  Result<SteadyTime> set(size_t line, bool level);
  // What drives the line besides the guest: "clock 1ms, duty 0.5",
  // "wire from plc1:relay", or "".
  std::string driver_of(size_t line) const;
  std::vector<std::string> wired_to(size_t line) const;  // targets of its output

  // Wires: attach the target end first and detach it last.
  Result<void> attach_incoming(std::shared_ptr<Wire> wire);
  void detach_incoming(const Wire& wire);
  // Sends the line's current output level at once, so both ends agree.
  void attach_outgoing(std::shared_ptr<Wire> wire);
  // Takes what the wire into `line` has brought so far: called once both ends
  // are attached, so that the target holds the source's level when plugging
  // returns (not at the target thread's next wake-up).
  void take_arrivals(size_t line);
  void detach_outgoing(const Wire& wire);

 private:
  struct Incoming {
    std::shared_ptr<Wire> wire;
    EventLoop::WatchId watch = 0;
    std::deque<Wire::Arrival> delayed;
  };
  DeviceSim(EventLoop& loop, gpio::GpioDevice& device) : loop_(loop), device_(device) {}
  void on_output(size_t line, bool level);
  bool on_guest_time() const { return clock_ != host_clock_.get(); }
  void on_arrivals(Incoming& in);
  void receive(Incoming& in);  // what the wire brought, applied or queued
  void on_timer();
  void reschedule();
  void apply(size_t line, bool level, const char* why);
  Result<void> refuse_if_wired(size_t line, const char* what) const;

  EventLoop& loop_;
  gpio::GpioDevice& device_;
  std::unique_ptr<HostClock> host_clock_;  // unless another clock was given
  SimClock* clock_ = nullptr;
  std::map<size_t, Playback> stimuli_;
  std::map<size_t, Incoming> incoming_;                                      // by target line; one wire at most each
  std::unordered_map<size_t, std::vector<std::shared_ptr<Wire>>> outgoing_;  // by source line
};

}  // namespace vgpio::sim
