#include "client/stream_recorder.h"

#include <algorithm>

#include "gpio/protocol.h"

namespace vgpio::client {

using nlohmann::json;

uint8_t direction_number(const std::string& name) {
  for (uint8_t d : {gpio::kDirectionNone, gpio::kDirectionIn, gpio::kDirectionOut})
    if (name == gpio::direction_name(d)) return d;
  return gpio::kDirectionNone;
}

uint8_t irq_number(const std::string& name) {
  for (uint8_t t : {gpio::kIrqNone, gpio::kIrqEdgeRising, gpio::kIrqEdgeFalling, gpio::kIrqEdgeBoth,
                    gpio::kIrqLevelHigh, gpio::kIrqLevelLow})
    if (name == gpio::irq_type_name(t)) return t;
  return gpio::kIrqNone;
}

size_t StreamRecorder::add_lines(const json& snapshot, const std::function<bool(const json&)>& wanted) {
  start_ns_ = snapshot.value("ns", uint64_t{0});
  std::vector<json> clocks;  // of the devices with a line recorded
  for (const auto& d : snapshot.value("devices", json::array())) {
    std::string device = d.value("name", "");
    bool any = false;
    for (const auto& l : d["lines"]) {
      if (!wanted(l)) continue;
      any = true;
      client::LineRecorder::State s;
      s.level = l["value"].is_null() ? -1 : l["value"].get<int>();
      s.direction = direction_number(l.value("direction", ""));
      s.irq_type = irq_number(l.value("irq", ""));
      std::string name = l.value("name", "");
      if (name.empty()) name = "line" + l["line"].dump();
      keys_[{device, l["line"].get<size_t>()}] = recorder_.add_line(device, name, s);
    }
    if (any) clocks.push_back(d.value("clock", json::object()));
  }
  // Two guests' times cannot be compared: guest time for one device only.
  if (clocks.size() == 1 && clocks[0].is_object() && clocks[0].value("follows", "") == "guest" &&
      clocks[0].contains("guest_ns") && clocks[0]["guest_ns"].is_number_unsigned()) {
    guest_time_ = true;
    start_ns_ = clocks[0]["guest_ns"].get<uint64_t>();
  }
  return keys_.size();
}

// The daemon stamps a change when its thread gets to it: on the host's clock
// that is true to microseconds, never to nanoseconds.
constexpr uint64_t kHostClockPrecisionNs = 1000;

Result<void> StreamRecorder::begin(const std::string& comment) {
  return recorder_.begin(start_ns_, comment, guest_time_ ? 1 : kHostClockPrecisionNs);
}

bool StreamRecorder::apply(const json& ev) {
  if (!ev.contains("line") || !ev["line"].is_number_unsigned()) return false;
  auto it = keys_.find({ev.value("device", ""), ev["line"].get<size_t>()});
  if (it == keys_.end()) return false;
  const char* stamp = guest_time_ ? "guest_ns" : "ns";
  uint64_t ns = ev.contains(stamp) && ev[stamp].is_number_unsigned() ? ev[stamp].get<uint64_t>() : start_ns_;
  last_ns_ = std::max(last_ns_, ns);
  std::string field = ev.value("field", "");
  if (field == "value") recorder_.level(it->second, ev["value"] == 1, ns);
  else if (field == "direction") recorder_.direction(it->second, direction_number(ev.value("value", "")), ns);
  else if (field == "irq") recorder_.irq_type(it->second, irq_number(ev.value("value", "")), ns);
  else return false;
  return true;
}

Result<VcdWriter::Summary> StreamRecorder::finish(uint64_t elapsed_ns) {
  // Guest time moves at its own pace: the file ends at its last change.
  return recorder_.finish(guest_time_ ? last_ns_ : start_ns_ + elapsed_ns);
}

}  // namespace vgpio::client
