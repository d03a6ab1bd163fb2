// `vgpio ctl`: the subcommands, and how one request is sent and its answer
// shown.
#include "client/ctl.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "client/control_client.h"
#include "client/ctl_stream.h"
#include "control/commands.h"

namespace vgpio::client {

using nlohmann::json;

json line_arg(const std::string& s) {
  bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 6;
  return digits ? json(std::stoul(s)) : json(s);
}

int call_and_print(const CtlOptions& o, const json& request, const std::function<void(const json&)>& print) {
  auto client = client::ControlClient::connect(o.control);
  if (!client) {
    std::fprintf(stderr, "vgpio ctl: %s\n", client.error().message().c_str());
    return 1;
  }
  auto answer = client.value().call(request);
  if (!answer) {
    std::fprintf(stderr, "vgpio ctl %s: %s\n", request.value("cmd", "").c_str(), answer.error().message().c_str());
    return 1;
  }
  if (o.json) std::printf("%s\n", answer.value().dump(2).c_str());
  else print(answer.value());
  return 0;
}

void add_ctl_commands(CLI::App& ctl, CtlOptions& o) {
  ctl.require_subcommand(1);
  ctl.fallthrough();  // --json and --control also after the subcommand
  add_reference_command(ctl, o);
  // watch and create are the table's too, but their clients do more than
  // one request and its answer.
  for (const auto& c : control::commands())
    if (std::string(c.name) != "watch" && std::string(c.name) != "create") add_table_command(ctl, c, o);
  add_stream_commands(ctl, o);
  add_create_command(ctl, o);
}

}  // namespace vgpio::client
