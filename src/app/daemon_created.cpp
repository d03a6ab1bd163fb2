// Devices made at run time by a control client ("create"), the aggregator
// that goes away with its maker: when the connection that made it closes, it
// stops like any device (outputs to their safe levels, socket removed).
#include <algorithm>
#include <cerrno>

#include "app/daemon.h"
#include "base/log.h"

namespace vgpio {

Result<nlohmann::json> Daemon::create_device(const nlohmann::json& request, uint64_t owner) {
  if (!make_device_) return Error("this daemon makes no devices at run time");
  const nlohmann::json& persist = request.contains("persist") ? request["persist"] : nlohmann::json(false);
  if (!persist.is_boolean()) return Error("\"persist\" must be true or false");
  DeviceConfig spec = TRY(make_device_(request));
  if (std::any_of(devices_.begin(), devices_.end(), [&](const auto& d) { return d->name == spec.name; }))
    return Error("a device named \"" + spec.name + "\" already runs");
  for (const auto& line : spec.pool_lines)
    for (const auto& d : devices_)
      if (std::count(d->pool_lines.begin(), d->pool_lines.end(), line))
        return Error("pool line \"" + line + "\" is in device " + d->name + " now; a pool line is in one device at a time");
  auto started = start_device(spec);
  if (!started) {
    Error e = started.release_error();
    // Where the sandbox's Landlock layer says no (or the socket modes do).
    if (e.code() == EACCES)
      return Error(e.message() + " (vgpio makes sockets only in its configured sockets' directories and below them)",
                   e.code());
    return e;
  }
  auto made = started.release_value();
  made->created = true;
  made->owner = persist.get<bool>() ? 0 : owner;
  made->pool_lines = spec.pool_lines;
  launch(*made);
  Device& dev = *made;
  devices_.push_back(std::move(made));
  publish_devices();
  LOG_INFO("device %s: made at run time by a control client, listening on %s; it goes %s", dev.name.c_str(),
           dev.server->path().c_str(), dev.owner ? "when that client disconnects" : "when destroyed");
  notifier_.status(status());
  return nlohmann::json{{"device", dev.name}, {"socket", dev.server->path()}, {"lines", dev.device->line_count()},
                        {"persist", dev.owner == 0}};
}

Result<void> Daemon::destroy_device(const std::string& name) {
  auto it = std::find_if(devices_.begin(), devices_.end(), [&](const auto& d) { return d->name == name; });
  if (it == devices_.end()) return Error("no device named \"" + name + "\"");
  if (!(*it)->created)
    return Error("device " + name + " is the config file's; remove it from the file and reload instead");
  LOG_INFO("device %s: destroyed by a control client (outputs to their safe levels, socket removed)", name.c_str());
  remove_device(static_cast<size_t>(it - devices_.begin()));
  notifier_.status(status());
  return ok();
}

void Daemon::owner_gone(uint64_t owner) {
  bool any = false;
  for (size_t i = devices_.size(); i-- > 0;) {
    if (!devices_[i]->created || devices_[i]->owner != owner) continue;
    LOG_INFO("device %s: the control client that made it disconnected; stopping it (outputs to their safe levels, "
             "socket removed)",
             devices_[i]->name.c_str());
    remove_device(i);
    any = true;
  }
  if (any) notifier_.status(status());
}

}  // namespace vgpio
