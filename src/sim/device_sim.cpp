#include "sim/device_sim.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::sim {

Result<std::unique_ptr<DeviceSim>> DeviceSim::create(EventLoop& loop, gpio::GpioDevice& device, SimClock* clock) {
  std::unique_ptr<DeviceSim> sim(new DeviceSim(loop, device));
  DeviceSim* raw = sim.get();
  if (!clock) {
    sim->host_clock_ = TRY(HostClock::create(loop));
    clock = sim->host_clock_.get();
  }
  sim->clock_ = clock;
  clock->on_wake([raw] { raw->on_timer(); });
  device.set_output_observer([raw](size_t line, bool level) { raw->on_output(line, level); });
  return sim;
}

DeviceSim::~DeviceSim() {
  clock_->on_wake({});
  device_.set_output_observer({});
  for (auto& [line, in] : incoming_) loop_.unwatch(in.watch);
}

Result<void> DeviceSim::check_drivable(size_t line) const {
  if (line >= device_.line_count()) return Error(strfmt("device %s has no line %zu", device_.name().c_str(), line));
  const lines::Line& l = device_.line(line);
  if (!l.simulated())
    return Error(strfmt("device %s line %zu (%s) is a host line (%s); only simulated lines can be driven from here",
                        device_.name().c_str(), line, l.name().c_str(), l.describe().c_str()));
  if (!l.policy().may_input)
    return Error(strfmt("device %s line %zu (%s) is output-only in the config; nothing may drive its input",
                        device_.name().c_str(), line, l.name().c_str()));
  return ok();
}

Result<void> DeviceSim::refuse_if_wired(size_t line, const char* what) const {
  auto it = incoming_.find(line);
  if (it == incoming_.end()) return ok();
  return Error(strfmt("device %s line %zu is driven by the wire %s; unwire it before you %s", device_.name().c_str(),
                      line, it->second.wire->spec().describe().c_str(), what));
}

Result<SteadyTime> DeviceSim::start(size_t line, Stimulus stimulus) {
  TRY(check_drivable(line));
  TRY(refuse_if_wired(line, "start a stimulus"));
  SteadyTime start = clock_->soonest();
  stimuli_.insert_or_assign(line, Playback(std::move(stimulus), start));
  on_timer();  // the first step is due now on the host's clock; at the next hold on a guest's
  return start;
}

bool DeviceSim::stop(size_t line) {
  if (!stimuli_.erase(line)) return false;
  reschedule();
  return true;
}

Result<SteadyTime> DeviceSim::set(size_t line, bool level) {
  TRY(check_drivable(line));
  TRY(refuse_if_wired(line, "set it"));
  if (!clock_->held())
    return start(line, Stimulus{level ? "set to 1 at the guest's next hold" : "set to 0 at the guest's next hold",
                                {{level, Nanos(0)}},
                                1});
  stop(line);
  TRY(device_.drive(line, level));
  return clock_->now();
}

std::string DeviceSim::driver_of(size_t line) const {
  if (auto it = stimuli_.find(line); it != stimuli_.end()) return it->second.stimulus().kind;
  if (auto it = incoming_.find(line); it != incoming_.end()) return "wire from " + it->second.wire->spec().from();
  return "";
}

std::vector<std::string> DeviceSim::wired_to(size_t line) const {
  std::vector<std::string> targets;
  if (auto it = outgoing_.find(line); it != outgoing_.end())
    for (const auto& w : it->second) targets.push_back(w->spec().to());
  return targets;
}

Result<void> DeviceSim::attach_incoming(std::shared_ptr<Wire> wire) {
  size_t line = wire->to_line();
  TRY(check_drivable(line));
  if (incoming_.count(line))
    return Error(strfmt("device %s line %zu is already driven by the wire %s; a line has one driver",
                        device_.name().c_str(), line, incoming_.at(line).wire->spec().describe().c_str()));
  if (stop(line))
    LOG_INFO("device %s line %zu: its stimulus stopped; the wire %s drives it now", device_.name().c_str(), line,
             wire->spec().describe().c_str());
  Incoming& in = incoming_[line];
  in.wire = std::move(wire);
  auto watch = loop_.watch(in.wire->fd(), EPOLLIN, [this, line](uint32_t) { on_arrivals(incoming_.at(line)); });
  if (!watch) {
    incoming_.erase(line);
    return watch.release_error().with_context("device " + device_.name());
  }
  in.watch = watch.value();
  return ok();
}

