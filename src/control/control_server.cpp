#include "control/control_server.h"

#include <sched.h>

#include <chrono>
#include <ctime>

#include "base/log.h"
#include "base/strings.h"
#include "control/commands.h"

namespace vgpio::control {

using nlohmann::json;

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

Result<std::unique_ptr<ControlServer>> ControlServer::create(EventLoop& loop, std::string path,
                                                             const SocketAccess& access,
                                                             std::vector<ControlledDevice> devices) {
  std::unique_ptr<ControlServer> s(new ControlServer(loop, std::move(devices)));
  ControlServer* raw = s.get();
  s->connections_ = TRY(Connections::create(
      loop, std::move(path), access,
      [raw](Connection& c, const Command& command, const json& request) {
        return (raw->*handler_of(command.id))(c, request);
      },
      [raw](const Connection& c) { raw->closed(c); }));
  return s;
}

ControlServer::ControlServer(EventLoop& loop, std::vector<ControlledDevice> devices)
    : loop_(loop), devices_(std::move(devices)) {}

ControlServer::~ControlServer() = default;

// A switch without a default: a command of the table with no handler here
// does not compile (-Wswitch).
ControlServer::Handler ControlServer::handler_of(CommandId id) {
  switch (id) {
    case CommandId::List: return &ControlServer::list;
    case CommandId::Status: return &ControlServer::status;
    case CommandId::Get: return &ControlServer::get;
    case CommandId::Set: return &ControlServer::set;
    case CommandId::Watch: return &ControlServer::watch;
    case CommandId::Run: return &ControlServer::run_guest;
    case CommandId::Pulse: return &ControlServer::pulse;
    case CommandId::Clock: return &ControlServer::clock;
    case CommandId::Bounce: return &ControlServer::bounce;
    case CommandId::Pattern: return &ControlServer::pattern;
    case CommandId::Stop: return &ControlServer::stop;
    case CommandId::Wire: return &ControlServer::wire;
    case CommandId::Unwire: return &ControlServer::unwire;
    case CommandId::Wires: return &ControlServer::wires;
    case CommandId::Create: return &ControlServer::create_device;
    case CommandId::Destroy: return &ControlServer::destroy_device;
    case CommandId::SandboxProbe: return &ControlServer::sandbox_probe;
  }
  return nullptr;
}

void ControlServer::closed(const Connection& c) {
  forget_guest_waits(c);
  if (maker_) maker_->owner_gone(c.id);  // its devices go with it
}

Error ControlServer::not_answering(const ControlledDevice& d) {
  return EventLoop::not_answering(d.device->name());
}

void ControlServer::publish(const GpioDevice& dev, const LineChange& change) {
  if (!connections_->has_watchers()) return;
  // The event is made here, on the control thread: the device's thread goes
  // back to its guest at once.
  loop_.post([this, device = dev.name(), line_name = dev.line_name(change.line), change] {
    if (change.interrupted_guest) let_guests_run();
    connections_->send_to_watchers(device, change_event(device, line_name, change));
  });
}

json ControlServer::change_event(const std::string& device, const std::string& line_name, const LineChange& change) {
  const char* field = change.field == LineChange::Field::Direction ? "direction"
                      : change.field == LineChange::Field::Value   ? "value"
                                                                   : "irq";
  json value = change.field == LineChange::Field::Direction ? json(gpio::direction_name(uint8_t(change.value)))
               : change.field == LineChange::Field::IrqType ? json(gpio::irq_type_name(uint8_t(change.value)))
                                                            : json(change.value);
  json event = {{"event", "change"}, {"time", format_timestamp(change.time)}, {"ns", epoch_ns(change.time)},
                {"device", device}, {"line", change.line}, {"name", line_name}, {"field", field}, {"value", value}};
  if (change.guest_ns) event["guest_ns"] = *change.guest_ns;
  return event;
}

// A device thread that has just interrupted its guest wakes this thread too,
// to tell the watchers. On a CPU the guest's vCPU shares, the scheduler may run
// us first, and the guest takes its interrupt only after we are done: the guest
// first, the watchers after (the events carry the edge's own time). Once a
// wake-up of this loop, however many events it brings; where no one waits for
// our CPU it is one system call.
void ControlServer::let_guests_run() {
  if (guests_ran_at_ == loop_.wakeups()) return;
  guests_ran_at_ = loop_.wakeups();
  sched_yield();
}

}  // namespace vgpio::control
