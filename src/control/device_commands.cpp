// The control commands about devices and their lines: list, status, get, set,
// watch, create and destroy. Each reaches a device through that device's own
// loop, with a deadline: a device whose thread is stuck is reported as not
// answering, and the others answer as usual.
#include "control/handlers.h"

namespace vgpio::control::handlers {

namespace {

// What the device thread gathers for one line; the JSON is made on the main loop.
struct LineRow {
  gpio::LineStatus status;
  std::string driver;
  std::vector<std::string> wired_to;
};

json line_json(size_t line, const LineRow& row) {
  const gpio::LineStatus& s = row.status;
  json j = {{"line", line},
            {"name", s.name},
            {"kind", s.kind},
            {"direction", gpio::direction_name(s.direction)},
            {"irq", gpio::irq_type_name(s.irq_type)},
            {"unmasked", s.irq_unmasked},
            {"pending", s.irq_pending},
            {"holder", s.holder},
            {"driver", row.driver},
            {"wired_to", row.wired_to}};
  j["value"] = s.value < 0 ? json(nullptr) : json(s.value);
  return j;
}

// On the device's loop.
std::vector<LineRow> gather(const ControlledDevice& d, size_t first, size_t count) {
  std::vector<LineRow> rows(count);
  for (size_t i = 0; i < count; ++i) {
    rows[i].status = d.device->status(first + i);
    if (d.sim) rows[i].driver = d.sim->driver_of(first + i), rows[i].wired_to = d.sim->wired_to(first + i);
  }
  return rows;
}

}  // namespace

namespace {
// What a device's stimuli follow: "host", or a guest's time (sim/sim_clock.h).
json clock_json(const sim::SimClock::Report& r) {
  json j = {{"follows", r.follows.empty() ? "host" : r.follows}};
  if (r.follows != "guest") return j;
  j["plugin"] = r.plugin ? "connected" : "not connected";
  j["socket"] = r.socket;
  j["guest_ns"] = r.guest_ns;
  j["quantum_ns"] = r.quantum_ns;
  j["holds"] = r.holds;
  if (r.stop_ns) j["stop_ns"] = *r.stop_ns;
  j["held"] = r.held;
  return j;
}
}  // namespace

json devices_json(const CommandContext& cx, std::optional<size_t> only) {
  std::vector<std::vector<LineRow>> rows(cx.devices.size());
  std::vector<sim::SimClock::Report> clocks(cx.devices.size());
  std::vector<EventLoop::Call> calls;
  std::vector<size_t> asked;
  for (size_t d = 0; d < cx.devices.size(); ++d) {
    if (only && *only != d) continue;
    const ControlledDevice& dev = cx.devices[d];
    calls.push_back(dev.loop->call([&dev, &out = rows[d], &clock = clocks[d]] {
      out = gather(dev, 0, dev.device->line_count());
      if (dev.sim) clock = dev.sim->clock().report();
    }));
    asked.push_back(d);
  }
  auto deadline = std::chrono::steady_clock::now() + EventLoop::kAnswerTimeout;
  json devices = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const ControlledDevice& dev = cx.devices[asked[i]];
    json j = {{"name", dev.device->name()}, {"socket", dev.socket_path}, {"created", dev.created}};
    j["answering"] = calls[i].wait_until(deadline);
    if (j["answering"]) j["clock"] = clock_json(clocks[asked[i]]);
    json lines = json::array();
    for (size_t l = 0; l < rows[asked[i]].size(); ++l) lines.push_back(line_json(l, rows[asked[i]][l]));
    j["lines"] = std::move(lines);
    devices.push_back(std::move(j));
  }
  return devices;
}

json list(CommandContext& cx, Connection&, const json&) { return {{"ok", true}, {"devices", devices_json(cx)}}; }

json status(CommandContext& cx, Connection&, const json&) {
  json answer = cx.status ? cx.status() : json::object();
  answer["ok"] = true;
  answer["devices"] = cx.devices.size();
  // Whose time each device follows (fixed for its life: read here, not on its loop).
  json clocks = json::object();
  for (const ControlledDevice& d : cx.devices) clocks[d.device->name()] = d.sim ? d.sim->clock().name() : "host";
  answer["clocks"] = clocks;
  return answer;
}

