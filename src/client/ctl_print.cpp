// How `vgpio ctl` shows the daemon's answers to people (--json shows them as
// they are). A command with no printer of its own shows what its answer
// holds besides "ok", as JSON.
#include <cstdio>

#include "client/ctl_stream.h"

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
    const json clock = d.value("clock", json::object());
    if (clock.value("follows", "host") == "guest") {
      const json ns = clock.value("guest_ns", json(0)), holds = clock.value("holds", json(0));
      std::printf("  on its guest's time: plugin %s on %s, guest time %.9f s, %s holds\n",
                  clock.value("plugin", "").c_str(), clock.value("socket", "").c_str(),
                  ns.is_number() ? ns.get<double>() / 1e9 : 0.0, holds.dump().c_str());
      if (clock.contains("stop_ns") && clock["stop_ns"].is_number())
        std::printf("  stepped: %s at %.9f s (vgpio ctl run %s moves it on)\n",
                    clock.value("held", false) ? "held" : "to be held", clock["stop_ns"].get<double>() / 1e9,
                    d.value("name", "").c_str());
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

void print_restart(const json& r) {
  const json restart = r.value("restart", json::object());
  std::printf("restarts        %s\n", restart.value("kept", false)
                                          ? "lines and guest state kept in the service manager's fd store"
                                          : "nothing kept (no service manager): a restart releases every line");
  for (const auto& line : restart.value("report", json::array()))
    std::printf("  %s\n", line.get<std::string>().c_str());
}

void print_status(const json& r) {
  std::printf("devices         %s\n", r.value("devices", json(0)).dump().c_str());
  const json clocks = r.value("clocks", json::object());
  for (const auto& [name, clock] : clocks.items())
    std::printf("  %-13s on %s time\n", name.c_str(), clock == "guest" ? "its guest's" : "the host's");
  print_restart(r);
  const json s = r.value("sandbox", json::object());
  if (!s.value("enabled", false)) {
    std::printf("sandbox         off (--no-sandbox)\n");
    std::printf("user            %s\n", s.value("user", "?").c_str());
    return;
  }
  std::printf("user            %s (uid %s, gid %s)\n", s.value("user", "?").c_str(),
              s.value("uid", json()).dump().c_str(), s.value("gid", json()).dump().c_str());
  std::printf("no_new_privs    %s\n", s.value("no_new_privs", false) ? "yes" : "no");
  std::printf("seccomp         %s (%s calls denied so far)\n", s.value("seccomp", "none").c_str(),
              s.value("denied_syscalls", json(0)).dump().c_str());
  std::printf("landlock        %s\n", s.value("landlock", "none").c_str());
}

}  // namespace

void print_answer(control::CommandId id, const json& r) {
  using control::CommandId;
  switch (id) {
    case CommandId::Get: return void(std::printf("%s\n", value_text(r["value"]).c_str()));
    case CommandId::List: return print_list(r);
    case CommandId::Status: return print_status(r);
    case CommandId::SandboxProbe:
      for (const auto& [what, result] : r["attempts"].items())
        std::printf("%-28s %s\n", what.c_str(), result.get<std::string>().c_str());
      return;
    case CommandId::Wires:
      for (const auto& w : r["wires"])
        std::printf("%s -> %s  delay %s%s%s\n", w.value("from", "").c_str(), w.value("to", "").c_str(),
                    w.value("delay", "").c_str(), w.value("invert", false) ? ", inverted" : "",
                    w.value("config", false) ? "  (from the config)" : "");
      return;
    case CommandId::Pulse:
    case CommandId::Clock:
    case CommandId::Bounce:
    case CommandId::Pattern: return void(std::printf("%s\n", r.value("stimulus", "").c_str()));
    case CommandId::Stop:
      return void(std::printf("%s\n", r.value("stopped", false) ? "stopped" : "nothing was running"));
    case CommandId::Wire: return void(std::printf("%s\n", r.value("wire", "").c_str()));
    case CommandId::Set:
    case CommandId::Watch:
    case CommandId::Run:
    case CommandId::Unwire:
    case CommandId::Create:
    case CommandId::Destroy: break;
  }
  if (r.size() > 1) {
    json rest = r;
    rest.erase("ok");
    std::printf("%s\n", rest.dump().c_str());
  }
}

}  // namespace vgpio::client
