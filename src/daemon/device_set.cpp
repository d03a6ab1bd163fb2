#include "daemon/device_set.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::daemon {

Result<std::unique_ptr<RunningDevice>> DeviceSet::make(DeviceConfig& spec) {
  auto dev = TRY(RunningDevice::start(next_id_++, spec, around_));
  dev->server->set_frontend_observer([this, id = dev->id](bool connected) {
    main_loop_.post([this, id, connected] { on_frontend_(id, connected); });
  });
  if (control_) attach_control(*dev);
  return dev;
}

RunningDevice& DeviceSet::add(std::unique_ptr<RunningDevice> dev, std::optional<size_t> index) {
  auto at = index ? devices_.begin() + static_cast<std::ptrdiff_t>(*index) : devices_.end();
  RunningDevice& added = **devices_.insert(at, std::move(dev));
  if (launched_) start_thread(added);
  publish();
  return added;
}

void DeviceSet::launch() {
  if (launched_) return;
  launched_ = true;
  for (auto& dev : devices_) start_thread(*dev);
}

void DeviceSet::start_thread(RunningDevice& dev) {
  dev.launch();
  wires_.add_device({dev.device.get(), dev.loop.get(), dev.sim.get()});
}

void DeviceSet::remove(size_t index) {
  std::unique_ptr<RunningDevice> dev = std::move(devices_[index]);
  devices_.erase(devices_.begin() + static_cast<std::ptrdiff_t>(index));
  publish();  // before it goes: the control server holds its address
  stop(*dev, std::chrono::steady_clock::now() + RunningDevice::kStopDeadline);
}

bool DeviceSet::replace(size_t index, DeviceConfig spec) {
  std::string name = devices_[index]->name;
  remove(index);  // first: its lines and socket are for the new one
  auto fresh = make(spec);
  if (!fresh) {
    LOG_ERROR(
        "device %s: its new configuration cannot start: %s; the device is gone until the config is fixed and "
        "reloaded",
        name.c_str(), fresh.error().message().c_str());
    return false;
  }
  add(fresh.release_value(), index);
  return true;
}

bool DeviceSet::has_frontend(RunningDevice& dev) {
  bool connected = true;  // a device that does not answer is left as it is
  if (!dev.loop->run_sync([&] { connected = dev.server->connected(); }))
    LOG_WARN("device %s: its thread does not answer; it keeps its old configuration", dev.name.c_str());
  return connected;
}

DeviceSet::List::iterator DeviceSet::find(const std::string& name) {
  return std::find_if(devices_.begin(), devices_.end(), [&](const auto& d) { return d->name == name; });
}

DeviceSet::List::iterator DeviceSet::find(uint64_t id) {
  return std::find_if(devices_.begin(), devices_.end(), [id](const auto& d) { return d->id == id; });
}

void DeviceSet::set_control(control::ControlServer* control) {
  control_ = control;
  if (!control_) return;
  for (auto& dev : devices_) attach_control(*dev);
  publish();
}

void DeviceSet::attach_control(RunningDevice& dev) {
  control::ControlServer* control = control_;
  gpio::GpioDevice* device = dev.device.get();
  device->set_observer([control, device](const gpio::LineChange& c) { control->publish(*device, c); });
}

void DeviceSet::publish() {
  if (!control_) return;
  std::vector<control::ControlledDevice> list;
  for (const auto& d : devices_)
    list.push_back({d->device.get(), d->loop.get(), d->server->path(), d->sim.get(), d->created});
  control_->set_devices(std::move(list));
}

std::string DeviceSet::status() const {
  size_t with_frontend = 0;
  std::string names;
  for (const auto& d : devices_) {
    with_frontend += d->connected;
    names += (names.empty() ? "" : ", ") + d->name;
  }
  return strfmt("serving %zu device%s (%s), %zu with a frontend", devices_.size(), devices_.size() == 1 ? "" : "s",
                names.c_str(), with_frontend);
}

void DeviceSet::stop(RunningDevice& dev, std::chrono::steady_clock::time_point deadline) {
  dev.begin_stop("its device is stopped");
  if (dev.wait_stopped(deadline)) tear_down(dev);
}

// With the thread gone, here: the wires go (a stopped loop runs calls on the
// caller's thread), then the device.
void DeviceSet::tear_down(RunningDevice& dev) {
  if (around_.carryover && dev.device->keeps_state()) around_.carryover->forget_device(dev.name);
  wires_.remove_device(*dev.device);
  dev.tear_down();
}

DeviceSet::~DeviceSet() {
  if (control_) control_->set_devices({});
  for (auto& dev : devices_) dev->begin_stop("the daemon is stopping");
  auto deadline = std::chrono::steady_clock::now() + RunningDevice::kStopDeadline;
  for (auto& dev : devices_)
    if (dev->wait_stopped(deadline)) tear_down(*dev);
  devices_.clear();
}

}  // namespace vgpio::daemon
