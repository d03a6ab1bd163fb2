#include <cstdio>

#include "app/commands.h"
#include "control/control_client.h"

namespace vgpio::app {

using nlohmann::json;

namespace {
int usage() {
  std::fprintf(stderr, "usage: vgpio ctl [--control PATH] list | get DEVICE LINE | set DEVICE LINE 0|1 | watch [DEVICE]\n");
  return 2;
}

std::string value_text(const json& v) { return v.is_null() ? "?" : v.dump(); }

// A LINE argument that is all digits is a line number; anything else a name.
json line_arg(const std::string& s) {
  bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 6;
  return digits ? json(std::stoul(s)) : json(s);
}

void print_event(const json& e, bool raw) {
  if (raw) {
    std::printf("%s\n", e.dump().c_str());
  } else {
    std::printf("%s %s %s(%s) %s=%s\n", e.value("time", "").c_str(), e.value("device", "").c_str(),
                e["line"].dump().c_str(), e.value("name", "").c_str(), e.value("field", "").c_str(),
                e["value"].is_string() ? e["value"].get<std::string>().c_str() : e["value"].dump().c_str());
  }
  std::fflush(stdout);
}
}  // namespace

int ctl(const CtlOptions& o) {
  const auto& a = o.args;
  json request;
  if (a[0] == "list" && a.size() == 1) request = {{"cmd", "list"}};
  else if (a[0] == "get" && a.size() == 3) request = {{"cmd", "get"}, {"device", a[1]}, {"line", line_arg(a[2])}};
  else if (a[0] == "set" && a.size() == 4 && (a[3] == "0" || a[3] == "1"))
    request = {{"cmd", "set"}, {"device", a[1]}, {"line", line_arg(a[2])}, {"value", a[3] == "1" ? 1 : 0}};
  else if (a[0] == "watch" && a.size() <= 2) {
    request = {{"cmd", "watch"}};
    if (a.size() == 2) request["device"] = a[1];
  } else {
    return usage();
  }
  auto client = control::ControlClient::connect(o.control);
  if (!client) {
    std::fprintf(stderr, "vgpio ctl: %s\n", client.error().message().c_str());
    return 1;
  }
  auto answer = client.value().call(request);
  if (!answer) {
    std::fprintf(stderr, "vgpio ctl: %s\n", answer.error().message().c_str());
    return 1;
  }
  const json& r = answer.value();
  if (a[0] == "watch") {
    for (;;) {
      auto e = client.value().next(std::chrono::milliseconds(-1));
      if (!e) {
        std::fprintf(stderr, "vgpio ctl: %s\n", e.error().message().c_str());
        return 1;
      }
      if (e.value()) print_event(*e.value(), o.json);
    }
  }
  if (o.json) {
    std::printf("%s\n", r.dump(2).c_str());
  } else if (a[0] == "get") {
    std::printf("%s\n", value_text(r["value"]).c_str());
  } else if (a[0] == "list") {
    for (const auto& d : r["devices"]) {
      std::printf("device %s  (%s)\n", d.value("name", "").c_str(), d.value("socket", "").c_str());
      // The holder last: "vgpio-plc1, held at safe level 1" is long.
      std::printf("  %5s  %-16s %-4s %-5s %-12s %-24s %s\n", "line", "name", "dir", "value", "irq", "kind", "holder");
      for (const auto& l : d["lines"]) {
        std::string irq = l.value("irq", "");
        if (irq != "none") irq += l.value("unmasked", false) ? "" : "(m)";
        std::printf("  %5s  %-16s %-4s %-5s %-12s %-24s %s\n", l["line"].dump().c_str(), l.value("name", "").c_str(),
                    l.value("direction", "").c_str(), value_text(l["value"]).c_str(), irq.c_str(),
                    l.value("kind", "").c_str(), l.value("holder", "").empty() ? "-" : l.value("holder", "").c_str());
      }
    }
  }
  return 0;
}

}  // namespace vgpio::app
