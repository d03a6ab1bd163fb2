// `vgpio ctl`: a client of the control socket, and nothing of the daemon.
#pragma once

#include <functional>
#include <string>

// Declared only: CLI11's header costs seconds in every file that includes it.
namespace CLI {
class App;
}

namespace vgpio::client {

// What every subcommand shares; each keeps its own options besides.
struct CtlOptions {
  std::string control = "./vgpio.sock.ctl";
  bool json = false;
  std::function<int()> run;  // set by the subcommand given
};
// Adds `vgpio ctl`'s subcommands: one per command of the protocol's table
// (ctl_table.cpp), those that read the event stream (ctl_stream.cpp), create
// (ctl_create.cpp) and `commands`, the protocol reference (ctl_reference.cpp).
void add_ctl_commands(CLI::App& ctl, CtlOptions& options);

}  // namespace vgpio::client
