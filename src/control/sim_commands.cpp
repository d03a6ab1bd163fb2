// The control commands of the simulation: timed stimuli on simulated inputs
// (pulse, clock, bounce, pattern, stop) and wires between lines (wire,
// unwire, wires). Durations are strings with a unit ("10ms", "250us") or
// numbers of seconds. The request has its types checked and the command
// table's defaults filled in (commands.cpp); what is left here are ranges
// and the defaults that depend on other fields.
#include <cmath>

#include "base/duration.h"
#include "control/handlers.h"

namespace vgpio::control {

using nlohmann::json;
using sim::Nanos;
using sim::Stimulus;

Result<Nanos> duration_field(const json& r, const char* key, std::optional<Nanos> fallback) {
  if (!r.contains(key)) {
    if (fallback) return *fallback;
    return Error(std::string("\"") + key + "\" is required: a duration such as \"10ms\", or a number of seconds");
  }
  const json& v = r[key];
  if (v.is_string()) return parse_duration(v.get<std::string>()).error_context(std::string("\"") + key + "\"");
  if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 && v.get<double>() <= 1000)
    return Nanos(std::llround(v.get<double>() * 1e9));
  return Error(std::string("\"") + key + "\" must be a duration such as \"10ms\", or a number of seconds up to 1000");
}

namespace {

uint64_t count_arg(const json& r, const char* key) { return r[key].get<uint64_t>(); }

Result<bool> level_arg(const json& r, const char* key, std::optional<bool> fallback = {}) {
  if (!r.contains(key)) {
    if (fallback) return *fallback;
    return Error(std::string("\"") + key + "\" is required: 0 or 1");
  }
  const json& v = r[key];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= 1) return v.get<uint64_t>() == 1;
  return Error(std::string("\"") + key + "\" must be 0 or 1");
}

Result<std::vector<sim::Step>> steps_arg(const json& r) {
  std::vector<sim::Step> steps;
  for (const json& s : r["steps"]) {
    if (!s.is_array() || s.size() != 2) return Error("each step must be a [level, duration] pair");
    json pair = {{"level", s[0]}, {"duration", s[1]}};
    bool level = TRY(level_arg(pair, "level").error_context("step " + std::to_string(steps.size())));
    Nanos d = TRY(duration_field(pair, "duration").error_context("step " + std::to_string(steps.size())));
    steps.push_back({level, d});
  }
  return steps;
}

}  // namespace

namespace handlers {

namespace {
// What pulse, clock, bounce and pattern share: `make` reads the stimulus
// from the request, on the device's loop, given the line's level now.
using MakeStimulus = std::function<Result<sim::Stimulus>(const nlohmann::json& request, bool level_now)>;

json start_stimulus(CommandContext& cx, const json& request, const MakeStimulus& make) {
  const ControlledDevice* dev = nullptr;
  size_t line = 0;
  if (auto refused = cx.find_sim_line(request, dev, line)) return *refused;
  json answer = {{"ok", true}};
  Result<void> r;
  ErrorKind kind = ErrorKind::BadRequest;  // the stimulus's values; then, whether the line takes it
  bool answered = dev->loop->run_sync([&] {
    auto stimulus = make(request, dev->device->status(line).value == 1);
    if (!stimulus) {
      r = stimulus.release_error();
      return;
    }
    answer["stimulus"] = stimulus.value().kind;
    kind = ErrorKind::Conflict;
    auto start = dev->sim->start(line, stimulus.release_value());
    if (!start) {
      r = start.release_error();
      return;
    }
    // CLOCK_MONOTONIC: every edge is due at start_ns plus the steps before it.
    answer["start_ns"] = std::chrono::duration_cast<Nanos>(start.value().time_since_epoch()).count();
  });
  if (!answered) return refusal(ErrorKind::NotAnswering, not_answering(*dev));
  if (!r) return refusal(kind, r.error());
  return answer;
}
}  // namespace

json pulse(CommandContext& cx, Connection&, const json& request) {
  return start_stimulus(cx, request, [](const json& r, bool) -> Result<Stimulus> {
    Nanos width = TRY(duration_field(r, "width"));
    return Stimulus::pulse(TRY(level_arg(r, "level")), width, count_arg(r, "count"),
                           TRY(duration_field(r, "period", width * 2)));
  });
}

json clock(CommandContext& cx, Connection&, const json& request) {
  return start_stimulus(cx, request, [](const json& r, bool) -> Result<Stimulus> {
    return Stimulus::clock(TRY(duration_field(r, "period")), r["duty"].get<double>());
  });
}

// A bounce starts from the line's level now.
json bounce(CommandContext& cx, Connection&, const json& request) {
  return start_stimulus(cx, request, [](const json& r, bool from) -> Result<Stimulus> {
    uint64_t transitions = count_arg(r, "transitions");
    if (transitions > Stimulus::kMaxSteps) return Error("too many \"transitions\"");
    return Stimulus::bounce(from, TRY(level_arg(r, "settle", !from)), static_cast<unsigned>(transitions),
                            TRY(duration_field(r, "window")), count_arg(r, "seed"));
  });
}

json pattern(CommandContext& cx, Connection&, const json& request) {
  return start_stimulus(cx, request, [](const json& r, bool) -> Result<Stimulus> {
    return Stimulus::pattern(TRY(steps_arg(r)), count_arg(r, "repeat"));
  });
}

json stop(CommandContext& cx, Connection&, const json& request) {
  const ControlledDevice* dev = nullptr;
  size_t line = 0;
  if (auto refused = cx.find_sim_line(request, dev, line)) return *refused;
  json answer = {{"ok", true}};
  if (!dev->loop->run_sync([&] { answer["stopped"] = dev->sim->stop(line); }))
    return refusal(ErrorKind::NotAnswering, not_answering(*dev));
  return answer;
}

json wires(CommandContext& cx, Connection&, const json&) {
  if (!cx.wires) return refusal(ErrorKind::Unavailable, Error("this daemon runs no wires"));
  json list = json::array();
  for (const auto& w : cx.wires->list())
    list.push_back({{"from", w.spec.from()},
                    {"to", w.spec.to()},
                    {"delay", format_duration(w.spec.delay)},
                    {"invert", w.spec.invert},
                    {"config", w.from_config}});
  return {{"ok", true}, {"wires", list}};
}

// The wire board's codes say which end or wire was not there (kind_of).
json unwire(CommandContext& cx, Connection&, const json& request) {
  if (!cx.wires) return refusal(ErrorKind::Unavailable, Error("this daemon runs no wires"));
  auto r = cx.wires->disconnect(request["from"].get<std::string>(), request["to"].get<std::string>());
  return r ? json{{"ok", true}} : refusal(ErrorKind::Conflict, r.error());
}

json wire(CommandContext& cx, Connection&, const json& request) {
  if (!cx.wires) return refusal(ErrorKind::Unavailable, Error("this daemon runs no wires"));
  std::string from = request["from"], to = request["to"];
  sim::WireSpec spec;
  auto parsed = [&]() -> Result<void> {
    TRY(sim::split_endpoint(from, spec.from_device, spec.from_line));
    TRY(sim::split_endpoint(to, spec.to_device, spec.to_line));
    spec.delay = TRY(duration_field(request, "delay"));
    spec.invert = TRY(level_arg(request, "invert"));
    return ok();
  }();
  if (!parsed) return refusal(ErrorKind::BadRequest, parsed.error());
  auto plugged = cx.wires->connect(spec);
  return plugged ? json{{"ok", true}, {"wire", spec.describe()}} : refusal(ErrorKind::Conflict, plugged.error());
}

}  // namespace handlers

}  // namespace vgpio::control
