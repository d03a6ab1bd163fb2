// What `vgpio ctl`'s subcommands share (ctl.cpp), and the files that add
// them: the table's commands (ctl_table.cpp), the event stream's (watch,
// wait, record: ctl_stream.cpp), create (ctl_create.cpp), the reference
// (ctl_reference.cpp) and how answers are shown (ctl_print.cpp).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "client/ctl.h"
#include "control/commands.h"

namespace vgpio::control {
struct Command;
}

namespace vgpio::client {

// A LINE argument that is all digits is a line number; anything else a name.
nlohmann::json line_arg(const std::string& s);
// Sends one request; prints the answer with `print`, or as JSON with --json.
int call_and_print(const CtlOptions& o, const nlohmann::json& request,
                   const std::function<void(const nlohmann::json&)>& print);
// Shows a command's answer to a person.
void print_answer(control::CommandId id, const nlohmann::json& answer);
// Prints "vgpio ctl CMD: MESSAGE" and returns `code`, the exit status.
int fail(const char* cmd, const std::string& message, int code);
// From here on, Ctrl-C and SIGTERM only set stop_requested(), so a command
// can finish its work (a recording's file, say) before it exits; a wait in
// ControlClient::next returns at once.
void stop_on_signals();
bool stop_requested();

void add_table_command(CLI::App& ctl, const control::Command& command, CtlOptions& o);
void add_stream_commands(CLI::App& ctl, CtlOptions& o);
void add_create_command(CLI::App& ctl, CtlOptions& o);
void add_reference_command(CLI::App& ctl, CtlOptions& o);

}  // namespace vgpio::client
