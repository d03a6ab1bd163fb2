// The control protocol as one table: each command with its fields (type,
// default, help) and the kinds of error it may answer. The server checks
// every request against its entry and fills in the defaults before a handler
// runs, so a handler meets only fields of the right type. Everything else is
// read from here: the "unknown command" answer, `vgpio ctl`'s subcommands,
// the man page vgpio-control(7), docs/control.md and the Python client's
// check. (The handlers are the server's: the table stays free of the daemon,
// for the clients.)
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  const char* help = "";
  // What the server puts in when the field is left out, as JSON text; null:
  // nothing, and `help` says what its absence means.
  const char* default_json = nullptr;
};

// Every refusal carries one of these as "error_kind", beside the "error"
// sentence: clients and tests decide on the kind, people read the sentence.
enum class ErrorKind {
  BadRequest,    // not JSON, an unknown command or field, a wrong type, a value out of range
  NotPermitted,  // the client's user may not do this (its role, or not the device's maker)
  Limit,         // too many connections or devices, in all or for this user
  NoDevice,      // no device of that name
  NoLine,        // the device has no such line
  NoWire,        // no such wire
  Conflict,      // the line or device is not in a state that allows it
  Unavailable,   // this daemon does not offer it (no simulation, no devices made at run time)
  NotAnswering,  // the device's thread did not answer in time
  Failed,        // the system said no; the sentence says why
};
const char* kind_name(ErrorKind kind);
const char* describe(ErrorKind kind);
// Every kind, in the order the docs list them.
std::span<const ErrorKind> error_kinds();
// The kinds every command may answer besides its own: a bad request, a user
// who may not, a connection too many.
std::span<const ErrorKind> common_errors();

// Who may send a command (control/access is decided per connection).
enum class Role {
  Observe,  // reads state: list, get, watch...
  Act,      // changes something: set, stimuli, wires, create, destroy
};
const char* role_name(Role role);

// Each command's id: the server finds a command's handler by it, and
// `vgpio ctl` its printer; the name is matched only here (find_command).
enum class CommandId {
  List,
  Status,
  Get,
  Set,
  Watch,
  Run,
  Pulse,
  Clock,
  Bounce,
  Pattern,
  Stop,
  Wire,
  Unwire,
  Wires,
  Create,
  Destroy,
  SandboxProbe,
};

struct Command {
  CommandId id;
  const char* name;
  Role role;
  std::vector<Field> fields;
  const char* help;
  std::vector<ErrorKind> errors = {};  // besides common_errors()
  bool test_only = false;              // in test builds only: not part of the protocol
};

// Every command, in the order the docs list them.
std::span<const Command> commands();
const Command* find_command(std::string_view name);
// "list, status, get, ...": for messages.
std::string command_names();
// What a field's type accepts, in words ("a duration such as \"10ms\"...").
const char* describe(FieldType type);

const Field* find_field(const Command& command, std::string_view name);

// The request's fields against the command's entry: every required field is
// there, none is unknown, each has its type. The error names the field.
Result<void> check_request(const Command& command, const nlohmann::json& request);
// The request with the table's default for each field left out.
nlohmann::json with_defaults(const Command& command, nlohmann::json request);

}  // namespace vgpio::control
