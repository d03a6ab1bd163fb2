// A device on its guest's time (src/guest_clock) can be stepped and waited
// for: "run" holds the guest at a time, so a test sets inputs and starts
// stimuli at exactly that guest time; a watch's "until" ends a wait in guest
// time, however slowly the guest runs on the host.
#include "control/handlers.h"

namespace vgpio::control {

using nlohmann::json;

Result<GuestTime> guest_time_arg(const json& request) {
  if (request.contains("until") && request.contains("for")) return Error("give \"until\" or \"for\", not both");
  GuestTime t;
  if (request.contains("until")) t.until = request["until"].get<uint64_t>();
  if (request.contains("for")) t.after = TRY(duration_field(request, "for"));
  return t;
}

namespace {
std::optional<sim::SteadyTime> resolve(const GuestTime& t, const sim::SimClock& clock) {
  if (t.until) return sim::at_ns(*t.until);
  if (t.after) return clock.now() + *t.after;
  return std::nullopt;
}
}  // namespace

namespace handlers {

json run_guest(CommandContext& cx, Connection&, const json& request) {
  auto d = cx.find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  const ControlledDevice& dev = cx.devices[d.value()];
  auto when = guest_time_arg(request);
  if (!when) return refusal(ErrorKind::BadRequest, when.error().with_context("run"));
  if (!dev.sim) return refusal(ErrorKind::Unavailable, Error("this daemon runs no simulation"));
  Result<void> r = not_answering(dev);
  json answer = {{"ok", true}};
  (void)dev.loop->run_sync([&] {
    sim::SimClock& clock = dev.sim->clock();
    std::optional<sim::SteadyTime> stop = resolve(when.value(), clock);
    r = clock.run_until(stop);
    answer["guest_ns"] = sim::count_ns(clock.now());
    if (stop) answer["stop_ns"] = sim::count_ns(*stop);
  });
  if (!r) return refusal(ErrorKind::Conflict, r.error());
  return answer;
}

Result<void> wait_for_guest_time(CommandContext& cx, Connection& client, size_t device, GuestTime when) {
  const ControlledDevice& dev = cx.devices[device];
  if (!dev.sim) return Error("this daemon runs no simulation", EOPNOTSUPP);
  Result<void> r = not_answering(dev);
  // The alarm runs on the device's loop; the event is sent from this one.
  auto alarm = [cx = &cx, id = client.id, name = dev.device->name()](sim::SteadyTime now, bool reached) {
    json event = {{"event", "time"}, {"device", name}, {"guest_ns", sim::count_ns(now)}, {"reached", reached}};
    cx->loop.post([cx, id, event = std::move(event)] { cx->connections->send_event(id, event); });
  };
  (void)dev.loop->run_sync([&] {
    sim::SimClock& clock = dev.sim->clock();
    r = clock.add_alarm(*resolve(when, clock), client.id, alarm);
  });
  if (r) client.guest_waits.insert(dev.device->name());
  return r;
}

// Each device the client waited on, not only the one it watches last. One
// may be gone already (destroyed, or a reload): then so are its alarms.
void forget_guest_waits(CommandContext& cx, const Connection& client) {
  for (const ControlledDevice& dev : cx.devices)
    if (dev.sim && client.guest_waits.count(dev.device->name()))
      dev.loop->post([sim = dev.sim, id = client.id] { sim->clock().remove_alarms(id); });
}

}  // namespace handlers

}  // namespace vgpio::control
