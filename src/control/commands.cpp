#include "control/commands.h"

#include <cmath>

namespace vgpio::control {

using nlohmann::json;

namespace {

// Fields many commands share.
constexpr Field kDevice{"device", FieldType::String};  // required only when the daemon has several
constexpr Field kLine{"line", FieldType::Line, true};

const std::vector<Command>& table() {
  static const std::vector<Command> commands = {
      {"list", Role::Observe, {}, "every device and line: direction, value, interrupt, holder, driver, wires"},
      {"status", Role::Observe, {}, "the daemon: device count and its sandbox"},
      {"get", Role::Observe, {kDevice, kLine}, "one line's state"},
      {"set", Role::Act, {kDevice, kLine, {"value", FieldType::Level, true}}, "drives a simulated input (or a host line) to 0 or 1"},
      {"watch", Role::Observe, {kDevice, {"snapshot", FieldType::Bool}},
       "turns the connection into a stream of change events; with snapshot, the state first"},
      {"pulse", Role::Act,
       {kDevice, kLine, {"width", FieldType::Duration, true}, {"level", FieldType::Level}, {"count", FieldType::Count},
        {"period", FieldType::Duration}},
       "pulses a simulated input: count pulses of width at level, one each period"},
      {"clock", Role::Act, {kDevice, kLine, {"period", FieldType::Duration, true}, {"duty", FieldType::Number}},
       "a square wave on a simulated input until stopped"},
      {"bounce", Role::Act,
       {kDevice, kLine, {"transitions", FieldType::Count}, {"settle", FieldType::Level}, {"window", FieldType::Duration},
        {"seed", FieldType::Count}},
       "contact bounce on a simulated input, settling at a level"},
      {"pattern", Role::Act, {kDevice, kLine, {"steps", FieldType::Array, true}, {"repeat", FieldType::Count}},
       "plays [level, duration] steps on a simulated input"},
      {"stop", Role::Act, {kDevice, kLine}, "ends the stimulus on a line"},
      {"wire", Role::Act,
       {{"from", FieldType::String, true}, {"to", FieldType::String, true}, {"delay", FieldType::Duration},
        {"invert", FieldType::Level}},
       "carries a line's level to another device's simulated input (DEVICE:LINE)"},
      {"unwire", Role::Act, {{"from", FieldType::String, true}, {"to", FieldType::String, true}}, "removes a wire"},
      {"wires", Role::Observe, {}, "every wire"},
      {"create", Role::Act,
       {{"name", FieldType::String, true}, {"socket", FieldType::String, true}, {"lines", FieldType::Array, true},
        {"persist", FieldType::Bool}},
       "makes a device at run time: simulated lines, or host lines from the config's [[pool]]"},
      {"destroy", Role::Act, {{"device", FieldType::String, true}}, "removes a device made at run time"},
#ifdef VGPIO_SANDBOX_PROBE
      {"sandbox-probe", Role::Act, {kDevice, {"chip", FieldType::String}, {"pid", FieldType::Count}, {"socket", FieldType::String}},
       "what the device thread may do", true},
#endif
  };
  return commands;
}

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
    const Field* field = nullptr;
    for (const auto& f : command.fields)
      if (key == f.name) field = &f;
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

}  // namespace vgpio::control
