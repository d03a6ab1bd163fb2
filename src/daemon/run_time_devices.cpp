// Devices made at run time by a control client ("create"), the aggregator
// that goes away with its maker: when the connection that made it closes, it
// stops like any device (outputs to their safe levels, socket removed). The
// request is read by config/create_request.cpp and made a device's config by
// the app (DaemonConfig::make_device); the client is client/ctl_create.cpp.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "base/paths.h"
#include "base/strings.h"
#include "config/config.h"
#include "daemon/daemon.h"

namespace vgpio::daemon {

namespace {
// "vm9.sock", or a path in the create directory: the file name alone is
// kept, and checked like a device name, so it can name nothing elsewhere.
Result<std::string> socket_name(const std::string& socket, const std::string& dir) {
  auto [in, name] = split_path(socket);
  if (socket.find('/') != std::string::npos && in != dir)
    return Error("\"socket\": devices made at run time get their sockets in " + dir +
                 " (create_dir in the config); give a file name, or a path in that directory");
  TRY(config::check_name(name).error_context("\"socket\" file name"));
  return name;
}
}  // namespace

Result<nlohmann::json> Daemon::create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) {
  if (!make_device_) return Error("this daemon makes no devices at run time", EOPNOTSUPP);
  size_t made_in_all = 0, made_by_user = 0;
  for (const auto& d : *devices_) made_in_all += d->created, made_by_user += d->created && d->maker_uid == maker.uid;
  if (made_in_all >= kMaxCreated || made_by_user >= kMaxCreatedPerUser)
    return Error(strfmt("too many devices made at run time (at most %zu, %zu per user; uid %u has %zu); destroy "
                        "some first",
                        kMaxCreated, kMaxCreatedPerUser, unsigned(maker.uid), made_by_user),
                 EUSERS);
  DeviceConfig spec = TRY(make_device_(request));
  if (!create_dir_fd_)
    return Error("devices made at run time have no directory for their sockets: " + create_dir_ +
                     " could not be opened when vgpio started",
                 EOPNOTSUPP);
  spec.socket_name = TRY(socket_name(spec.socket, create_dir_));
  spec.socket = join_path(create_dir_, spec.socket_name);
  if (devices_->find(spec.name) != devices_->end())
    return Error("a device named \"" + spec.name + "\" already runs", EEXIST);
  for (const auto& line : spec.pool_lines)
    for (const auto& d : *devices_)
      if (std::count(d->pool_lines.begin(), d->pool_lines.end(), line))
        return Error("pool line \"" + line + "\" is in device " + d->name +
                         " now; a pool line is in one device at a time",
                     EBUSY);
  auto made = TRY(devices_->make(spec));
  made->created = true;
  made->maker_uid = maker.uid;
  made->owner = request.value("persist", false) ? 0 : owner;
  made->pool_lines = spec.pool_lines;
  RunningDevice& dev = devices_->add(std::move(made));
  LOG_INFO("device %s: made at run time by a control client, listening on %s; it goes %s", dev.name.c_str(),
           dev.server->path().c_str(), dev.owner ? "when that client disconnects" : "when destroyed");
  notifier_.status(devices_->status());
  return nlohmann::json{{"device", dev.name},
                        {"socket", dev.server->path()},
                        {"lines", dev.device->line_count()},
                        {"persist", dev.owner == 0}};
}

Result<void> Daemon::destroy_device(const std::string& name, const Peer& by) {
  auto it = devices_->find(name);
  if (it == devices_->end()) return Error("no device named \"" + name + "\"", ENODEV);
  if (!(*it)->created)
    return Error("device " + name + " is the config file's; remove it from the file and reload instead");
  if (by.uid != (*it)->maker_uid && by.uid != 0 && by.uid != geteuid())
    return Error(strfmt("device %s was made by uid %u; only that user (or root) may destroy it", name.c_str(),
                        unsigned((*it)->maker_uid)),
                 EACCES);
  LOG_INFO("device %s: destroyed by a control client (outputs to their safe levels, socket removed)", name.c_str());
  devices_->remove(static_cast<size_t>(it - devices_->begin()));
  notifier_.status(devices_->status());
  return ok();
}

void Daemon::owner_gone(uint64_t owner) {
  bool any = false;
  for (size_t i = devices_->size(); i-- > 0;) {
    const RunningDevice& dev = (*devices_)[i];
    if (!dev.created || dev.owner != owner) continue;
    LOG_INFO(
        "device %s: the control client that made it disconnected; stopping it (outputs to their safe levels, "
        "socket removed)",
        dev.name.c_str());
    devices_->remove(i);
    any = true;
  }
  if (any) notifier_.status(devices_->status());
}

}  // namespace vgpio::daemon
