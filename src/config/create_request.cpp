#include "config/create_request.h"

#include <algorithm>
#include <set>

#include "config/toml_reader.h"

namespace vgpio::config {

using namespace detail;
using nlohmann::json;

namespace {

// JSON into TOML, for a request's lines: the same checks and error texts
// as a config file's.
Result<void> put(toml::table& table, const std::string& key, const json& value);

Result<void> push(toml::array& array, const json& value) {
  if (value.is_object()) {
    toml::table t;
    for (const auto& [k, v] : value.items()) TRY(put(t, k, v));
    array.push_back(std::move(t));
  } else if (value.is_string()) {
    array.push_back(value.get<std::string>());
  } else if (value.is_boolean()) {
    array.push_back(value.get<bool>());
  } else if (value.is_number_integer()) {
    array.push_back(value.get<int64_t>());
  } else {
    return Error("a list may hold tables, strings, booleans and whole numbers, not " + value.dump());
  }
  return ok();
}

Result<void> put(toml::table& table, const std::string& key, const json& value) {
  if (value.is_object()) {
    toml::table t;
    for (const auto& [k, v] : value.items()) TRY(put(t, k, v));
    table.insert_or_assign(key, std::move(t));
  } else if (value.is_array()) {
    toml::array a;
    for (const auto& v : value) TRY(push(a, v));
    table.insert_or_assign(key, std::move(a));
  } else if (value.is_string()) {
    table.insert_or_assign(key, value.get<std::string>());
  } else if (value.is_boolean()) {
    table.insert_or_assign(key, value.get<bool>());
  } else if (value.is_number_integer()) {
    table.insert_or_assign(key, value.get<int64_t>());
  } else if (value.is_number_float()) {
    table.insert_or_assign(key, value.get<double>());
  } else {
    return Error("\"" + key + "\" has no value a config file could hold");
  }
  return ok();
}

Result<LineSpec> pool_line(const Context& ctx, const toml::table& t, const std::vector<LineSpec>& pool) {
  TRY(only_keys(ctx, t, {"pool", "name"}));
  auto wanted = TRY(get_string(ctx, t, "pool")).value_or("");
  auto it = std::find_if(pool.begin(), pool.end(), [&](const LineSpec& l) { return l.name == wanted; });
  if (it == pool.end()) {
    std::string names;
    for (const auto& l : pool) names += (names.empty() ? "" : ", ") + l.name;
    return ctx.error(t, "the config's [[pool]] has no line \"" + wanted +
                            "\" (it has: " + (names.empty() ? "none" : names) + ")");
  }
  LineSpec l = *it;  // the pool's policy: a client cannot change it
  if (auto name = TRY(get_name(ctx, t, "name", /*line=*/true))) l.name = *name;
  return l;
}

// The lines, TOML text first, as one [[line]] array.
Result<toml::array> request_lines(const json& request) {
  toml::array lines;
  if (request.contains("lines_toml")) {
    Context ctx("create request: lines_toml", "");
    toml::table text;
    try {
      text = toml::parse(request["lines_toml"].get<std::string_view>(), std::string_view("lines_toml"));
    } catch (const toml::parse_error& e) {
      return ctx.error(static_cast<int>(e.source().begin.line), std::string(e.description()));
    }
    TRY(only_keys(ctx, text, {"line"}));
    if (text.contains("line") && !text["line"].is_array_of_tables())
      return ctx.error(text, "\"line\" must be [[line]] tables");
    if (auto* from_text = text["line"].as_array())
      for (auto& line : *from_text) lines.push_back(std::move(line));
  }
  if (request.contains("lines"))
    for (const auto& line : request["lines"]) TRY(push(lines, line));
  return lines;
}

}  // namespace

Result<DeviceSpec> parse_create_request(const json& json_request, const std::vector<LineSpec>& pool) {
  toml::table request;
  for (const char* key : {"name", "socket", "clock", "clock_quantum"})
    if (json_request.contains(key)) TRY(put(request, key, json_request[key]));
  request.insert_or_assign("line", TRY(request_lines(json_request)));
  Context file_ctx("create request", "");
  DeviceSpec d;
  d.name = TRY(get_name(file_ctx, request, "name")).value_or("");
  if (d.name.empty()) return file_ctx.error(request, "\"name\" is required");
  Context ctx = file_ctx.inner("device \"" + d.name + "\"");
  TRY(only_keys(ctx, request, {"name", "socket", "clock", "clock_quantum", "line"}));
  d.clock = TRY(parse_clock(ctx, request));  // its socket: the device's socket + ".clock", beside it
  d.socket = TRY(get_string(ctx, request, "socket")).value_or("");
  if (d.socket.empty()) return ctx.error(request, "\"socket\" (the vhost-user socket path) is required");
  const toml::array* lines = request["line"].as_array();
  if (!lines || lines->empty()) return ctx.error(request, "\"line\" must list at least one line");
  std::set<std::string> names, pooled;
  for (size_t i = 0; i < lines->size(); ++i) {
    const toml::table* t = (*lines)[i].as_table();
    Context lctx = ctx.inner("line " + std::to_string(i));
    if (!t) return lctx.error((*lines)[i], "must be a table");
    LineSpec l;
    if (t->contains("pool")) {
      l = TRY(pool_line(lctx, *t, pool));
      if (!pooled.insert(l.pool).second) return lctx.error(*t, "pool line \"" + l.pool + "\" is given twice");
    } else {
      l = TRY(parse_line(lctx, *t));
      if (!l.simulated)
        return lctx.error(*t, "host lines come only from the config's [[pool]]: ask for one with pool = \"NAME\"");
    }
    if (!l.name.empty() && !names.insert(l.name).second)
      return lctx.error(*t, "line name \"" + l.name + "\" is used twice");
    d.lines.push_back(std::move(l));
  }
  return d;
}

}  // namespace vgpio::config
