// `vgpio ctl`'s subcommands for the commands of the protocol's table, made
// from their entries: a command added to the table is a subcommand here with
// no code of its own. A field becomes
//   - an argument, in the table's order, when it is the device (always
//     named) or required: `set DEVICE LINE VALUE`, `wire FROM TO`;
//   - an option when it is a duration, required or not (`--width 10ms`: a
//     bare number would read as seconds), or optional;
//   - a flag when its default is false (`--invert`, `--persist`).
// Only what is given is sent: the defaults are the daemon's, from the same table.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <memory>

#include "client/ctl_stream.h"
#include "control/commands.h"

namespace vgpio::client {

using control::Field;
using control::FieldType;
using nlohmann::json;

namespace {

// What one subcommand was given, by field name.
struct Given {
  std::map<std::string, std::string> values;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, bool> flags;
};

bool is_flag(const Field& f) { return !f.required && f.default_json && std::string(f.default_json) == "false"; }
bool is_argument(const Field& f) {
  return std::string(f.name) == "device" || (f.required && f.type != FieldType::Duration);
}

Result<json> number_value(const Field& f, const std::string& text, bool whole) {
  try {
    size_t used = 0;
    if (whole && text.find_first_not_of("0123456789") == std::string::npos) {
      uint64_t n = std::stoull(text, &used);
      if (used == text.size()) return json(n);
    } else if (!whole) {
      double d = std::stod(text, &used);
      if (used == text.size()) return json(d);
    }
  } catch (const std::exception&) {}
  return Error(std::string(f.name) + " must be " + control::describe(f.type) + ", not \"" + text + "\"");
}

// A list's items: pattern's steps are LEVEL:DURATION; any other list takes
// JSON values.
Result<json> list_value(const Field& f, const std::vector<std::string>& items) {
  json list = json::array();
  for (const auto& s : items) {
    if (std::string(f.name) == "steps") {
      size_t colon = s.find(':');
      std::string level = s.substr(0, colon);
      if (colon == std::string::npos || (level != "0" && level != "1"))
        return Error("step \"" + s + "\" is not LEVEL:DURATION, e.g. 1:10ms");
      list.push_back({level == "1" ? 1 : 0, s.substr(colon + 1)});
      continue;
    }
    json item = json::parse(s, nullptr, false);
    list.push_back(item.is_discarded() ? json(s) : item);
  }
  return list;
}

Result<json> field_value(const Field& f, const std::string& text) {
  switch (f.type) {
    case FieldType::Level:
      if (text != "0" && text != "1") return Error(std::string(f.name) + " must be 0 or 1, not \"" + text + "\"");
      return json(text == "1" ? 1 : 0);
    case FieldType::Count: return number_value(f, text, true);
    case FieldType::Number: return number_value(f, text, false);
    case FieldType::Line: return line_arg(text);
    case FieldType::Bool: return json(text == "true" || text == "1");
    case FieldType::String:
    case FieldType::Duration:
    case FieldType::Array: break;
  }
  return json(text);
}

Result<json> request_of(const control::Command& c, const Given& given) {
  json r = {{"cmd", c.name}};
  for (const auto& f : c.fields) {
    // An option never given stays out (its entry is empty): the default is the daemon's.
    if (auto v = given.values.find(f.name); v != given.values.end() && !v->second.empty())
      r[f.name] = TRY(field_value(f, v->second));
    if (auto l = given.lists.find(f.name); l != given.lists.end() && !l->second.empty())
      r[f.name] = TRY(list_value(f, l->second));
    if (auto b = given.flags.find(f.name); b != given.flags.end() && b->second) r[f.name] = true;
  }
  return r;
}

std::string option_help(const Field& f) {
  std::string help = f.help;
  if (f.default_json && !is_flag(f)) help += std::string(" (default: ") + f.default_json + ")";
  return help;
}

}  // namespace

void add_table_command(CLI::App& ctl, const control::Command& c, CtlOptions& o) {
  auto given = std::make_shared<Given>();  // lives as long as the subcommand's callback
  CLI::App* cmd = ctl.add_subcommand(c.name, c.help);
  for (const auto& f : c.fields) {
    std::string name = is_argument(f) ? std::string(f.name) : "--" + std::string(f.name);
    CLI::Option* option = nullptr;
    if (is_flag(f)) option = cmd->add_flag(name, given->flags[f.name], option_help(f));
    else if (f.type == FieldType::Array) option = cmd->add_option(name, given->lists[f.name], option_help(f));
    else option = cmd->add_option(name, given->values[f.name], option_help(f));
    if (std::string(f.name) == "device") option->description("the device's name");
    if (f.required || std::string(f.name) == "device") option->required();
  }
  cmd->callback([&o, &c, given] {
    o.run = [&o, &c, given] {
      auto request = request_of(c, *given);
      if (!request) return fail(c.name, request.error().message(), 2);
      return call_and_print(o, request.value(), [&c](const json& r) { print_answer(c.id, r); });
    };
  });
}

}  // namespace vgpio::client
