#include "sim/wire_board.h"

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::sim {

namespace {
Error not_answering(const SimDevice& d) { return EventLoop::not_answering(d.device->name()); }
}  // namespace

WireBoard::~WireBoard() {
  for (auto& p : wires_) unplug(p);
}

void WireBoard::add_device(SimDevice device) { devices_.push_back(device); }

std::vector<WireSpec> WireBoard::remove_device(const gpio::GpioDevice& device) {
  std::vector<WireSpec> gone;
  auto touches = [&](const Plugged& p) { return p.from.device.device == &device || p.to.device.device == &device; };
  for (auto& p : wires_)
    if (touches(p)) {
      unplug(p);
      gone.push_back(p.spec);
    }
  std::erase_if(wires_, touches);
  std::erase_if(devices_, [&](const SimDevice& d) { return d.device == &device; });
  return gone;
}

Result<WireBoard::End> WireBoard::resolve(const std::string& device, const std::string& line) const {
  auto it =
      std::find_if(devices_.begin(), devices_.end(), [&](const SimDevice& d) { return d.device->name() == device; });
  // Codes for the control server: ENODEV no device, ENOENT no line.
  if (it == devices_.end()) return Error("no device named \"" + device + "\"", ENODEV);
  Result<size_t> index = it->device->find_line(line);  // names are fixed: no trip to its loop
  if (!index && index.error().code() == 0) return Error(index.error().message(), ENOENT);
  return End{*it, TRY(std::move(index))};
}

// Follows wires from `start`: a wire leaves a line that another wire entered
// (the guest may echo its input on its output), so a path can be a loop.
bool WireBoard::reaches(const End& start, const End& goal) const {
  if (start == goal) return true;
  for (const auto& p : wires_)
    if (p.from == start && reaches(p.to, goal)) return true;
  return false;
}

Result<void> WireBoard::connect(WireSpec spec, bool from_config) {
  std::string what = "wire " + spec.describe();
  End from = TRY(resolve(spec.from_device, spec.from_line).error_context(what));
  End to = TRY(resolve(spec.to_device, spec.to_line).error_context(what));
  if (!from.device.device->line(from.line).policy().may_output)
    return Error(what + ": " + spec.from() + " is input-only in the config, so no guest output can drive the wire");
  if (reaches(to, from))
    return Error(what + ": it would close a loop (" + spec.to() + " already leads back to " + spec.from() + ")");
  auto wire = TRY(Wire::create(spec, from.line, to.line));
  Result<void> attached = not_answering(to.device);
  (void)to.device.loop->run_sync([&] { attached = to.device.sim->attach_incoming(wire); });
  TRY(std::move(attached).error_context(what));
  if (!from.device.loop->run_sync([&] { from.device.sim->attach_outgoing(wire); })) {
    (void)to.device.loop->run_sync([&] { to.device.sim->detach_incoming(*wire); });
    return not_answering(from.device).with_context(what);
  }
  (void)to.device.loop->run_sync([&] { to.device.sim->take_arrivals(to.line); });
  LOG_INFO("%s: plugged", what.c_str());
  wires_.push_back(Plugged{std::move(spec), std::move(wire), from, to, from_config});
  return ok();
}

void WireBoard::unplug(Plugged& p) {
  // The source end first: nothing is sent once the target stops listening.
  // A device that does not answer keeps its end (it shares the wire, so the
  // end stays valid): a source end then drives a wire nobody listens to.
  for (const SimDevice* end : {&p.from.device, &p.to.device}) {
    bool source = end == &p.from.device;
    if (!end->loop->run_sync([&] { source ? end->sim->detach_outgoing(*p.wire) : end->sim->detach_incoming(*p.wire); }))
      LOG_WARN("wire %s: %s", p.spec.describe().c_str(), not_answering(*end).message().c_str());
  }
  LOG_INFO("wire %s: unplugged", p.spec.describe().c_str());
}

Result<void> WireBoard::disconnect(const std::string& from_text, const std::string& to_text) {
  WireSpec spec;
  TRY(split_endpoint(from_text, spec.from_device, spec.from_line));
  TRY(split_endpoint(to_text, spec.to_device, spec.to_line));
  End from = TRY(resolve(spec.from_device, spec.from_line));
  End to = TRY(resolve(spec.to_device, spec.to_line));
  auto it = std::find_if(wires_.begin(), wires_.end(), [&](const Plugged& p) { return p.from == from && p.to == to; });
  if (it == wires_.end()) return Error("there is no wire from " + from_text + " to " + to_text, ESRCH);
  unplug(*it);
  wires_.erase(it);
  return ok();
}

std::vector<WireBoard::Entry> WireBoard::list() const {
  std::vector<Entry> out;
  for (const auto& p : wires_) out.push_back({p.spec, p.from_config});
  return out;
}

bool WireBoard::same_wire(const Plugged& p, const WireSpec& spec) const {
  return p.spec.from() == spec.from() && p.spec.to() == spec.to() && p.spec.delay == spec.delay &&
         p.spec.invert == spec.invert;
}

std::vector<Error> WireBoard::apply_config(const std::vector<WireSpec>& specs) {
  auto wanted = [&](const Plugged& p) {
    return std::any_of(specs.begin(), specs.end(), [&](const WireSpec& s) { return same_wire(p, s); });
  };
  for (auto& p : wires_)
    if (p.from_config && !wanted(p)) unplug(p);
  std::erase_if(wires_, [&](const Plugged& p) { return p.from_config && !wanted(p); });
  std::vector<Error> errors;
  for (const auto& s : specs) {
    bool plugged = std::any_of(wires_.begin(), wires_.end(), [&](const Plugged& p) { return same_wire(p, s); });
    if (plugged) continue;
    if (auto r = connect(s, true); !r) errors.push_back(r.release_error());
  }
  return errors;
}

}  // namespace vgpio::sim
