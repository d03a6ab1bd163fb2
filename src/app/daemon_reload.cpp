// Reloading the config (SIGHUP) and keeping the service manager told: new
// devices start, removed ones stop, unchanged ones are not touched, and a
// changed one is replaced once no frontend uses it.
#include <algorithm>

#include "app/daemon.h"
#include "base/log.h"
#include "base/strings.h"

namespace vgpio {

std::string Daemon::status() const {
  size_t with_frontend = 0;
  std::string names;
  for (const auto& d : devices_) {
    with_frontend += d->connected;
    names += (names.empty() ? "" : ", ") + d->name;
  }
  return strfmt("serving %zu device%s (%s), %zu with a frontend", devices_.size(), devices_.size() == 1 ? "" : "s",
                names.c_str(), with_frontend);
}

void Daemon::publish_devices() {
  if (!control_) return;
  std::vector<control::ControlledDevice> list;
  for (const auto& d : devices_)
    list.push_back({d->device.get(), d->loop.get(), d->server->path(), d->sim.get(), d->created});
  control_->set_devices(std::move(list));
}

void Daemon::remove_device(size_t index) {
  std::unique_ptr<Device> dev = std::move(devices_[index]);
  devices_.erase(devices_.begin() + static_cast<std::ptrdiff_t>(index));
  publish_devices();  // before it goes: the control server holds its address
  stop_device(*dev, std::chrono::steady_clock::now() + kStopDeadline);
}

void Daemon::replace_device(size_t index, DeviceConfig spec) {
  std::string name = devices_[index]->name;
  remove_device(index);  // first: its lines and socket are for the new one
  auto fresh = start_device(spec);
  if (!fresh) {
    LOG_ERROR("device %s: its new configuration cannot start: %s; the device is gone until the config is fixed and "
              "reloaded",
              name.c_str(), fresh.error().message().c_str());
    return;
  }
  launch(*fresh.value());
  devices_.insert(devices_.begin() + static_cast<std::ptrdiff_t>(index), fresh.release_value());
  publish_devices();
  for (const auto& e : plug_config_wires()) LOG_ERROR("device %s: %s", name.c_str(), e.message().c_str());
}

bool Daemon::has_frontend(Device& dev) {
  bool connected = true;  // a device that does not answer is left as it is
  if (!dev.loop->run_sync([&] { connected = dev.server->connected(); }))
    LOG_WARN("device %s: its thread does not answer; it keeps its old configuration", dev.name.c_str());
  return connected;
}

void Daemon::on_frontend(uint64_t id, bool connected) {
  auto it = std::find_if(devices_.begin(), devices_.end(), [id](const auto& d) { return d->id == id; });
  if (it == devices_.end()) return;  // stopped by a reload meanwhile
  (*it)->connected = connected;
  if (!connected && (*it)->replacement && !has_frontend(**it)) {
    LOG_INFO("device %s: its frontend left; starting its new configuration", (*it)->name.c_str());
    DeviceConfig spec = std::move(*(*it)->replacement);
    replace_device(static_cast<size_t>(it - devices_.begin()), std::move(spec));
  }
  notifier_.status(status());
}

void Daemon::say_what_needs_restart(const DaemonConfig& next) const {
  auto said = [](const std::string& v) { return v.empty() ? std::string("(not set)") : "\"" + v + "\""; };
  auto id = [](const auto& v) { return v ? std::to_string(*v) : std::string("(not set)"); };
  auto changed = [](const char* setting, const std::string& from, const std::string& to) {
    if (from == to) return;
    LOG_WARN("reload: %s changed from %s to %s; it takes effect when vgpio restarts (systemctl restart for the "
             "service); the running value stays until then",
             setting, from.c_str(), to.c_str());
  };
  const StartSettings& was = started_with_;
  changed("control", said(was.control_socket), said(next.control_socket));
  changed("control_mode", strfmt("\"%04o\"", was.control_access.mode), strfmt("\"%04o\"", next.control_access.mode));
  changed("control_owner (uid)", id(was.control_access.owner), id(next.control_access.owner));
  changed("control_group (gid)", id(was.control_access.group), id(next.control_access.group));
  changed("create_dir", said(was.create_dir), said(next.create_dir));
  changed("user", said(was.user), said(next.user));
  changed("group", said(was.group), said(next.group));
}

void Daemon::reload() {
  if (!reload_) {
    LOG_INFO("nothing to reload: vgpio was started without a config file (--config)");
    return;
  }
  notifier_.reloading();
  auto next = reload_();
  if (!next) {
    LOG_ERROR("reload: %s; nothing changed: the running configuration stays", next.error().message().c_str());
    notifier_.ready(status());
    return;
  }
  say_what_needs_restart(next.value());
  std::vector<DeviceConfig>& specs = next.value().devices;
  access_ = next.value().access;  // for the devices it replaces or adds
  make_device_ = std::move(next.value().make_device);
  if (control_) control_->set_grants(next.value().control_observe, next.value().control_act);
  // Devices made at run time are their makers', not the file's: a file device
  // of the same name waits until that one is gone.
  std::erase_if(specs, [&](const DeviceConfig& spec) {
    bool taken = std::any_of(devices_.begin(), devices_.end(),
                             [&](const auto& d) { return d->created && d->name == spec.name; });
    if (taken)
      LOG_ERROR("reload: device %s: a device of that name was made at run time and still runs; not started",
                spec.name.c_str());
    return taken;
  });
  auto spec_named = [&](const std::string& name) {
    return std::find_if(specs.begin(), specs.end(), [&](const DeviceConfig& s) { return s.name == name; });
  };
  // Removed devices first: their host lines may be given to another now.
  for (size_t i = devices_.size(); i-- > 0;) {
    if (devices_[i]->created || spec_named(devices_[i]->name) != specs.end()) continue;
    LOG_INFO("device %s: no longer in the config; stopping it (outputs to their safe levels, socket removed)",
             devices_[i]->name.c_str());
    remove_device(i);
  }
  std::vector<DeviceConfig*> added;
  for (DeviceConfig& spec : specs) {
    auto it = std::find_if(devices_.begin(), devices_.end(), [&](const auto& d) { return d->name == spec.name; });
    if (it == devices_.end()) {
      added.push_back(&spec);
    } else if ((*it)->origin && (*it)->origin == spec.origin) {
      (*it)->replacement.reset();  // unchanged (or changed back): leave it be
    } else if (has_frontend(**it)) {
      LOG_INFO("device %s: its configuration changed; it is replaced when its current frontend leaves",
               spec.name.c_str());
      (*it)->replacement = std::move(spec);
    } else {
      LOG_INFO("device %s: its configuration changed; replacing it now (no frontend is connected)", spec.name.c_str());
      replace_device(static_cast<size_t>(it - devices_.begin()), std::move(spec));
    }
  }
  for (DeviceConfig* spec : added) {
    auto dev = start_device(*spec);
    if (!dev) {
      LOG_ERROR("device %s: cannot start: %s", spec->name.c_str(), dev.error().message().c_str());
      continue;
    }
    LOG_INFO("device %s: added, listening on %s", spec->name.c_str(), dev.value()->server->path().c_str());
    launch(*dev.value());
    devices_.push_back(dev.release_value());
  }
  publish_devices();
  config_wires_ = std::move(next.value().wires);
  for (const auto& e : plug_config_wires()) LOG_ERROR("reload: %s; the rest of the config is in use", e.message().c_str());
  LOG_INFO("reload done: %s", status().c_str());
  notifier_.ready(status());
}

}  // namespace vgpio
