// `vgpio ctl commands`: the protocol reference, printed from the command
// table. Plain for a terminal; Markdown for docs/control.md and scdoc for
// the man page vgpio-control(7) (a test and the build use these); JSON for
// other clients to check themselves against (the Python client's test does).
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <span>

#include "client/ctl_stream.h"
#include "control/commands.h"

namespace vgpio::client {

using control::Command;
using control::Field;
using nlohmann::json;

namespace {

enum class Format { Text, Markdown, Scdoc, Json };

std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// scdoc reads * and _ as emphasis.
std::string scd(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::vector<control::ErrorKind> errors_of(const Command& c) {
  auto common = control::common_errors();
  std::vector<control::ErrorKind> all(common.begin(), common.end());
  all.insert(all.end(), c.errors.begin(), c.errors.end());
  return all;
}

std::string kind_list(std::span<const control::ErrorKind> kinds, const char* quote = "") {
  std::string out;
  for (auto k : kinds) out += (out.empty() ? "" : ", ") + (quote + std::string(control::kind_name(k)) + quote);
  return out;
}

// "required", "default 1", or "optional".
std::string presence(const Field& f) {
  if (f.required) return "required";
  return f.default_json ? std::string("default ") + f.default_json : "optional";
}

void print_text(const Command& c) {
  std::printf("%-14s %s [%s]\n", c.name, c.help, control::role_name(c.role));
  for (const auto& f : c.fields)
    std::printf("%14s   %-12s %s (%s): %s\n", "", f.name, control::describe(f.type), presence(f).c_str(), f.help);
}

void print_markdown(const Command& c) {
  std::printf("### `%s`\n\n%s. Role: %s.\n\n", c.name, capitalised(c.help).c_str(), control::role_name(c.role));
  if (c.fields.empty()) std::printf("No fields.\n\n");
  else std::printf("| field | type | | |\n|---|---|---|---|\n");
  for (const auto& f : c.fields)
    std::printf("| `%s` | %s | %s | %s |\n", f.name, control::describe(f.type), presence(f).c_str(), f.help);
  if (!c.fields.empty()) std::printf("\n");
  if (!c.errors.empty()) std::printf("Errors besides the common ones: %s.\n\n", kind_list(c.errors, "`").c_str());
}

void print_scdoc(const Command& c) {
  std::printf("## %s\n\n%s. Role: %s.\n\n", c.name, scd(capitalised(c.help)).c_str(), control::role_name(c.role));
  for (const auto& f : c.fields)
    std::printf("- *%s*, %s, %s: %s\n", scd(f.name).c_str(), scd(control::describe(f.type)).c_str(),
                scd(presence(f)).c_str(), scd(f.help).c_str());
  if (!c.fields.empty()) std::printf("\n");
  if (!c.errors.empty()) std::printf("Errors besides the common ones: %s.\n\n", scd(kind_list(c.errors)).c_str());
}

json command_json(const Command& c) {
  json fields = json::array();
  for (const auto& f : c.fields) {
    json field = {{"name", f.name}, {"type", control::describe(f.type)}, {"required", f.required}, {"help", f.help}};
    if (f.default_json) field["default"] = json::parse(f.default_json);
    fields.push_back(field);
  }
  json errors = json::array();
  for (auto k : errors_of(c)) errors.push_back(control::kind_name(k));
  return {
      {"name", c.name}, {"role", control::role_name(c.role)}, {"help", c.help}, {"fields", fields}, {"errors", errors}};
}

void print_kinds(Format format) {
  if (format == Format::Markdown) std::printf("### Errors\n\n| `error_kind` | when |\n|---|---|\n");
  if (format == Format::Scdoc) std::printf("# ERRORS\n\n");
  if (format == Format::Text) std::printf("\nerror kinds (\"error_kind\" of an answer with \"ok\": false):\n");
  for (auto k : control::error_kinds()) {
    if (format == Format::Markdown) std::printf("| `%s` | %s |\n", control::kind_name(k), control::describe(k));
    if (format == Format::Scdoc)
      std::printf("*%s*\n\t%s\n\n", scd(control::kind_name(k)).c_str(), scd(control::describe(k)).c_str());
    if (format == Format::Text) std::printf("%-14s %s\n", control::kind_name(k), control::describe(k));
  }
  std::string common = kind_list(control::common_errors());
  if (format == Format::Markdown) std::printf("\nAny command may answer %s.\n", common.c_str());
  if (format == Format::Scdoc) std::printf("Any command may answer %s.\n", common.c_str());
}

void print_reference(Format format) {
  if (format == Format::Json) {
    json commands = json::array(), kinds = json::array();
    for (const auto& c : control::commands())
      if (!c.test_only) commands.push_back(command_json(c));
    for (auto k : control::error_kinds())
      kinds.push_back({{"kind", control::kind_name(k)}, {"when", control::describe(k)}});
    std::printf("%s\n", json{{"commands", commands}, {"error_kinds", kinds}}.dump(2).c_str());
    return;
  }
  if (format == Format::Scdoc) std::printf("# COMMANDS\n\n");
  for (const auto& c : control::commands()) {
    if (c.test_only) continue;
    if (format == Format::Text) print_text(c);
    if (format == Format::Markdown) print_markdown(c);
    if (format == Format::Scdoc) print_scdoc(c);
  }
  print_kinds(format);
}

}  // namespace

void add_reference_command(CLI::App& ctl, CtlOptions& o) {
  auto markdown = std::make_shared<bool>(false), scdoc = std::make_shared<bool>(false);
  CLI::App* cmd = ctl.add_subcommand("commands", "every control command, its fields and errors (the protocol)");
  cmd->add_flag("--markdown", *markdown, "as docs/control.md has them");
  cmd->add_flag("--scdoc", *scdoc, "as the man page vgpio-control(7) has them (scdoc source)");
  cmd->callback([&o, markdown, scdoc] {
    o.run = [&o, markdown, scdoc] {
      print_reference(*markdown ? Format::Markdown : *scdoc ? Format::Scdoc : o.json ? Format::Json : Format::Text);
      return 0;
    };
  });
}

}  // namespace vgpio::client
