#include "control/command_context.h"

#include <sched.h>

#include <ctime>

#include "base/strings.h"

namespace vgpio::control {

using nlohmann::json;

Result<size_t> CommandContext::find_device(const json& request) const {
  if (!request.contains("device")) {
    if (devices.size() == 1) return size_t{0};
    return Error("\"device\" is required when the daemon serves several devices", EINVAL);
  }
  std::string name = request["device"].get<std::string>();
  for (size_t i = 0; i < devices.size(); ++i)
    if (devices[i].device->name() == name) return i;
  return Error("no device named \"" + name + "\"");
}

Result<size_t> CommandContext::find_line(size_t device, const json& request) const {
  const json& l = request["line"];
  std::string key = l.is_string() ? l.get<std::string>() : std::to_string(l.get<uint64_t>());
  // Not on the device's loop (names are fixed): a line command takes one trip there, not two.
  return devices[device].device->find_line(key);
}

std::optional<json> CommandContext::find_sim_line(const json& request, const ControlledDevice*& device,
                                                  size_t& line) const {
  auto d = find_device(request);
  if (!d) return refusal(ErrorKind::NoDevice, d.error());
  auto l = find_line(d.value(), request);
  if (!l) return refusal(ErrorKind::NoLine, l.error());
  device = &devices[d.value()];
  if (!device->sim) return refusal(ErrorKind::Unavailable, Error("this daemon runs no simulation"));
  line = l.value();
  return std::nullopt;
}

// A device thread that has just interrupted its guest wakes this thread too,
// to tell the watchers. On a CPU the guest's vCPU shares, the scheduler may run
// us first, and the guest takes its interrupt only after we are done: the guest
// first, the watchers after (the events carry the edge's own time). Once a
// wake-up of this loop, however many events it brings; where no one waits for
// our CPU it is one system call.
void CommandContext::let_guests_run() {
  if (guests_ran_at_ == loop.wakeups()) return;
  guests_ran_at_ = loop.wakeups();
  sched_yield();
}

Error not_answering(const ControlledDevice& d) { return EventLoop::not_answering(d.device->name()); }

int64_t epoch_ns(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string format_timestamp(std::chrono::system_clock::time_point now) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1000000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return strfmt("%s.%06lldZ", buf, static_cast<long long>(us % 1000000));
}

}  // namespace vgpio::control
