// From a config file to a running daemon's devices: every host line resolved
// (chip by path, gpiochipN or label; line by offset or name), checked to
// exist, and given to one device only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/daemon_config.h"
#include "lines/host_chips.h"

namespace vgpio::app {

using daemon::DaemonConfig;
using daemon::DeviceConfig;
using daemon::Lines;

struct ResolvedLine {
  const config::LineSpec* spec;
  std::optional<lines::HostLineRef> host;  // nullopt for a simulated line
};
using ResolvedDevice = std::vector<ResolvedLine>;

// Fails with "file:line: device ... line N: what" on a missing chip or line,
// or a host line given twice (in one device or across devices).
Result<std::vector<ResolvedDevice>> resolve(const config::ConfigSpec& spec);

// Also sets make_device: devices made at run time take host lines from the
// spec's [[pool]] only.
Result<DaemonConfig> daemon_config(const config::ConfigSpec& spec);

// A control client's "create" request ({"name", "socket", "lines": [...]})
// as a device of `config` (the request is read by config/create_request.cpp).
Result<DeviceConfig> created_device_config(const nlohmann::json& request, const config::ConfigSpec& config);

// Where the control socket goes when nobody says: beside the device socket,
// or under systemd in the service's RuntimeDirectory= (the one place a
// hardened service may write).
std::string default_control_socket(const std::string& device_socket);

}  // namespace vgpio::app
