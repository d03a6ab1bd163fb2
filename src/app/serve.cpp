#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "app/commands.h"
#include "app/host_setup.h"
#include "app/sandbox_setup.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/paths.h"
#include "daemon/daemon.h"
#include "lines/sim_line.h"

namespace vgpio::app {

Result<std::vector<std::unique_ptr<lines::Line>>> simulated_lines(unsigned count,
                                                                  const std::vector<std::string>& names) {
  if (!names.empty() && names.size() != count)
    return Error("--names gives " + std::to_string(names.size()) + " names for " + std::to_string(count) +
                 " lines; give one per line");
  for (const auto& name : names) TRY(config::check_line_name(name).error_context("--names \"" + name + "\""));
  std::vector<std::unique_ptr<lines::Line>> lines;
  for (unsigned i = 0; i < count; ++i)
    lines.push_back(std::make_unique<lines::SimLine>(names.empty() ? "sim" + std::to_string(i) : names[i]));
  return lines;
}

std::vector<std::string> split_names(const std::string& csv) {
  std::vector<std::string> names;
  if (csv.empty()) return names;
  size_t start = 0;
  for (;;) {
    size_t comma = csv.find(',', start);
    names.push_back(csv.substr(start, comma - start));
    if (comma == std::string::npos) return names;
    start = comma + 1;
  }
}

namespace {

void print_qemu_help(const DaemonConfig& config) {
  std::printf("vgpio is serving:\n");
  for (const auto& d : config.devices)
    std::printf("  device %-10s %s\n", d.name.c_str(), absolute_path(d.socket).c_str());
  if (!config.settings.control.empty())
    std::printf("  control        %s\n", absolute_path(config.settings.control).c_str());
  std::printf(
      "\nAttach to QEMU (9.0 or later for interrupts); memory must be a shared memfd of the -m size:\n"
      "  qemu-system-x86_64 -m 512M -object memory-backend-memfd,id=mem,size=512M,share=on \\\n"
      "    -numa node,memdev=mem");
  // With --connect QEMU listens (and waits for vgpio before the guest starts).
  for (const auto& d : config.devices)
    std::printf(" \\\n    -chardev socket,id=%s,path=%s%s -device vhost-user-gpio-pci,chardev=%s", d.name.c_str(),
                absolute_path(d.socket).c_str(), d.connect ? ",server=on" : "", d.name.c_str());
  std::printf("\n\nInspect and drive lines: vgpio ctl --control %s list\n",
              absolute_path(config.settings.control).c_str());
  std::fflush(stdout);
}
}  // namespace

Result<config::ClockSpec> clock_option(const ServeOptions& options) {
  config::ClockSpec clock{.guest = options.guest_clock};
  if (options.clock_quantum.empty()) return clock;
  if (!options.guest_clock) return Error("--clock-quantum applies with --guest-clock only");
  clock.quantum = TRY(config::parse_clock_quantum(options.clock_quantum).error_context("--clock-quantum"));
  return clock;
}

// The --line form is a one-device config, resolved exactly as a file is.
Result<config::ConfigSpec> spec_from_line_options(const ServeOptions& options) {
  config::ConfigSpec spec;
  spec.file = "command line";
  spec.root.access.mode = static_cast<mode_t>(options.mode);
  config::DeviceSpec device{.name = options.name,
                            .socket = options.socket,
                            .connect = options.connect,
                            .clock = TRY(clock_option(options))};
  for (const auto& text : options.lines) device.lines.push_back(TRY(config::parse_line_option(text)));
  spec.devices.push_back(std::move(device));
  return spec;
}

// The options that apply whichever way in, and win over the file's settings:
// at start-up and at every reload alike.
void apply_common_options(const ServeOptions& options, DaemonConfig& config) {
  if (!options.control.empty()) config.settings.control = options.control;
  if (!options.user.empty()) config.settings.user = options.user;
  if (!options.group.empty()) config.settings.group = options.group;
  config.offer_irq = !options.no_irq;
}

// Three ways in (a file, --line, --sim); the options that apply to all last.
Result<DaemonConfig> config_from_options(const ServeOptions& options) {
  DaemonConfig config;
  TRY(config::check_name(options.name).error_context("--name"));
  if (!options.config.empty()) {
    if (options.guest_clock || !options.clock_quantum.empty())
      return Error(
          "--guest-clock and --clock-quantum are for a device made from options; in a config file, say "
          "clock = \"guest\" in its [[device]]");
    // The same reading at start-up and at every SIGHUP.
    auto read_file = [options]() -> Result<DaemonConfig> {
      config::ConfigSpec spec = TRY(config::load(options.config));
      DaemonConfig read = TRY(daemon_config(spec));
      apply_common_options(options, read);
      return read;
    };
    config = TRY(read_file());
    config.reload = read_file;
  } else if (!options.lines.empty()) {
    config::ConfigSpec spec = TRY(spec_from_line_options(options));
    config = TRY(daemon_config(spec));
  } else {
    auto lines = TRY(simulated_lines(options.sim, split_names(options.names_csv)));
    config.devices.push_back(DeviceConfig{.name = options.name,
                                          .socket = options.socket,
                                          .lines = std::move(lines),
                                          .connect = options.connect,
                                          .clock = TRY(clock_option(options))});
    config.settings.control = default_control_socket(options.socket);
    config.settings.access.mode = static_cast<mode_t>(options.mode);
    // Without a file there is no [[pool]]: devices made at run time are simulated.
    config::ConfigSpec none;
    none.root.access = config.settings.access;
    config.make_device = [none](const nlohmann::json& request) { return created_device_config(request, none); };
  }
  apply_common_options(options, config);
  return config;
}

// Sockets from systemd (socket activation) and from --fd.
Result<void> take_sockets(const ServeOptions& options, DaemonConfig& config) {
  service::StoredFds kept;
  config.sockets = TRY(service::take_listen_fds(restart::Carryover::kept_prefixes(), kept));
  config.carryover = std::make_shared<restart::Carryover>(service::FdStore::from_environment(), std::move(kept));
  if (options.fd < 0) return ok();
  if (config.devices.size() != 1)
    return Error("--fd hands over one socket, for one device; this config has " +
                 std::to_string(config.devices.size()) + " (use socket activation, or one config per device)");
  DeviceConfig& device = config.devices.front();
  auto socket = TRY(service::adopt_listening_fd(options.fd, device.name).error_context("--fd"));
  if (!socket.path.empty()) device.socket = socket.path;
  if (options.control.empty() && options.config.empty())
    config.settings.control = default_control_socket(device.socket);
  config.sockets.push_back(std::move(socket));
  return ok();
}

namespace {
std::string sandbox_summary(const service::SandboxState& s) {
  return "sandbox: running as " + s.user + ", no_new_privs, seccomp " + s.seccomp + ", Landlock " + s.landlock;
}
}  // namespace

int serve(const ServeOptions& options) {
  auto built = config_from_options(options);
  if (!built) {
    LOG_ERROR("%s", built.error().message().c_str());
    return 2;
  }
  DaemonConfig config = built.release_value();
  if (auto r = take_sockets(options, config); !r) {
    LOG_ERROR("%s", r.error().message().c_str());
    return 2;
  }
  // Names are looked up now: the sandbox hides /etc/passwd later.
  auto who = service::resolve_identity(config.settings.user, config.settings.group);
  if (!who) {
    LOG_ERROR("%s", who.error().message().c_str());
    return 2;
  }
  tzset();  // likewise /etc/localtime
  daemon::Daemon::block_signals();
  service::SandboxState sandbox;
  if (options.no_sandbox) {
    LOG_WARN(
        "sandbox: OFF (--no-sandbox). A bug in vgpio reached by a guest or a frontend could do anything this "
        "process may do. Use this only to find out whether the sandbox is in the way, and report it");
  } else if (auto r = sandbox_before_start(filesystem_needs(options, config), sandbox); !r) {
    LOG_ERROR("cannot set up the sandbox: %s (--no-sandbox runs without it)", r.error().message().c_str());
    return 1;
  }
  std::shared_ptr<restart::Carryover> carryover = config.carryover;
#ifdef VGPIO_SANDBOX_PROBE
  config.sandbox_probe = probe_sandbox_json;
#endif
  DaemonConfig shown;
  for (const auto& d : config.devices)
    shown.devices.push_back(DeviceConfig{.name = d.name, .socket = d.socket, .connect = d.connect});
  shown.settings.control = config.settings.control;
  auto made = daemon::Daemon::create(std::move(config));
  if (!made) {
    LOG_ERROR("cannot start: %s", made.error().message().c_str());
    return 1;
  }
  if (auto r = sandbox_after_start(who.value(), !options.no_sandbox, sandbox); !r) {
    LOG_ERROR("cannot set up the sandbox: %s (--no-sandbox runs without it)", r.error().message().c_str());
    return 1;  // the daemon's destructor puts outputs to their safe levels
  }
  if (sandbox.enabled) LOG_INFO("%s", sandbox_summary(sandbox).c_str());
  if (auto r = made.value()->start(); !r) {
    LOG_ERROR("cannot start: %s", r.error().message().c_str());
    return 1;
  }
  made.value()->set_status([sandbox, carryover] {
    nlohmann::json j = sandbox_json(sandbox);
    j["restart"] = {{"kept", carryover->enabled()}, {"report", carryover->report()}};
    return j;
  });
  print_qemu_help(shown);
  made.value()->run();
  made.value().reset();  // every device stops, within RunningDevice::kStopDeadline
  // A device thread that is stuck cannot be waited for, and must not meet
  // the exit's destructors: leave at once (the kernel releases its lines).
  if (daemon::Daemon::threads_left_behind() > 0) {
    std::fflush(nullptr);
    _exit(1);
  }
  return 0;
}

}  // namespace vgpio::app
