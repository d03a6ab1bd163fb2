#include "control/control_server.h"

#include "base/log.h"

namespace vgpio::control {

using nlohmann::json;

Result<std::unique_ptr<ControlServer>> ControlServer::create(EventLoop& loop, std::string path,
                                                             const SocketAccess& access,
                                                             std::vector<ControlledDevice> devices) {
  std::unique_ptr<ControlServer> s(new ControlServer(loop));
  s->cx_.devices = std::move(devices);
  ControlServer* raw = s.get();
  s->connections_ = TRY(Connections::create(
      loop, std::move(path), access,
      [raw](Connection& c, const Command& command, const json& request) {
        return handlers::handler_of(command.id)(raw->cx_, c, request);
      },
      [raw](const Connection& c) { raw->closed(c); }));
  s->cx_.connections = s->connections_.get();
  return s;
}

ControlServer::~ControlServer() = default;

namespace handlers {
Handler handler_of(CommandId id) {
  switch (id) {
    case CommandId::List: return list;
    case CommandId::Status: return status;
    case CommandId::Get: return get;
    case CommandId::Set: return set;
    case CommandId::Watch: return watch;
    case CommandId::Run: return run_guest;
    case CommandId::Pulse: return pulse;
    case CommandId::Clock: return clock;
    case CommandId::Bounce: return bounce;
    case CommandId::Pattern: return pattern;
    case CommandId::Stop: return stop;
    case CommandId::Wire: return wire;
    case CommandId::Unwire: return unwire;
    case CommandId::Wires: return wires;
    case CommandId::Create: return create_device;
    case CommandId::Destroy: return destroy_device;
    case CommandId::SandboxProbe: return sandbox_probe;
  }
  return nullptr;
}
}  // namespace handlers

void ControlServer::closed(const Connection& c) {
  handlers::forget_guest_waits(cx_, c);
  if (cx_.maker) cx_.maker->owner_gone(c.id);  // its devices go with it
}

void ControlServer::publish(const gpio::GpioDevice& dev, const gpio::LineChange& change) {
  if (!connections_->has_watchers()) return;
  // The event is made here, on the control thread: the device's thread goes
  // back to its guest at once.
  cx_.loop.post([this, device = dev.name(), line_name = dev.line_name(change.line), change] {
    if (change.interrupted_guest) cx_.let_guests_run();
    connections_->send_to_watchers(device, change_event(device, line_name, change));
  });
}

json ControlServer::change_event(const std::string& device, const std::string& line_name,
                                 const gpio::LineChange& change) {
  const char* field = change.field == gpio::LineChange::Field::Direction ? "direction"
                      : change.field == gpio::LineChange::Field::Value   ? "value"
                                                                         : "irq";
  json value = change.field == gpio::LineChange::Field::Direction ? json(gpio::direction_name(uint8_t(change.value)))
               : change.field == gpio::LineChange::Field::IrqType ? json(gpio::irq_type_name(uint8_t(change.value)))
                                                                  : json(change.value);
  json event = {{"event", "change"},
                {"time", format_timestamp(change.time)},
                {"ns", epoch_ns(change.time)},
                {"device", device},
                {"line", change.line},
                {"name", line_name},
                {"field", field},
                {"value", value}};
  if (change.guest_ns) event["guest_ns"] = *change.guest_ns;
  return event;
}

}  // namespace vgpio::control
