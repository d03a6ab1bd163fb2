// The control commands about devices and their lines: list, status, get, set,
// watch, create and destroy. Each reaches a device through that device's own
// loop, with a deadline: a device whose thread is stuck is reported as not
// answering, and the others answer as usual.
#include "control/control_server.h"

namespace vgpio::control {

using nlohmann::json;

namespace {

// What the device thread gathers for one line; the JSON is made on the main loop.
struct LineRow {
  LineStatus status;
  std::string driver;
  std::vector<std::string> wired_to;
};

json line_json(size_t line, const LineRow& row) {
  const LineStatus& s = row.status;
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

Result<size_t> ControlServer::find_device(const json& request) const {
  if (!request.contains("device")) {
    if (devices_.size() == 1) return size_t{0};
    return Error("\"device\" is required when the daemon serves several devices", EINVAL);
  }
  std::string name = request["device"].get<std::string>();
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i].device->name() == name) return i;
  return Error("no device named \"" + name + "\"");
}

Result<size_t> ControlServer::find_line(size_t device, const json& request) const {
  const json& l = request["line"];
  std::string key = l.is_string() ? l.get<std::string>() : std::to_string(l.get<uint64_t>());
  // Not on the device's loop (names are fixed): a line command takes one trip there, not two.
  return devices_[device].device->find_line(key);
}

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

json ControlServer::devices_json(std::optional<size_t> only) const {
  std::vector<std::vector<LineRow>> rows(devices_.size());
  std::vector<sim::SimClock::Report> clocks(devices_.size());
  std::vector<EventLoop::Call> calls;
  std::vector<size_t> asked;
  for (size_t d = 0; d < devices_.size(); ++d) {
    if (only && *only != d) continue;
    const ControlledDevice& dev = devices_[d];
    calls.push_back(dev.loop->call([&dev, &out = rows[d], &clock = clocks[d]] {
      out = gather(dev, 0, dev.device->line_count());
      if (dev.sim) clock = dev.sim->clock().report();
    }));
    asked.push_back(d);
  }
  auto deadline = std::chrono::steady_clock::now() + EventLoop::kAnswerTimeout;
  json devices = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const ControlledDevice& dev = devices_[asked[i]];
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

json ControlServer::list(Connection&, const json&) {
  return {{"ok", true}, {"devices", devices_json()}};
}

json ControlServer::status(Connection&, const json&) {
  json answer = status_ ? status_() : json::object();
  answer["ok"] = true;
  answer["devices"] = devices_.size();
  // Whose time each device follows (fixed for its life: read here, not on its loop).
  json clocks = json::object();
  for (const ControlledDevice& d : devices_) clocks[d.device->name()] = d.sim ? d.sim->clock().name() : "host";
  answer["clocks"] = clocks;
  return answer;
}

json ControlServer::get(Connection&, const json& request) {
  auto d = find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  auto l = find_line(d.value(), request);
  if (!l) return refusal(ErrorKind::NoLine, l.error());
  const ControlledDevice& dev = devices_[d.value()];
  std::vector<LineRow> row;
  if (!dev.loop->run_sync([&] { row = gather(dev, l.value(), 1); }))
    return refusal(ErrorKind::NotAnswering, not_answering(dev));
  json j = line_json(l.value(), row[0]);
  j["ok"] = true;
  j["device"] = dev.device->name();
  return j;
}

json ControlServer::set(Connection&, const json& request) {
  auto d = find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  auto l = find_line(d.value(), request);
  if (!l) return refusal(ErrorKind::NoLine, l.error());
  const ControlledDevice& dev = devices_[d.value()];
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
  let_guests_run();
  return answer;
}

json ControlServer::watch(Connection& client, const json& request) {
  std::optional<size_t> only;
  if (request.contains("device")) {
    auto d = find_device(request);
    if (!d) return refusal(ErrorKind::NoDevice, d.error());
    only = d.value();
  }
  if (request.contains("until") || request.contains("for")) {
    auto when = guest_time_arg(request);
    if (!when) return refusal(ErrorKind::BadRequest, when.error().with_context("watch"));
    if (!only)
      return refusal(ErrorKind::BadRequest, Error("watch: a guest time needs a \"device\", whose guest it is"));
    if (auto r = wait_for_guest_time(client, *only, when.value()); !r)
      return refusal(ErrorKind::Unavailable, r.error());
  }
  connections_->start_watching(client, only ? std::optional(devices_[*only].device->name()) : std::nullopt);
  json answer = {{"ok", true}};
  // The state after watching began: a change from here on is in the stream,
  // so snapshot plus events miss nothing (a change may show up in both).
  if (request.value("snapshot", false)) {
    answer["ns"] = epoch_ns(std::chrono::system_clock::now());
    answer["devices"] = devices_json(only);
  }
  return answer;
}

json ControlServer::create_device(Connection& client, const json& request) {
  if (!maker_) return refusal(ErrorKind::Unavailable, Error("this daemon makes no devices at run time"));
  auto made = maker_->create_device(request, client.id, client.peer);
  if (!made) return refusal(ErrorKind::BadRequest, made.error());
  json answer = made.release_value();
  answer["ok"] = true;
  return answer;
}

json ControlServer::destroy_device(Connection& client, const json& request) {
  if (!maker_) return refusal(ErrorKind::Unavailable, Error("this daemon makes no devices at run time"));
  auto r = maker_->destroy_device(request["device"].get<std::string>(), client.peer);
  return r ? json{{"ok", true}} : refusal(ErrorKind::Conflict, r.error());
}

json ControlServer::sandbox_probe(Connection&, const json& request) {
  if (!probe_) return refusal(ErrorKind::Unavailable, Error("sandbox-probe is in test builds only"));
  auto d = find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  json attempts;  // made on the device's own thread: what it may do is the question
  if (!devices_[d.value()].loop->run_sync([&] { attempts = probe_(request); }))
    return refusal(ErrorKind::NotAnswering, not_answering(devices_[d.value()]));
  return {{"ok", true}, {"attempts", attempts}};
}

}  // namespace vgpio::control
