// `vgpio ctl`: one subcommand per control request. Most send one JSON
// request and print the answer; watch, wait and record read the event stream
// (ctl_stream.cpp).
#include <cctype>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "client/ctl.h"
#include "client/control_client.h"
#include "client/ctl_stream.h"
#include "control/commands.h"

namespace vgpio::client {

using nlohmann::json;

namespace {

std::string value_text(const json& v) { return v.is_null() ? "?" : v.dump(); }

void print_list(const json& r) {
  for (const auto& d : r["devices"]) {
    std::printf("device %s  (%s)\n", d.value("name", "").c_str(), d.value("socket", "").c_str());
    if (!d.value("answering", true)) {
      std::printf("  not answering: its thread is busy or stuck (see the daemon's log)\n");
      continue;
    }
    // The holder last: "vgpio-plc1, held at safe level 1" is long.
    std::printf("  %5s  %-16s %-4s %-5s %-12s %-24s %s\n", "line", "name", "dir", "value", "irq", "kind", "holder");
    for (const auto& l : d.value("lines", json::array())) {
      std::string irq = l.value("irq", "");
      if (irq != "none") irq += l.value("unmasked", false) ? "" : "(m)";
      std::printf("  %5s  %-16s %-4s %-5s %-12s %-24s %s\n", l["line"].dump().c_str(), l.value("name", "").c_str(),
                  l.value("direction", "").c_str(), value_text(l["value"]).c_str(), irq.c_str(),
                  l.value("kind", "").c_str(), l.value("holder", "").empty() ? "-" : l.value("holder", "").c_str());
      // What else drives the line, and what it drives: each on a line of its own.
      if (!l.value("driver", "").empty()) std::printf("  %5s  driven by %s\n", "", l.value("driver", "").c_str());
      for (const auto& to : l.value("wired_to", json::array()))
        std::printf("  %5s  wired to %s\n", "", to.get<std::string>().c_str());
    }
  }
}

void print_status(const json& r) {
  std::printf("devices         %s\n", r.value("devices", json(0)).dump().c_str());
  const json s = r.value("sandbox", json::object());
  if (!s.value("enabled", false)) {
    std::printf("sandbox         off (--no-sandbox)\n");
    std::printf("user            %s\n", s.value("user", "?").c_str());
    return;
  }
  std::printf("user            %s (uid %s, gid %s)\n", s.value("user", "?").c_str(), s.value("uid", json()).dump().c_str(),
              s.value("gid", json()).dump().c_str());
  std::printf("no_new_privs    %s\n", s.value("no_new_privs", false) ? "yes" : "no");
  std::printf("seccomp         %s (%s calls denied so far)\n", s.value("seccomp", "none").c_str(),
              s.value("denied_syscalls", json(0)).dump().c_str());
  std::printf("landlock        %s\n", s.value("landlock", "none").c_str());
}

void print_answer(const std::string& cmd, const json& r) {
  if (cmd == "get") {
    std::printf("%s\n", value_text(r["value"]).c_str());
  } else if (cmd == "list") {
    print_list(r);
  } else if (cmd == "status") {
    print_status(r);
  } else if (cmd == "sandbox-probe") {
    for (const auto& [what, result] : r["attempts"].items())
      std::printf("%-28s %s\n", what.c_str(), result.get<std::string>().c_str());
  } else if (cmd == "wires") {
    for (const auto& w : r["wires"])
      std::printf("%s -> %s  delay %s%s%s\n", w.value("from", "").c_str(), w.value("to", "").c_str(),
                  w.value("delay", "").c_str(), w.value("invert", false) ? ", inverted" : "",
                  w.value("config", false) ? "  (from the config)" : "");
  } else if (r.contains("stimulus")) {
    std::printf("%s\n", r.value("stimulus", "").c_str());
  } else if (cmd == "stop") {
    std::printf("%s\n", r.value("stopped", false) ? "stopped" : "nothing was running");
  } else if (cmd == "wire") {
    std::printf("%s\n", r.value("wire", "").c_str());
  }
}

// Only the options given: the daemon's defaults are the documented ones.
void put_if_given(json& request, const char* key, const std::string& text) {
  if (!text.empty()) request[key] = text;
}

Result<json> steps_json(const std::vector<std::string>& steps) {
  json list = json::array();
  for (const auto& s : steps) {
    size_t colon = s.find(':');
    std::string level = s.substr(0, colon);
    if (colon == std::string::npos || (level != "0" && level != "1"))
      return Error("step \"" + s + "\" is not LEVEL:DURATION, e.g. 1:10ms");
    list.push_back({level == "1" ? 1 : 0, s.substr(colon + 1)});
  }
  return list;
}

// Builds the request of subcommand `cmd` from what was parsed.
Result<json> request_for(const std::string& cmd, const CtlOptions& o) {
  json r = {{"cmd", cmd}};
  if (!o.device.empty()) r["device"] = o.device, r["line"] = line_arg(o.line);
  if (cmd == "set") r["value"] = o.value;
  if (cmd == "sandbox-probe") {
    r.erase("line"), put_if_given(r, "chip", o.from), put_if_given(r, "socket", o.socket);
    if (o.count > 1) r["pid"] = o.count;
  }
  if (cmd == "pulse") {
    r["width"] = o.width, r["count"] = o.count, r["level"] = o.level;
    put_if_given(r, "period", o.period);
  }
  if (cmd == "clock") r["period"] = o.period, r["duty"] = o.duty;
  if (cmd == "bounce") {
    r["transitions"] = o.transitions, r["seed"] = o.seed, r["window"] = o.window;
    if (o.settle) r["settle"] = *o.settle;
  }
  if (cmd == "pattern") r["steps"] = TRY(steps_json(o.steps)), r["repeat"] = o.repeat;
  if (cmd == "wire" || cmd == "unwire") r["from"] = o.from, r["to"] = o.to;
  if (cmd == "wire") {
    r["invert"] = o.invert;
    put_if_given(r, "delay", o.delay);
  }
  return r;
}

}  // namespace

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

namespace {
// The protocol reference, from the command table: plain, or as the Markdown
// of docs/control.md (a test checks that the file says the same).
void print_commands(bool markdown) {
  for (const auto& c : control::commands()) {
    if (c.test_only) continue;
    std::string help = c.help;
    if (markdown) help[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(help[0])));
    if (markdown) std::printf("### `%s`\n\n%s. Role: %s.\n\n", c.name, help.c_str(), control::role_name(c.role));
    else std::printf("%-14s %s [%s]\n", c.name, c.help, control::role_name(c.role));
    if (markdown && c.fields.empty()) std::printf("No fields.\n\n");
    if (markdown && !c.fields.empty()) std::printf("| field | type | |\n|---|---|---|\n");
    for (const auto& f : c.fields) {
      if (markdown) std::printf("| `%s` | %s | %s |\n", f.name, control::describe(f.type), f.required ? "required" : "");
      else std::printf("%14s   %-12s %s%s\n", "", f.name, control::describe(f.type), f.required ? " (required)" : "");
    }
    if (markdown && !c.fields.empty()) std::printf("\n");
  }
}
}  // namespace

