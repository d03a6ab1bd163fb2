#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/commands.h"
#include "base/log.h"
#include "client/ctl.h"

// CLI11_PARSE catches the parse errors; anything else that escapes is a bug,
// and std::terminate names it.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  using namespace vgpio;
  CLI::App app{"vgpio: a virtio-gpio vhost-user device daemon"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "vgpio " VGPIO_VERSION);
  std::string level = "info";
  app.add_option("--log-level", level, "debug, info, warn, error or off")->capture_default_str();

  // QEMU's vhost-user "backend program conventions" (docs/interop/vhost-user.rst):
  // a management layer runs `vgpio --socket-path=PATH` or `vgpio --fd=N`.
  app::ServeOptions serve;
  bool print_capabilities = false;
  app.add_flag("--print-capabilities", print_capabilities, "print the backend's capabilities (JSON) and exit");
  app.add_option("--socket-path", serve.socket, "serve the simulated default device on this socket");
  app.add_option("--fd", serve.fd, "serve the simulated default device on this listening socket");

  CLI::App* serve_cmd = app.add_subcommand("serve", "serve a virtio-gpio device over vhost-user");
  serve_cmd->add_option("--config", serve.config, "serve the devices of a config file (TOML)");
  serve_cmd->add_option("--socket,--socket-path", serve.socket, "device socket path")->capture_default_str();
  serve_cmd->add_option("--fd", serve.fd, "serve this listening socket (handed over by a management layer)");
  serve_cmd->add_option("--control", serve.control, "control socket path (default: <socket>.ctl)");
  serve_cmd->add_option("--name", serve.name, "device name")->capture_default_str();
  serve_cmd->add_option("--sim", serve.sim, "number of simulated lines")
      ->capture_default_str()
      ->check(CLI::Range(1u, 65535u));
  serve_cmd->add_option("--line", serve.lines,
                        "a line: NAME=CHIP:OFFSET[:in|out], NAME=@HOSTNAME[:in|out] or NAME=sim (repeat; "
                        "replaces --sim)");
  serve_cmd->add_option("--names", serve.names_csv, "line names, comma separated (empty for an unnamed line)");
  serve_cmd->add_flag("--no-irq", serve.no_irq, "do not offer interrupts (VIRTIO_GPIO_F_IRQ)");
  serve_cmd->add_flag("--connect", serve.connect,
                      "connect to --socket, where QEMU listens (-chardev socket,server=on), and reconnect "
                      "whenever either side restarts");
  serve_cmd->add_flag("--guest-clock", serve.guest_clock,
                      "stimuli on the guest's time: QEMU with -icount shift=N,sleep=off and the vgpio-clock plugin "
                      "(-plugin .../vgpio-clock.so,socket=<socket>.clock) holds the guest when one is due");
  serve_cmd->add_option("--clock-quantum", serve.clock_quantum,
                        "with --guest-clock: the longest the guest runs between holds (default 10ms)");
  serve_cmd->add_option("--user", serve.user, "started as root: run as this user once set up (name or uid)");
  serve_cmd->add_option("--group", serve.group, "with --user: this group instead of the user's own (name or gid)");
  serve_cmd->add_flag("--no-sandbox", serve.no_sandbox,
                      "no seccomp filter, Landlock or no_new_privs (for debugging only)");
  serve_cmd->add_option("--socket-mode", serve.mode, "socket permissions, octal")
      ->capture_default_str()
      ->transform([](std::string s) { return std::to_string(std::stoul(s, nullptr, 8)); });

  std::string check_file;
  CLI::App* check_cmd = app.add_subcommand("check", "validate a config file: syntax, host lines exist and are free");
  check_cmd->add_option("file", check_file, "config file")->required();

  client::CtlOptions ctl;
  CLI::App* ctl_cmd = app.add_subcommand("ctl", "inspect and drive a running daemon");
  ctl_cmd->add_option("--control", ctl.control, "control socket path")->capture_default_str();
  ctl_cmd->add_flag("--json", ctl.json, "print raw JSON");
  client::add_ctl_commands(*ctl_cmd, ctl);

  std::string panel_control = "./vgpio.sock.ctl", panel_listen = "127.0.0.1:8080";
  CLI::App* panel_cmd = app.add_subcommand("panel", "every line in the browser, live (runs vgpio-panel)");
  panel_cmd->add_option("--control", panel_control, "the daemon's control socket")->capture_default_str();
  panel_cmd->add_option("--listen", panel_listen, "ADDRESS:PORT to serve on (loopback unless named)")
      ->capture_default_str();

  app::ProbeOptions probe;
  CLI::App* probe_cmd =
      app.add_subcommand("probe", "print config, names and directions of any vhost-user-gpio backend");
  probe_cmd->add_option("socket", probe.socket, "vhost-user socket")->required();
  probe_cmd->add_flag("--qemu72", probe.qemu72, "connect as QEMU 7.2 does (no interrupts, queues of 256)");
  probe_cmd->add_flag("--json", probe.json, "print JSON");

  CLI11_PARSE(app, argc, argv);
  LogLevel parsed;
  if (!parse_log_level(level, &parsed)) {
    std::fprintf(stderr, "vgpio: --log-level must be debug, info, warn, error or off, not \"%s\"\n", level.c_str());
    return 2;
  }
  set_log_level(parsed);
  if (print_capabilities) {
    std::printf("{\"type\": \"gpio\"}\n");  // vhost-user.json: VHostUserBackendCapabilities
    return 0;
  }
  if (*serve_cmd || app.count("--socket-path") || app.count("--fd")) return app::serve(serve);
  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  if (*ctl_cmd) return ctl.run();
  if (*check_cmd) return app::check(check_file);
  if (*panel_cmd) return app::run_panel(panel_control, panel_listen);
  return app::probe(probe);
}