json get(CommandContext& cx, Connection&, const json& request) {
  auto d = cx.find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  auto l = cx.find_line(d.value(), request);
  if (!l) return refusal(ErrorKind::NoLine, l.error());
  const ControlledDevice& dev = cx.devices[d.value()];
  std::vector<LineRow> row;
  if (!dev.loop->run_sync([&] { row = gather(dev, l.value(), 1); }))
    return refusal(ErrorKind::NotAnswering, not_answering(dev));
  json j = line_json(l.value(), row[0]);
  j["ok"] = true;
  j["device"] = dev.device->name();
  return j;
}

json set(CommandContext& cx, Connection&, const json& request) {
  auto d = cx.find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  auto l = cx.find_line(d.value(), request);
  if (!l) return refusal(ErrorKind::NoLine, l.error());
  const ControlledDevice& dev = cx.devices[d.value()];
  const json& v = request["value"];
  bool level = v.is_boolean() ? v.get<bool>() : v.get<uint64_t>() == 1;
  Result<void> r = not_answering(dev);
  json answer = {{"ok", true}};
  // Through the simulation when there is one: a set ends a stimulus.
  (void)dev.loop->run_sync([&] {
    if (!dev.sim) return void(r = dev.device->drive(l.value(), level));
    auto at = dev.sim->set(l.value(), level);
    r = at ? ok() : at.error();
    if (at && std::string(dev.sim->clock().name()) == "guest") answer["guest_ns"] = sim::count_ns(at.value());
  });
  if (!r) return refusal(ErrorKind::Conflict, r.error());
  cx.let_guests_run();
  return answer;
}

json watch(CommandContext& cx, Connection& client, const json& request) {
  std::optional<size_t> only;
  if (request.contains("device")) {
    auto d = cx.find_device(request);
    if (!d) return refusal(ErrorKind::NoDevice, d.error());
    only = d.value();
  }
  if (request.contains("until") || request.contains("for")) {
    auto when = guest_time_arg(request);
    if (!when) return refusal(ErrorKind::BadRequest, when.error().with_context("watch"));
    if (!only)
      return refusal(ErrorKind::BadRequest, Error("watch: a guest time needs a \"device\", whose guest it is"));
    if (auto r = wait_for_guest_time(cx, client, *only, when.value()); !r)
      return refusal(ErrorKind::Unavailable, r.error());
  }
  cx.connections->start_watching(client, only ? std::optional(cx.devices[*only].device->name()) : std::nullopt);
  json answer = {{"ok", true}};
  // The state after watching began: a change from here on is in the stream,
  // so snapshot plus events miss nothing (a change may show up in both).
  if (request.value("snapshot", false)) {
    answer["ns"] = epoch_ns(std::chrono::system_clock::now());
    answer["devices"] = devices_json(cx, only);
  }
  return answer;
}

json create_device(CommandContext& cx, Connection& client, const json& request) {
  if (!cx.maker) return refusal(ErrorKind::Unavailable, Error("this daemon makes no devices at run time"));
  auto made = cx.maker->create_device(request, client.id, client.peer);
  if (!made) return refusal(ErrorKind::BadRequest, made.error());
  json answer = made.release_value();
  answer["ok"] = true;
  return answer;
}

json destroy_device(CommandContext& cx, Connection& client, const json& request) {
  if (!cx.maker) return refusal(ErrorKind::Unavailable, Error("this daemon makes no devices at run time"));
  auto r = cx.maker->destroy_device(request["device"].get<std::string>(), client.peer);
  return r ? json{{"ok", true}} : refusal(ErrorKind::Conflict, r.error());
}

json sandbox_probe(CommandContext& cx, Connection&, const json& request) {
  if (!cx.probe) return refusal(ErrorKind::Unavailable, Error("sandbox-probe is in test builds only"));
  auto d = cx.find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  json attempts;  // made on the device's own thread: what it may do is the question
  if (!cx.devices[d.value()].loop->run_sync([&] { attempts = cx.probe(request); }))
    return refusal(ErrorKind::NotAnswering, not_answering(cx.devices[d.value()]));
  return {{"ok", true}, {"attempts", attempts}};
}

}  // namespace vgpio::control::handlers
