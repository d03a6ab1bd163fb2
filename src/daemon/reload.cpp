// Reloading the config (SIGHUP) and keeping the service manager told: new
// devices start, removed ones stop, unchanged ones are not touched, and a
// changed one is replaced once no frontend uses it.
#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "daemon/daemon.h"

namespace vgpio::daemon {

void Daemon::on_frontend(uint64_t id, bool connected) {
  auto it = devices_->find(id);
  if (it == devices_->end()) return;  // stopped by a reload meanwhile
  (*it)->connected = connected;
  if (!connected && (*it)->replacement && !devices_->has_frontend(**it)) {
    std::string name = (*it)->name;
    LOG_INFO("device %s: its frontend left; starting its new configuration", name.c_str());
    DeviceConfig spec = std::move(*(*it)->replacement);
    if (devices_->replace(static_cast<size_t>(it - devices_->begin()), std::move(spec)))
      plug_config_wires("device " + name);
  }
  notifier_.status(devices_->status());
}

void Daemon::apply_settings(const config::RootSettings& next) {
  config::RootSettings& now = settings_;
  auto said = [](const std::string& v) { return v.empty() ? std::string("(not set)") : "\"" + v + "\""; };
  auto needs_restart = [](const char* setting, const std::string& from, const std::string& to) {
    if (from == to) return;
    LOG_WARN(
        "reload: %s changed from %s to %s; it takes effect when vgpio restarts (systemctl restart for the "
        "service); the running value stays until then",
        setting, from.c_str(), to.c_str());
  };
  // Where the sockets are, and whom the process is: fixed since it dropped
  // root and fitted its sandbox to them.
  needs_restart("control", said(now.control), said(next.control));
  needs_restart("create_dir", said(now.create_dir), said(next.create_dir));
  needs_restart("user", said(now.user), said(next.user));
  needs_restart("group", said(now.group), said(next.group));
  // The devices it makes from now on: socket_mode, socket_owner, socket_group.
  now.access = next.access;
  devices_->set_access(now.access);
  if (!control_) return;
  now.control_observe = next.control_observe, now.control_act = next.control_act;
  control_->set_grants(now.control_observe, now.control_act);
  if (next.control_access == now.control_access) return;
  if (auto r = control_->set_access(next.control_access); !r) {
    LOG_ERROR(
        "reload: control_mode, control_owner or control_group changed, but the control socket %s cannot be "
        "made again with them: %s; it keeps its old access until vgpio restarts",
        now.control.c_str(), r.error().message().c_str());
    return;
  }
  LOG_INFO("reload: the control socket %s was made again with mode %04o (open connections stay)", now.control.c_str(),
           static_cast<unsigned>(next.control_access.mode));
  now.control_access = next.control_access;
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
    notifier_.ready(devices_->status());
    return;
  }
  apply_settings(next.value().settings);
  make_device_ = std::move(next.value().make_device);
  reload_devices(std::move(next.value().devices));
  config_wires_ = std::move(next.value().wires);
  plug_config_wires("reload");
  LOG_INFO("reload done: %s", devices_->status().c_str());
  notifier_.ready(devices_->status());
}

void Daemon::reload_devices(std::vector<DeviceConfig> specs) {
  // Devices made at run time are their makers', not the file's: a file device
  // of the same name waits until that one is gone.
  std::erase_if(specs, [&](const DeviceConfig& spec) {
    auto it = devices_->find(spec.name);
    bool taken = it != devices_->end() && (*it)->created;
    if (taken)
      LOG_ERROR("reload: device %s: a device of that name was made at run time and still runs; not started",
                spec.name.c_str());
    return taken;
  });
  auto spec_named = [&](const std::string& name) {
    return std::find_if(specs.begin(), specs.end(), [&](const DeviceConfig& s) { return s.name == name; });
  };
  // Removed devices first: their host lines may be given to another now.
  for (size_t i = devices_->size(); i-- > 0;) {
    const RunningDevice& dev = (*devices_)[i];
    if (dev.created || spec_named(dev.name) != specs.end()) continue;
    LOG_INFO("device %s: no longer in the config; stopping it (outputs to their safe levels, socket removed)",
             dev.name.c_str());
    devices_->remove(i);
  }
  std::vector<DeviceConfig*> added;
  for (DeviceConfig& spec : specs) {
    auto it = devices_->find(spec.name);
    if (it == devices_->end()) {
      added.push_back(&spec);
    } else if ((*it)->origin && (*it)->origin == spec.origin) {
      (*it)->replacement.reset();  // unchanged (or changed back): leave it be
    } else if (devices_->has_frontend(**it)) {
      LOG_INFO("device %s: its configuration changed; it is replaced when its current frontend leaves",
               spec.name.c_str());
      (*it)->replacement = std::move(spec);
    } else {
      LOG_INFO("device %s: its configuration changed; replacing it now (no frontend is connected)", spec.name.c_str());
      devices_->replace(static_cast<size_t>(it - devices_->begin()), std::move(spec));
    }
  }
  for (DeviceConfig* spec : added) {
    auto dev = devices_->make(*spec);
    if (!dev) {
      LOG_ERROR("device %s: cannot start: %s", spec->name.c_str(), dev.error().message().c_str());
      continue;
    }
    LOG_INFO("device %s: added, listening on %s", spec->name.c_str(), dev.value()->server->path().c_str());
    devices_->add(dev.release_value());
  }
}

}  // namespace vgpio::daemon
