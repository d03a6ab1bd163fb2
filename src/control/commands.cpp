#include "control/commands.h"

#include <cmath>
#include <iterator>

namespace vgpio::control {

using nlohmann::json;

namespace {

using K = ErrorKind;

Field required(const char* name, FieldType type, const char* help) { return {name, type, true, help}; }
Field optional(const char* name, FieldType type, const char* help, const char* default_json = nullptr) {
  return {name, type, false, help, default_json};
}

// Fields many commands share.
const Field kDevice = optional("device", FieldType::String, "the device; may be left out when the daemon serves one");
const Field kLine = required("line", FieldType::Line, "the line, by number or name");
// What every command on a line of a device may answer.
#define ON_A_LINE K::NoDevice, K::NoLine, K::NotAnswering

const std::vector<Command>& table() {
  static const std::vector<Command> commands = {
      {CommandId::List,
       "list",
       Role::Observe,
       {},
       "every device and line: direction, value, interrupt, holder, driver, wires"},
      {CommandId::Status, "status", Role::Observe, {}, "the daemon: device count and its sandbox"},
      {CommandId::Get, "get", Role::Observe, {kDevice, kLine}, "one line's state", {ON_A_LINE}},
      {CommandId::Set,
       "set",
       Role::Act,
       {kDevice, kLine, required("value", FieldType::Level, "the level")},
       "drives a simulated input (or a host line) to 0 or 1",
       {ON_A_LINE, K::Conflict, K::Failed}},
      {CommandId::Watch,
       "watch",
       Role::Observe,
       {optional("device", FieldType::String, "only this device's changes (default: every device's)"),
        optional("snapshot", FieldType::Bool, "first answer with the state of every line", "false"),
        optional("until", FieldType::Count,
                 "with device, on its guest's time: a \"time\" event once guest time reaches this (ns)"),
        optional("for", FieldType::Duration, "as until, this much guest time from now")},
       "turns the connection into a stream of change events; with snapshot, the state first",
       {K::NoDevice, K::NotAnswering, K::Limit, K::Unavailable}},
      {CommandId::Run,
       "run",
       Role::Act,
       {kDevice, optional("until", FieldType::Count, "hold the guest once its time reaches this (ns)"),
        optional("for", FieldType::Duration, "hold it this much guest time after its time now")},
       "steps a device's guest time: runs the guest to a time and holds it there; neither field: runs it freely",
       {K::NoDevice, K::NotAnswering, K::Conflict, K::Unavailable}},
      {CommandId::Pulse,
       "pulse",
       Role::Act,
       {kDevice, kLine, required("width", FieldType::Duration, "how long each pulse lasts"),
        optional("level", FieldType::Level, "the pulse's level", "1"),
        optional("count", FieldType::Count, "how many pulses; 0: until stopped", "1"),
        optional("period", FieldType::Duration, "from one pulse's start to the next; left out, twice the width")},
       "pulses a simulated input: count pulses of width at level, one each period",
       {ON_A_LINE, K::Conflict, K::Unavailable}},
      {CommandId::Clock,
       "clock",
       Role::Act,
       {kDevice, kLine, required("period", FieldType::Duration, "the clock's period"),
        optional("duty", FieldType::Number, "the part of the period spent high, between 0 and 1", "0.5")},
       "a square wave on a simulated input until stopped",
       {ON_A_LINE, K::Conflict, K::Unavailable}},
      {CommandId::Bounce,
       "bounce",
       Role::Act,
       {kDevice, kLine, optional("transitions", FieldType::Count, "level changes within the window", "6"),
        optional("settle", FieldType::Level, "the level it ends at; left out, the other one than now"),
        optional("window", FieldType::Duration, "how long the bouncing lasts", "\"5ms\""),
        optional("seed", FieldType::Count, "another seed gives other bounce times", "1")},
       "contact bounce on a simulated input, settling at a level",
       {ON_A_LINE, K::Conflict, K::Unavailable}},
      {CommandId::Pattern,
       "pattern",
       Role::Act,
       {kDevice, kLine,
        required("steps", FieldType::Array, "[level, duration] pairs, e.g. [[1, \"10ms\"], [0, \"5ms\"]]"),
        optional("repeat", FieldType::Count, "times through the steps; 0: until stopped", "1")},
       "plays [level, duration] steps on a simulated input",
       {ON_A_LINE, K::Conflict, K::Unavailable}},
      {CommandId::Stop,
       "stop",
       Role::Act,
       {kDevice, kLine},
       "ends the stimulus on a line",
       {ON_A_LINE, K::Unavailable}},
      {CommandId::Wire,
       "wire",
       Role::Act,
       {required("from", FieldType::String, "DEVICE:LINE, whose guest output drives the wire"),
        required("to", FieldType::String, "DEVICE:LINE, a simulated input"),
        optional("delay", FieldType::Duration, "each level arrives this much later", "0"),
        optional("invert", FieldType::Level, "the target gets the opposite level", "false")},
       "carries a line's level to another device's simulated input (DEVICE:LINE)",
       {ON_A_LINE, K::Conflict, K::Unavailable}},
      {CommandId::Unwire,
       "unwire",
       Role::Act,
       {required("from", FieldType::String, "DEVICE:LINE, the wire's source"),
        required("to", FieldType::String, "DEVICE:LINE, the wire's target")},
       "removes a wire",
       {ON_A_LINE, K::NoWire, K::Unavailable}},
      {CommandId::Wires, "wires", Role::Observe, {}, "every wire", {K::Unavailable}},
      {CommandId::Create,
       "create",
       Role::Act,
       {required("name", FieldType::String, "the device's name: 1 to 64 of A-Z a-z 0-9 _ . + -"),
        required("socket", FieldType::String, "its vhost-user socket: a file name in the create directory"),
        optional("lines", FieldType::Array,
                 "one table per line, as the config's [[device.line]]; a host line is {\"pool\": NAME}"),
        optional("lines_toml", FieldType::String,
                 "more lines as TOML [[line]] tables, as in a file (vgpio ctl create --lines); before lines"),
        optional("persist", FieldType::Bool, "keep the device after this connection closes, until destroy", "false"),
        optional("clock", FieldType::String,
                 "\"host\", or \"guest\": on its guest's time (the vgpio-clock plugin connects to SOCKET.clock)"),
        optional("clock_quantum", FieldType::String, "on guest time, the longest the guest runs between holds")},
       "makes a device at run time: simulated lines, or host lines from the config's [[pool]]",
       {K::Limit, K::Conflict, K::Unavailable, K::Failed}},
      {CommandId::Destroy,
       "destroy",
       Role::Act,
       {required("device", FieldType::String, "a device made at run time")},
       "removes a device made at run time",
       {K::NoDevice, K::Conflict}},
#ifdef VGPIO_SANDBOX_PROBE
      {CommandId::SandboxProbe,
       "sandbox-probe",
       Role::Act,
       {kDevice, optional("chip", FieldType::String, "also open this GPIO chip, one the device was not given"),
        optional("pid", FieldType::Count, "also signal this process (a sibling instance)"),
        optional("socket", FieldType::String, "also connect to this socket (a sibling's control socket)")},
       "what the device thread may do",
       {K::NoDevice, K::NotAnswering, K::Unavailable},
       true},
#endif
  };
  return commands;
}
#undef ON_A_LINE

struct KindEntry {
  ErrorKind kind;
  const char* name;
  const char* meaning;
};
constexpr KindEntry kKinds[] = {
    {K::BadRequest, "bad-request",
     "not JSON, not an object, an unknown command or field, a field of the wrong type or left out, a value out of "
     "range"},
    {K::NotPermitted, "not-permitted", "the client's user may not do this: its role, or it did not make the device"},
    {K::Limit, "limit", "too many control connections or devices made at run time, in all or for this user"},
    {K::NoDevice, "no-device", "no device of that name"},
    {K::NoLine, "no-line", "the device has no such line"},
    {K::NoWire, "no-wire", "no wire from that line to that line"},
    {K::Conflict, "conflict",
     "the line or device does not allow it now: a host line or guest output where a simulated input is needed, a "
     "line another wire drives, a loop of wires, a name or pool line in use, a device of the config file"},
    {K::Unavailable, "unavailable", "this daemon does not offer it: no simulation, no devices made at run time"},
    {K::NotAnswering, "not-answering", "the device's thread did not answer within 0.5 s (see the daemon's log)"},
    {K::Failed, "failed", "the system refused; the error says why"},
};
constexpr ErrorKind kCommon[] = {K::BadRequest, K::NotPermitted, K::Limit};

bool has_type(const json& v, FieldType type) {
  switch (type) {
    case FieldType::String: return v.is_string();
    case FieldType::Bool: return v.is_boolean();
    case FieldType::Level: return v.is_boolean() || (v.is_number_unsigned() && v.get<uint64_t>() <= 1);
    case FieldType::Count: return v.is_number_unsigned();
    case FieldType::Number: return v.is_number() && std::isfinite(v.get<double>());
    case FieldType::Duration: return v.is_string() || (v.is_number() && std::isfinite(v.get<double>()));
    case FieldType::Line: return v.is_string() || v.is_number_unsigned();
    case FieldType::Array: return v.is_array();
  }
  return false;
}

std::string field_names(const Command& c) {
  std::string out;
  for (const auto& f : c.fields) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out.empty() ? "none" : out;
}

}  // namespace

std::span<const Command> commands() { return table(); }

const Command* find_command(std::string_view name) {
  for (const auto& c : table())
    if (name == c.name) return &c;
  return nullptr;
}

std::string command_names() {
  std::string out;
  for (const auto& c : table()) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

std::span<const ErrorKind> error_kinds() {
  static const std::vector<ErrorKind> kinds = [] {
    std::vector<ErrorKind> out;
    for (const auto& k : kKinds) out.push_back(k.kind);
    return out;
  }();
  return kinds;
}

std::span<const ErrorKind> common_errors() { return kCommon; }

const KindEntry& entry_of(ErrorKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k;
  return kKinds[std::size(kKinds) - 1];  // Failed: every kind is in the list
}

const char* kind_name(ErrorKind kind) { return entry_of(kind).name; }
const char* describe(ErrorKind kind) { return entry_of(kind).meaning; }

const Field* find_field(const Command& command, std::string_view name) {
  for (const auto& f : command.fields)
    if (name == f.name) return &f;
  return nullptr;
}

const char* role_name(Role role) { return role == Role::Act ? "act" : "observe"; }

const char* describe(FieldType type) {
  switch (type) {
    case FieldType::String: return "a string";
    case FieldType::Bool: return "true or false";
    case FieldType::Level: return "0 or 1 (or false or true)";
    case FieldType::Count: return "a whole number, 0 or more";
    case FieldType::Number: return "a number";
    case FieldType::Duration: return "a duration such as \"10ms\", or a number of seconds";
    case FieldType::Line: return "a line number or a line name";
    case FieldType::Array: return "a list";
  }
  return "?";
}

Result<void> check_request(const Command& command, const json& request) {
  for (const auto& [key, value] : request.items()) {
    if (key == "cmd") continue;
    const Field* field = find_field(command, key);
    if (!field)
      return Error("\"" + key + "\" is not a field of " + command.name + " (its fields: " + field_names(command) + ")");
    if (!has_type(value, field->type))
      return Error("\"" + key + "\" must be " + describe(field->type) + ", not " + value.type_name());
  }
  for (const auto& f : command.fields)
    if (f.required && !request.contains(f.name))
      return Error(std::string("\"") + f.name + "\" is required: " + describe(f.type));
  return ok();
}

json with_defaults(const Command& command, json request) {
  for (const auto& f : command.fields)
    if (f.default_json && !request.contains(f.name)) request[f.name] = json::parse(f.default_json);
  return request;
}

}  // namespace vgpio::control
