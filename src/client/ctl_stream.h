// The `vgpio ctl` subcommands that read the event stream (watch, wait,
// record), those that make devices (create, destroy), and what they share
// with the others (ctl.cpp).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "client/ctl.h"

namespace vgpio::client {

// A LINE argument that is all digits is a line number; anything else a name.
nlohmann::json line_arg(const std::string& s);
// Sends one request; prints the answer with `print`, or as JSON with --json.
int call_and_print(const CtlOptions& o, const nlohmann::json& request,
                   const std::function<void(const nlohmann::json&)>& print);
void add_stream_commands(CLI::App& ctl, CtlOptions& o);
// Prints "vgpio ctl CMD: MESSAGE" and returns `code`, the exit status.
int fail(const char* cmd, const std::string& message, int code);
// From here on, Ctrl-C and SIGTERM only set stop_requested(), so a command
// can finish its work (a recording's file, say) before it exits; a wait in
// ControlClient::next returns at once.
void stop_on_signals();
bool stop_requested();
// create and destroy (ctl_create.cpp).
void add_create_commands(CLI::App& ctl, CtlOptions& o);

}  // namespace vgpio::client
