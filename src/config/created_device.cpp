#include "config/created_device.h"

#include <algorithm>
#include <set>

#include "config/toml_reader.h"

namespace vgpio::config {

using namespace detail;

namespace {
Result<LineSpec> pool_line(const Context& ctx, const toml::table& t, const std::vector<LineSpec>& pool) {
  TRY(only_keys(ctx, t, {"pool", "name"}));
  auto wanted = TRY(get_string(ctx, t, "pool")).value_or("");
  auto it = std::find_if(pool.begin(), pool.end(), [&](const LineSpec& l) { return l.name == wanted; });
  if (it == pool.end()) {
    std::string names;
    for (const auto& l : pool) names += (names.empty() ? "" : ", ") + l.name;
    return ctx.error(t, "the config's [[pool]] has no line \"" + wanted + "\" (it has: " +
                            (names.empty() ? "none" : names) + ")");
  }
  LineSpec l = *it;  // the pool's policy: a client cannot change it
  if (auto name = TRY(get_name(ctx, t, "name", /*line=*/true))) l.name = *name;
  return l;
}
}  // namespace

Result<DeviceSpec> parse_created_device(const toml::table& request, const std::vector<LineSpec>& pool) {
  Context file_ctx("create request", "");
  DeviceSpec d;
  d.name = TRY(get_name(file_ctx, request, "name")).value_or("");
  if (d.name.empty()) return file_ctx.error(request, "\"name\" is required");
  Context ctx = file_ctx.inner("device \"" + d.name + "\"");
  TRY(only_keys(ctx, request, {"name", "socket", "line"}));
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
