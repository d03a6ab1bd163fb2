// `vgpio ctl create` and `destroy`: a device made at run time. Without
// --persist the device lives as long as this command: it waits until Ctrl-C
// (or SIGTERM), and the daemon removes the device when the connection closes.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include "client/ctl_stream.h"
#include "client/control_client.h"

namespace vgpio::client {

using nlohmann::json;

namespace {

// A --lines file: [[line]] tables, as in a config file's [[device.line]].
Result<json> lines_from_file(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const toml::array* lines = root["line"].as_array();
  if (!lines) return Error(path + ": no [[line]] tables");
  json out = json::array();
  for (const auto& node : *lines) {
    const toml::table* t = node.as_table();
    if (!t) return Error(path + ": \"line\" must be [[line]] tables");
    json line = json::object();
    for (const auto& [key, value] : *t) {
      std::string k(key.str());
      if (auto s = value.value_exact<std::string>()) line[k] = *s;
      else if (auto b = value.value_exact<bool>()) line[k] = *b;
      else if (auto i = value.value_exact<int64_t>()) line[k] = *i;
      else return Error(path + ": line key \"" + k + "\" must be a string, a boolean or a whole number");
    }
    out.push_back(line);
  }
  return out;
}

// --line NAME (simulated) or NAME=pool:POOLNAME (a host line of the config's [[pool]]).
Result<json> line_from_option(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) return json{{"name", text}, {"simulated", true}};
  std::string source = text.substr(eq + 1);
  if (source.rfind("pool:", 0) != 0 || source.size() == 5)
    return Error("--line \"" + text + "\": use NAME (a simulated line) or NAME=pool:POOLNAME");
  return json{{"name", text.substr(0, eq)}, {"pool", source.substr(5)}};
}

int run_create(const CtlOptions& o) {
  json lines = json::array();
  if (!o.lines_file.empty()) {
    auto from_file = lines_from_file(o.lines_file);
    if (!from_file) return fail("create", from_file.error().message(), 2);
    lines = from_file.release_value();
  }
  for (const auto& text : o.lines) {
    auto line = line_from_option(text);
    if (!line) return fail("create", line.error().message(), 2);
    lines.push_back(line.release_value());
  }
  json request = {{"cmd", "create"}, {"name", o.device}, {"socket", o.socket}, {"lines", lines}, {"persist", o.persist}};
  auto client = client::ControlClient::connect(o.control);
  if (!client) return fail("create", client.error().message(), 1);
  auto answer = client.value().call(request);
  if (!answer) return fail("create", answer.error().message(), 1);
  std::printf("device %s: %zu lines on %s\n", o.device.c_str(), answer.value().value("lines", size_t{0}),
              answer.value().value("socket", "").c_str());
  if (o.persist) return 0;
  std::printf("it goes when this command ends (Ctrl-C)\n");
  std::fflush(stdout);
  stop_on_signals();
  while (!stop_requested()) {
    auto e = client.value().next(std::chrono::milliseconds(-1));
    if (!e) return fail("create", e.error().message(), 1);
  }
  return 0;
}

}  // namespace

void add_create_commands(CLI::App& ctl, CtlOptions& o) {
  CLI::App* create = ctl.add_subcommand(
      "create", "make a device at run time; it goes when this command ends, unless --persist");
  create->add_option("name", o.device, "device name")->required();
  create->add_option("socket", o.socket, "its vhost-user socket path")->required();
  create->add_option("--line", o.lines, "NAME (a simulated line) or NAME=pool:POOLNAME (a host line of the "
                                        "config's [[pool]]); repeat, in order");
  create->add_option("--lines", o.lines_file, "a TOML file of [[line]] tables, as in the config (before --line ones)");
  create->add_flag("--persist", o.persist, "keep the device after this command ends, until destroy");
  create->callback([&o] { o.run = [&o] { return run_create(o); }; });

  CLI::App* destroy = ctl.add_subcommand("destroy", "remove a device made with create");
  destroy->add_option("name", o.device, "device name")->required();
  destroy->callback([&o] {
    o.run = [&o] { return call_and_print(o, {{"cmd", "destroy"}, {"device", o.device}}, [](const json&) {}); };
  });
}

}  // namespace vgpio::client
