#include "app/host_setup.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "base/log.h"
#include "base/strings.h"
#include "config/create_request.h"
#include "lines/sim_line.h"

namespace vgpio::app {
namespace {

std::string where(const config::ConfigSpec& spec, const config::DeviceSpec& d, size_t i) {
  return strfmt("%s:%d: device \"%s\" line %zu", spec.file.c_str(), d.lines[i].source_line.number, d.name.c_str(), i);
}

lines::HostLineSource source_of(const config::LineSpec& l) { return {l.chip, l.offset.value_or(0), l.host_name}; }

}  // namespace

Result<std::vector<ResolvedDevice>> resolve(const config::ConfigSpec& spec) {
  std::vector<ResolvedDevice> out;
  std::map<std::pair<std::string, unsigned>, std::string> taken;  // host line -> where it was given
  // The resolved chip and offset, not the names: one chip may be named by
  // path, by gpiochipN and by label, and one line by offset and by name.
  auto give = [&taken](const lines::HostLineRef& ref, const std::string& at) -> Result<void> {
    auto [it, fresh] = taken.emplace(std::make_pair(ref.chip_path, ref.offset), at);
    if (!fresh)
      return Error(strfmt("%s: %s line %u is already given at %s; a host line belongs to one place only", at.c_str(),
                          ref.chip_path.c_str(), ref.offset, it->second.c_str()));
    return ok();
  };
  for (const auto& d : spec.devices) {
    ResolvedDevice dev;
    for (size_t i = 0; i < d.lines.size(); ++i) {
      const config::LineSpec& l = d.lines[i];
      std::string at = where(spec, d, i);
      if (l.simulated) {
        dev.push_back({&l, std::nullopt});
        continue;
      }
      lines::HostLineRef ref = TRY(lines::resolve_line(source_of(l)).error_context(at));
      TRY(give(ref, at));
      dev.push_back({&l, ref});
    }
    out.push_back(std::move(dev));
  }
  // A pool line is a device's line as soon as a client asks for it: one
  // owner per physical line holds across devices and pools alike.
  for (const auto& l : spec.pool) {
    std::string at = strfmt("%s:%d: pool line \"%s\"", spec.file.c_str(), l.source_line.number, l.name.c_str());
    TRY(give(TRY(lines::resolve_line(source_of(l)).error_context(at)), at));
  }
  return out;
}

std::string default_control_socket(const std::string& device_socket) {
  const char* runtime = std::getenv("RUNTIME_DIRECTORY");
  if (!runtime || !*runtime) return device_socket + ".ctl";
  std::string dir(runtime);
  return dir.substr(0, dir.find(':')) + "/control.sock";
}

Result<DaemonConfig> daemon_config(const config::ConfigSpec& spec) {
  auto resolved = TRY(resolve(spec));
  DaemonConfig config;
  config.settings = spec.root;
  if (config.settings.control.empty()) config.settings.control = default_control_socket(spec.devices.front().socket);
  for (size_t d = 0; d < spec.devices.size(); ++d) {
    const config::DeviceSpec& dev = spec.devices[d];
    DeviceConfig dc;
    dc.name = dev.name;
    dc.socket = dev.socket;
    dc.connect = dev.connect;
    dc.clock = dev.clock;
    dc.origin = DeviceConfig::Origin{dev, spec.root.access};
    // The lines are made on the device's own loop; copy what they need.
    std::vector<std::pair<config::LineSpec, std::optional<lines::HostLineRef>>> lines;
    for (const auto& r : resolved[d]) lines.push_back({*r.spec, r.host});
    dc.make_lines = [lines,
                     consumer = "vgpio-" + dev.name](EventLoop& loop,
                                                     std::shared_ptr<lines::RequestKeeper> keeper) -> Result<Lines> {
      Lines out;
      // One per device loop, shared by its host lines.
      std::shared_ptr<lines::ChipMonitor> chips;
      bool any_host = std::any_of(lines.begin(), lines.end(), [](const auto& l) { return l.second.has_value(); });
      if (any_host) {
        auto made = lines::ChipMonitor::create(loop);
        if (made) chips = made.release_value();
        else
          LOG_WARN("%s: a host chip that goes away will not be picked up again until vgpio restarts",
                   made.error().message().c_str());
      }
      for (const auto& [l, host] : lines) {
        if (!host) {
          out.push_back(std::make_unique<lines::SimLine>(l.name, l.policy));
          continue;
        }
        lines::HostLineSettings s{*host, source_of(l), consumer, l.active_low, l.bias, l.debounce, keeper};
        out.push_back(TRY(lines::HostLine::create(l.name, l.policy, s, loop, chips)));
      }
      return out;
    };
    config.devices.push_back(std::move(dc));
  }
  for (const auto& w : spec.wires)
    config.wires.push_back(sim::WireSpec{w.from_device, w.from_line, w.to_device, w.to_line, w.delay, w.invert});
  config.make_device = [spec](const nlohmann::json& request) { return created_device_config(request, spec); };
  return config;
}

Result<DeviceConfig> created_device_config(const nlohmann::json& request, const config::ConfigSpec& config) {
  config::DeviceSpec device = TRY(config::parse_create_request(request, config.pool));
  config::ConfigSpec one;
  one.file = config.file.empty() ? "create request" : config.file;  // pool lines are the file's
  one.root.access = config.root.access;
  one.devices.push_back(device);
  DaemonConfig made = TRY(daemon_config(one));
  DeviceConfig spec = std::move(made.devices.front());
  for (const auto& l : device.lines)
    if (!l.pool.empty()) spec.pool_lines.push_back(l.pool);
  return spec;
}

}  // namespace vgpio::app
