// `vgpio ctl create`: a device made at run time. Without
// --persist the device lives as long as this command: it waits until Ctrl-C
// (or SIGTERM), and the daemon removes the device when the connection closes.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "client/control_client.h"
#include "client/ctl_stream.h"

namespace vgpio::client {

using nlohmann::json;

namespace {

struct CreateOptions {
  std::string name, socket, lines_file;
  std::vector<std::string> lines;
  bool persist = false;
};

// A --lines file goes as it is: the daemon reads it as it reads a config.
Result<std::string> file_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::from_errno(errno, "--lines " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
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

int run_create(const CtlOptions& common, const CreateOptions& o) {
  json request = {{"cmd", "create"}, {"name", o.name}, {"socket", o.socket}, {"persist", o.persist}};
  if (!o.lines_file.empty()) {
    auto text = file_text(o.lines_file);
    if (!text) return fail("create", text.error().message(), 2);
    request["lines_toml"] = text.release_value();
  }
  json lines = json::array();
  for (const auto& text : o.lines) {
    auto line = line_from_option(text);
    if (!line) return fail("create", line.error().message(), 2);
    lines.push_back(line.release_value());
  }
  request["lines"] = lines;
  auto client = client::ControlClient::connect(common.control);
  if (!client) return fail("create", client.error().message(), 1);
  auto answer = client.value().call(request);
  if (!answer) return fail("create", answer.error().message(), 1);
  std::printf("device %s: %zu lines on %s\n", o.name.c_str(), answer.value().value("lines", size_t{0}),
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

void add_create_command(CLI::App& ctl, CtlOptions& common) {
  auto o = std::make_shared<CreateOptions>();
  CLI::App* create =
      ctl.add_subcommand("create", "make a device at run time; it goes when this command ends, unless --persist");
  create->add_option("name", o->name, "device name")->required();
  create->add_option("socket", o->socket, "its vhost-user socket path")->required();
  create->add_option("--line", o->lines,
                     "NAME (a simulated line) or NAME=pool:POOLNAME (a host line of the "
                     "config's [[pool]]); repeat, in order");
  create->add_option("--lines", o->lines_file, "a TOML file of [[line]] tables, as in the config (before --line ones)");
  create->add_flag("--persist", o->persist, "keep the device after this command ends, until destroy");
  create->callback([&common, o] { common.run = [&common, o] { return run_create(common, *o); }; });
}

}  // namespace vgpio::client
