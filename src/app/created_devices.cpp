// A control client's "create" request, read as the config file's devices are:
// the JSON becomes a TOML table, so the same checks and error texts apply.
#include "app/host_setup.h"
#include "config/created_device.h"

namespace vgpio::app {

using nlohmann::json;

namespace {
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
}  // namespace

Result<DeviceConfig> created_device_config(const json& request, const config::ConfigSpec& config) {
  toml::table table;
  for (const char* key : {"name", "socket"})
    if (request.contains(key)) TRY(put(table, key, request[key]));
  if (request.contains("lines")) TRY(put(table, "line", request["lines"]));
  config::DeviceSpec device = TRY(config::parse_created_device(table, config.pool));
  config::ConfigSpec one;
  one.file = config.file.empty() ? "create request" : config.file;  // pool lines are the file's
  one.access = config.access;
  one.devices.push_back(device);
  DaemonConfig made = TRY(daemon_config(one));
  DeviceConfig spec = std::move(made.devices.front());
  for (const auto& l : device.lines)
    if (!l.pool.empty()) spec.pool_lines.push_back(l.pool);
  return spec;
}

}  // namespace vgpio::app