void DeviceSim::detach_incoming(const Wire& wire) {
  auto it = incoming_.find(wire.to_line());
  if (it == incoming_.end() || it->second.wire.get() != &wire) return;
  loop_.unwatch(it->second.watch);
  incoming_.erase(it);
  reschedule();
}

void DeviceSim::attach_outgoing(std::shared_ptr<Wire> wire) {
  size_t line = wire->from_line();
  wire->send(device_.output_level(line), /*force=*/true);
  outgoing_[line].push_back(std::move(wire));
}

void DeviceSim::detach_outgoing(const Wire& wire) {
  auto it = outgoing_.find(wire.from_line());
  if (it == outgoing_.end()) return;
  std::erase_if(it->second, [&](const auto& w) { return w.get() == &wire; });
  if (it->second.empty()) outgoing_.erase(it);
}

void DeviceSim::on_output(size_t line, bool level) {
  auto it = outgoing_.find(line);
  if (it == outgoing_.end()) return;
  for (const auto& wire : it->second) wire->send(level);
}

void DeviceSim::take_arrivals(size_t line) {
  if (auto it = incoming_.find(line); it != incoming_.end()) on_arrivals(it->second);
}

// On the host's clock a level is due its delay after it was sent. On a
// guest's, the delay is guest time from the first hold at which the guest can
// see the level (the sender's clock is another's), and even an undelayed
// level waits for that hold: the guest sees it at the same guest time in
// every run.
void DeviceSim::on_arrivals(Incoming& in) {
  if (on_guest_time()) return on_timer();  // takes what came, and applies what is due now (a held guest)
  receive(in);
  if (in.wire->spec().delay.count() > 0) reschedule();
}

void DeviceSim::receive(Incoming& in) {
  size_t line = in.wire->to_line();
  bool guest_time = on_guest_time();
  bool delayed = in.wire->spec().delay.count() > 0 || guest_time;
  size_t dropped = in.wire->receive([&](Wire::Arrival a) {
    if (!delayed) return apply(line, a.level, "a wire");
    if (guest_time) a.due = clock_->soonest() + in.wire->spec().delay;
    if (in.delayed.size() == kMaxDelayed) in.delayed.pop_front();  // a long delay on a fast signal
    in.delayed.push_back(a);
  });
  if (dropped)
    LOG_WARN_LIMITED(
        "device %s line %zu: %zu levels on the wire %s were lost because this device fell %zu levels "
        "behind; the line took the latest",
        device_.name().c_str(), line, dropped, in.wire->spec().describe().c_str(), Wire::kCapacity);
}

void DeviceSim::on_timer() {
  // On a guest's clock this runs at every hold: what came on wires is taken
  // at this guest time.
  if (on_guest_time())
    for (auto& [line, in] : incoming_) receive(in);
  SteadyTime now = clock_->now();
  for (auto it = stimuli_.begin(); it != stimuli_.end();) {
    Playback& p = it->second;
    // A late wake-up plays every step it missed, in order: no edge is lost.
    while (!p.done() && p.next_time() <= now) apply(it->first, p.take(), "a stimulus");
    it = p.done() ? stimuli_.erase(it) : std::next(it);
  }
  for (auto& [line, in] : incoming_)
    while (!in.delayed.empty() && in.delayed.front().due <= now) {
      apply(line, in.delayed.front().level, "a wire");
      in.delayed.pop_front();
    }
  reschedule();
}

void DeviceSim::reschedule() {
  std::optional<SteadyTime> next;
  auto consider = [&](SteadyTime t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [line, p] : stimuli_) consider(p.next_time());
  for (const auto& [line, in] : incoming_)
    if (!in.delayed.empty()) consider(in.delayed.front().due);
  clock_->wake_at(next);
}

void DeviceSim::apply(size_t line, bool level, const char* why) {
  if (auto r = device_.drive(line, level); !r)
    LOG_WARN_LIMITED("device %s line %zu: %s could not drive it: %s", device_.name().c_str(), line, why,
                     r.error().message().c_str());
}

}  // namespace vgpio::sim