void add_ctl_commands(CLI::App& ctl, CtlOptions& o) {
  ctl.require_subcommand(1);
  ctl.fallthrough();  // --json and --control also after the subcommand
  CLI::App* commands = ctl.add_subcommand("commands", "every control command and its fields (the protocol)");
  commands->add_flag("--markdown", o.markdown, "as docs/control.md has them");
  commands->callback([&o] { o.run = [&o] { return print_commands(o.markdown), 0; }; });
  // Each command's help is the table's (control/commands.cpp), unless given.
  auto sub = [&](const std::string& name, std::string help = {}) {
    if (const control::Command* c = control::find_command(name); help.empty() && c) help = c->help;
    CLI::App* cmd = ctl.add_subcommand(name, help);
    cmd->callback([&o, name] {
      o.run = [&o, name] {
        auto request = request_for(name, o);
        if (!request) {
          std::fprintf(stderr, "vgpio ctl %s: %s\n", name.c_str(), request.error().message().c_str());
          return 2;
        }
        return call_and_print(o, request.value(), [name](const json& r) { print_answer(name, r); });
      };
    });
    return cmd;
  };
  auto on_line = [&](const std::string& name, const std::string& help) {
    CLI::App* cmd = sub(name, help);
    cmd->add_option("device", o.device, "device name")->required();
    cmd->add_option("line", o.line, "line name or number")->required();
    return cmd;
  };
  sub("list");
  sub("status");
#ifdef VGPIO_SANDBOX_PROBE
  CLI::App* probe = sub("sandbox-probe", "test builds: try what the sandbox must refuse, on a device's thread");
  probe->add_option("device", o.device, "device name")->required();
  probe->add_option("--chip", o.from, "also open this GPIO chip, one the device was not given");
  probe->add_option("--pid", o.count, "also signal this process (a sibling instance)");
  probe->add_option("--socket", o.socket, "also connect to this socket (a sibling's control socket)");
#endif
  on_line("get", "print a line's value");
  on_line("set", "drive a simulated input to 0 or 1 (ends its stimulus)")
      ->add_option("value", o.value, "0 or 1")->required()->check(CLI::Range(0, 1));

  CLI::App* pulse = on_line("pulse", "pulse a simulated input: --width 10ms [--count 3] [--period 50ms]");
  pulse->add_option("--width", o.width, "how long each pulse lasts, e.g. 10ms")->required();
  pulse->add_option("--period", o.period, "from one pulse's start to the next (default: twice the width)");
  pulse->add_option("--count", o.count, "how many pulses; 0: until stopped")->capture_default_str();
  pulse->add_option("--level", o.level, "the pulse's level")->capture_default_str()->check(CLI::Range(0, 1));
  CLI::App* clock = on_line("clock", "run a clock on a simulated input until stopped: --period 1ms [--duty 0.5]");
  clock->add_option("--period", o.period, "clock period, e.g. 1ms")->required();
  clock->add_option("--duty", o.duty, "part of the period spent high")->capture_default_str();
  CLI::App* bounce = on_line("bounce", "contact bounce, then settle: [--transitions 6] [--window 5ms] [--settle 1]");
  o.window = "5ms";
  bounce->add_option("--transitions", o.transitions, "level changes within the window")->capture_default_str();
  bounce->add_option("--window", o.window, "how long the bouncing lasts")->capture_default_str();
  bounce->add_option("--settle", o.settle, "the level it ends at (default: the other one)")->check(CLI::Range(0, 1));
  bounce->add_option("--seed", o.seed, "another seed gives other bounce times")->capture_default_str();
  CLI::App* pattern = on_line("pattern", "play steps on a simulated input: 1:10ms 0:5ms ... [--repeat 3]");
  pattern->add_option("steps", o.steps, "LEVEL:DURATION ...")->required();
  pattern->add_option("--repeat", o.repeat, "times through the steps; 0: until stopped")->capture_default_str();
  on_line("stop", "stop a line's stimulus; the line keeps its level");

  for (const char* name : {"wire", "unwire"}) {
    CLI::App* cmd = sub(name, name == std::string("wire")
                                  ? "wire a guest output to a simulated input: FROM TO [--delay 2ms] [--invert]"
                                  : "remove the wire from FROM to TO");
    cmd->add_option("from", o.from, "DEVICE:LINE whose guest output drives the wire")->required();
    cmd->add_option("to", o.to, "DEVICE:LINE, a simulated input")->required();
    if (name == std::string("wire")) {
      cmd->add_option("--delay", o.delay, "each level arrives this much later, e.g. 2ms");
      cmd->add_flag("--invert", o.invert, "the target gets the opposite level");
    }
  }
  sub("wires", "list the wires");
  add_stream_commands(ctl, o);
  add_create_commands(ctl, o);
}

}  // namespace vgpio::client
