// Reading TOML tables with errors that name the file and line: shared by the
// config file (config.cpp) and devices made at run time (create_request.cpp).
// Internal to the config layer.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/strings.h"
#include "config/config.h"

namespace vgpio::config::detail {

// Errors carry "file:line: where: what".
class Context {
 public:
  Context(std::string file, std::string where) : file_(std::move(file)), where_(std::move(where)) {}
  Error error(const toml::node& at, const std::string& what) const { return error(line_of(at), what); }
  Error error(int line, const std::string& what) const {
    // Line 0: a table a program built (a control request), not a file's.
    std::string at = line > 0 ? strfmt("%s:%d", file_.c_str(), line) : file_;
    return Error(strfmt("%s: %s%s", at.c_str(), where_.empty() ? "" : (where_ + ": ").c_str(), what.c_str()));
  }
  Context inner(const std::string& where) const {
    return Context(file_, where_.empty() ? where : where_ + " " + where);
  }
  static int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

 private:
  std::string file_;
  std::string where_;
};

inline Result<void> only_keys(const Context& ctx, const toml::table& t, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : t) {
    bool ok = false;
    for (auto k : known) ok |= key.str() == k;
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return ctx.error(value, strfmt("unknown key \"%s\" (known: %s)", std::string(key.str()).c_str(), list.c_str()));
    }
  }
  return ok();
}

template <typename T>
Result<std::optional<T>> get(const Context& ctx, const toml::table& t, std::string_view key, const char* type_name) {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<T>();
  if (auto v = n->value<T>()) return std::optional<T>(*v);
  return ctx.error(*n, strfmt("\"%s\" must be %s", std::string(key).c_str(), type_name));
}

inline Result<std::optional<std::string>> get_string(const Context& ctx, const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (n && !n->is_string()) return ctx.error(*n, strfmt("\"%s\" must be a string", std::string(key).c_str()));
  return get<std::string>(ctx, t, key, "a string");
}

// A device name (check_name), or a line name (check_line_name: "" is unnamed).
inline Result<std::optional<std::string>> get_name(const Context& ctx, const toml::table& t, std::string_view key,
                                                   bool line = false) {
  auto name = TRY(get_string(ctx, t, key));
  if (name)
    if (auto r = line ? check_line_name(*name) : check_name(*name); !r)
      return ctx.error(*t.get(key), strfmt("\"%s\": %s", std::string(key).c_str(), r.error().message().c_str()));
  return name;
}

inline Result<std::optional<bool>> get_bool(const Context& ctx, const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (n && !n->is_boolean()) return ctx.error(*n, strfmt("\"%s\" must be true or false", std::string(key).c_str()));
  return get<bool>(ctx, t, key, "true or false");
}

// A level: 0, 1, "low", "high", false, true.
inline Result<std::optional<bool>> get_level(const Context& ctx, const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<bool>();
  if (auto i = n->value_exact<int64_t>(); i && (*i == 0 || *i == 1)) return std::optional<bool>(*i == 1);
  if (auto b = n->value_exact<bool>()) return std::optional<bool>(*b);
  if (auto s = n->value_exact<std::string>(); s && (*s == "low" || *s == "high"))
    return std::optional<bool>(*s == "high");
  return ctx.error(*n, strfmt("\"%s\" must be 0, 1, \"low\" or \"high\"", std::string(key).c_str()));
}

// One [[device.line]] table (or a pool entry, or a line of a created device).
Result<LineSpec> parse_line(const Context& ctx, const toml::table& t);
// A device's clock, clock_socket and clock_quantum.
Result<ClockSpec> parse_clock(const Context& ctx, const toml::table& t);
// access.cpp: PREFIX_mode, PREFIX_owner and PREFIX_group ("socket", "control").
Result<void> parse_access(const Context& ctx, const toml::table& t, const std::string& prefix, SocketAccess* access);
// The control socket's access, its grants and create_dir.
Result<void> parse_control_access(const Context& ctx, const toml::table& t, RootSettings& root);

}  // namespace vgpio::config::detail
