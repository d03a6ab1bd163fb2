// The control commands of the simulation: timed stimuli on simulated inputs
// (pulse, clock, bounce, pattern, stop) and wires between lines (wire,
// unwire, wires). Durations are strings with a unit ("10ms", "250us") or
// numbers of seconds.
#include <cmath>

#include "base/duration.h"
#include "control/control_server.h"

namespace vgpio::control {

using nlohmann::json;
using sim::Nanos;
using sim::Stimulus;

namespace {

Result<Nanos> duration_arg(const json& r, const char* key, std::optional<Nanos> fallback = {}) {
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

Result<uint64_t> count_arg(const json& r, const char* key, uint64_t fallback) {
  if (!r.contains(key)) return fallback;
  if (!r[key].is_number_unsigned()) return Error(std::string("\"") + key + "\" must be a whole number, 0 or more");
  return r[key].get<uint64_t>();
}

Result<bool> level_arg(const json& r, const char* key, bool fallback) {
  if (!r.contains(key)) return fallback;
  const json& v = r[key];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= 1) return v.get<uint64_t>() == 1;
  return Error(std::string("\"") + key + "\" must be 0 or 1");
}

Result<std::vector<sim::Step>> steps_arg(const json& r) {
  if (!r.contains("steps") || !r["steps"].is_array())
    return Error("\"steps\" is required: a list of [level, duration] pairs, e.g. [[1, \"10ms\"], [0, \"5ms\"]]");
  std::vector<sim::Step> steps;
  for (const json& s : r["steps"]) {
    if (!s.is_array() || s.size() != 2) return Error("each step must be a [level, duration] pair");
    json pair = {{"level", s[0]}, {"duration", s[1]}};
    bool level = TRY(level_arg(pair, "level", false).error_context("step " + std::to_string(steps.size())));
    Nanos d = TRY(duration_arg(pair, "duration").error_context("step " + std::to_string(steps.size())));
    steps.push_back({level, d});
  }
  return steps;
}

// `from` is the line's level now: a bounce starts from it.
Result<Stimulus> stimulus_arg(const std::string& cmd, const json& r, bool from) {
  if (cmd == "pulse") {
    Nanos width = TRY(duration_arg(r, "width"));
    return Stimulus::pulse(TRY(level_arg(r, "level", true)), width, TRY(count_arg(r, "count", 1)),
                           TRY(duration_arg(r, "period", width * 2)));
  }
  if (cmd == "clock") {
    double duty = 0.5;
    if (r.contains("duty")) {
      if (!r["duty"].is_number()) return Error("\"duty\" must be a number between 0 and 1");
      duty = r["duty"].get<double>();
    }
    return Stimulus::clock(TRY(duration_arg(r, "period")), duty);
  }
  if (cmd == "bounce") {
    uint64_t transitions = TRY(count_arg(r, "transitions", 6));
    if (transitions > Stimulus::kMaxSteps) return Error("too many \"transitions\"");
    return Stimulus::bounce(from, TRY(level_arg(r, "settle", !from)), static_cast<unsigned>(transitions),
                            TRY(duration_arg(r, "window", std::chrono::milliseconds(5))), TRY(count_arg(r, "seed", 1)));
  }
  return Stimulus::pattern(TRY(steps_arg(r)), TRY(count_arg(r, "repeat", 1)));
}

}  // namespace

json ControlServer::start_stimulus(Client&, const std::string& cmd, const json& request) {
  auto d = find_device(request);
  if (!d) return refusal(d.error());
  auto l = find_line(d.value(), request);
  if (!l) return refusal(l.error());
  const ControlledDevice& dev = devices_[d.value()];
  if (!dev.sim) return refusal(Error("this daemon runs no simulation"));
  size_t line = l.value();
  json answer = {{"ok", true}};
  Result<void> r;
  bool answered = dev.loop->run_sync([&] {
    if (cmd == "stop") {
      answer["stopped"] = dev.sim->stop(line);
      return;
    }
    auto from = dev.device->status(line).value == 1;
    auto stimulus = stimulus_arg(cmd, request, from);
    if (!stimulus) {
      r = stimulus.release_error();
      return;
    }
    answer["stimulus"] = stimulus.value().kind;
    auto start = dev.sim->start(line, stimulus.release_value());
    if (!start) {
      r = start.release_error();
      return;
    }
    // CLOCK_MONOTONIC: every edge is due at start_ns plus the steps before it.
    answer["start_ns"] = std::chrono::duration_cast<Nanos>(start.value().time_since_epoch()).count();
  });
  if (!answered) return refusal(not_answering(dev));
  if (!r) return refusal(r.error());
  return answer;
}

json ControlServer::execute_wire(Client&, const std::string& cmd, const json& request) {
  if (!wires_) return refusal(Error("this daemon runs no wires"));
  if (cmd == "wires") {
    json list = json::array();
    for (const auto& w : wires_->list())
      list.push_back({{"from", w.spec.from()},
                      {"to", w.spec.to()},
                      {"delay", format_duration(w.spec.delay)},
                      {"invert", w.spec.invert},
                      {"config", w.from_config}});
    return {{"ok", true}, {"wires", list}};
  }
  if (!request.contains("from") || !request["from"].is_string() || !request.contains("to") || !request["to"].is_string())
    return refusal(Error("\"from\" and \"to\" are required: \"DEVICE:LINE\", the line a name or a number"));
  std::string from = request["from"], to = request["to"];
  if (cmd == "unwire") {
    auto r = wires_->disconnect(from, to);
    return r ? json{{"ok", true}} : refusal(r.error());
  }
  sim::WireSpec spec;
  auto parsed = [&]() -> Result<void> {
    TRY(sim::split_endpoint(from, spec.from_device, spec.from_line));
    TRY(sim::split_endpoint(to, spec.to_device, spec.to_line));
    spec.delay = TRY(duration_arg(request, "delay", Nanos(0)));
    spec.invert = TRY(level_arg(request, "invert", false));
    return wires_->connect(spec);
  }();
  return parsed ? json{{"ok", true}, {"wire", spec.describe()}} : refusal(parsed.error());
}

}  // namespace vgpio::control
