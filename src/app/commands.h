// The subcommands of the `vgpio` program.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/daemon_config.h"

// Declared only: CLI11's header costs seconds in every file that includes it.
namespace CLI {
class App;
}

namespace vgpio::app {

int check(const std::string& config_file);

struct ServeOptions {
  std::string config;  // a config file instead of the options below
  std::string socket = "./vgpio.sock";
  std::string control;  // default: <socket>.ctl
  std::string name = "vgpio0";
  unsigned sim = 8;
  std::string names_csv;           // "a,b,,d": one per line, empty for an unnamed line
  std::vector<std::string> lines;  // --line NAME=CHIP:OFFSET[:dir] ..., instead of --sim
  bool no_irq = false;
  bool connect = false;
  bool guest_clock = false;   // --guest-clock: on the guest's time, plugin at <socket>.clock
  std::string clock_quantum;  // --clock-quantum
  unsigned mode = 0600;
  int fd = -1;              // --fd: a listening socket handed over, for the one device
  std::string user, group;  // --user/--group: whom a root daemon becomes (else the config's)
  bool no_sandbox = false;
};
int serve(const ServeOptions& options);
// Execs vgpio-panel, the web panel over the control socket.
int run_panel(const std::string& control, const std::string& listen);

struct ProbeOptions {
  std::string socket;
  bool qemu72 = false;
  bool json = false;
};
int probe(const ProbeOptions& options);

// Builds the lines of `vgpio serve --sim N [--names ...]`.
Result<std::vector<std::unique_ptr<lines::Line>>> simulated_lines(unsigned count,
                                                                  const std::vector<std::string>& names);
// Splits "a,b,,d" into {"a", "b", "", "d"}; "" gives no names at all.
std::vector<std::string> split_names(const std::string& csv);

}  // namespace vgpio::app
