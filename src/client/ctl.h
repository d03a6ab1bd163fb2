// `vgpio ctl`: a client of the control socket, and nothing of the daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// Declared only: CLI11's header costs seconds in every file that includes it.
namespace CLI {
class App;
}

namespace vgpio::client {

struct CtlOptions {
  std::string control = "./vgpio.sock.ctl";
  bool json = false;
  bool markdown = false;  // `commands`: the protocol reference as docs/control.md has it
  std::function<int()> run;  // set by the subcommand given
  // What the subcommands take; each uses some.
  std::string device, line, from, to;
  int value = 0;
  std::string width, period, window, delay;  // durations, checked by the daemon
  uint64_t count = 1, transitions = 6, repeat = 1, seed = 1;
  int level = 1;
  std::optional<int> settle;
  double duty = 0.5;
  bool invert = false;
  std::vector<std::string> steps;  // LEVEL:DURATION
  std::string timeout = "5s", duration, vcd;
  std::vector<std::string> lines;
  // create: NAME SOCKET, its lines, and whether it outlives the command
  std::string socket, lines_file;
  bool persist = false;
};
// Adds `vgpio ctl`'s subcommands (ctl.cpp); the one given sets options.run.
void add_ctl_commands(CLI::App& ctl, CtlOptions& options);

}  // namespace vgpio::client
