#include "panel/panel_api.h"

#include <chrono>
#include <sstream>

#include "client/control_client.h"
#include "client/stream_recorder.h"

namespace vgpio::panel {

using nlohmann::json;

Result<json> drive(const std::string& control, const json& request) {
  if (!request.is_object() || !request.contains("device") || !request["device"].is_string() ||
      !request.contains("line") || !request["line"].is_number_unsigned())
    return Error("give \"device\" (a name) and \"line\" (a number)");
  std::string action = request.value("action", "");
  auto client = TRY(client::ControlClient::connect(control));
  json line = TRY(client.call({{"cmd", "get"}, {"device", request["device"]}, {"line", request["line"]}}));
  // The panel may drive what a test harness may: simulated inputs, never a
  // host line. (The daemon also refuses a guest's output.)
  if (line.value("kind", "") != "simulated")
    return Error("line " + line.value("name", "") + " is a host line: the panel shows it, and never drives it");
  json call = {{"device", request["device"]}, {"line", request["line"]}};
  if (action == "toggle") {
    call["cmd"] = "set";
    call["value"] = line.value("value", 0) == 1 ? 0 : 1;
  } else if (action == "pulse") {
    call["cmd"] = "pulse", call["width"] = "100ms", call["count"] = 1,
    call["level"] = line.value("value", 0) == 1 ? 0 : 1;
  } else if (action == "bounce") {
    call["cmd"] = "bounce", call["transitions"] = 6, call["window"] = "5ms";
  } else {
    return Error("\"action\" must be toggle, pulse or bounce");
  }
  return client.call(call);
}

Result<std::string> record(const std::string& control, const json& request) {
  int seconds = request.is_object() ? request.value("seconds", 5) : 5;
  if (seconds < 1 || seconds > 60) return Error("\"seconds\" must be 1 to 60");
  auto client = TRY(client::ControlClient::connect(control));
  json snapshot = TRY(client.call({{"cmd", "watch"}, {"snapshot", true}}));
  auto started = std::chrono::steady_clock::now();
  auto until = started + std::chrono::seconds(seconds);
  std::ostringstream out;
  client::StreamRecorder recorder(out);
  recorder.add_lines(snapshot, [](const json&) { return true; });
  TRY(
      recorder.begin("vgpio panel; five signals per line: the level (z: not driven), .out (1 out, 0 in, "
                     "z none) and the interrupt type as .irq_rising .irq_falling .irq_level"));
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto e = TRY(client.next(left));
    if (e) recorder.apply(*e);
  }
  TRY(recorder.finish(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(until - started).count())));
  return out.str();
}

}  // namespace vgpio::panel
