// The control protocol as one table: each command with its fields, their
// types and a line of help. The server checks every request against its
// entry before a handler runs, so a handler meets only fields of the right
// type; the "unknown command" answer, `vgpio ctl commands` and the reference
// in docs/control.md are read from here. (The handlers are the server's: the
// table stays free of the daemon, for the clients.)
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vgpio::control {

enum class FieldType {
  String,
  Bool,
  Level,     // 0, 1, false or true
  Count,     // a whole number, 0 or more
  Number,    // any finite number
  Duration,  // "10ms", "250us", or a number of seconds
  Line,      // a line number or a line name
  Array,
};

struct Field {
  const char* name;
  FieldType type;
  bool required = false;
};

// Who may send a command (control/access is decided per connection).
enum class Role {
  Observe,  // reads state: list, get, watch...
  Act,      // changes something: set, stimuli, wires, create, destroy
};
const char* role_name(Role role);

struct Command {
  const char* name;
  Role role;
  std::vector<Field> fields;
  const char* help;
  bool test_only = false;  // in test builds only: not part of the protocol
};

// Every command, in the order the docs list them.
std::span<const Command> commands();
const Command* find_command(std::string_view name);
// "list, status, get, ...": for messages.
std::string command_names();
// What a field's type accepts, in words ("a duration such as \"10ms\"...").
const char* describe(FieldType type);

// The request's fields against the command's entry: every required field is
// there, none is unknown, each has its type. The error names the field.
Result<void> check_request(const Command& command, const nlohmann::json& request);

}  // namespace vgpio::control
