#include "config/config.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "base/duration.h"
#include "base/strings.h"
#include "config/toml_reader.h"

namespace vgpio::config {

using namespace detail;

Result<void> check_name(std::string_view name) {
  auto fail = [](const std::string& why) {
    return Error(why +
                 strfmt("; a name is 1 to %zu of A-Z a-z 0-9 _ . + -, not starting with '.' or '-'", kMaxNameLength));
  };
  if (name.empty()) return fail("it is empty");
  if (name.size() > kMaxNameLength) return fail(strfmt("it is %zu characters long", name.size()));
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '+' && c != '-')
      return fail(c == '/'          ? "it has a '/'"
                  : std::isprint(c) ? strfmt("it has a '%c'", c)
                                    : strfmt("it has the byte 0x%02x", c));
  if (name[0] == '.' || name[0] == '-') return fail(strfmt("it starts with '%c'", name[0]));
  if (name.find("..") != std::string_view::npos) return fail("it has \"..\"");
  return ok();
}

namespace detail {
Result<LineSpec> parse_line(const Context& ctx, const toml::table& t) {
  TRY(only_keys(ctx, t,
                {"name", "simulated", "chip", "offset", "host_name", "direction", "safe_level", "initial", "when_idle",
                 "active_low", "bias", "debounce"}));
  LineSpec l;
  l.source_line = Context::line_of(t);
  l.name = TRY(get_name(ctx, t, "name", /*line=*/true)).value_or("");
  l.simulated = TRY(get_bool(ctx, t, "simulated")).value_or(false);
  l.chip = TRY(get_string(ctx, t, "chip")).value_or("");
  l.host_name = TRY(get_string(ctx, t, "host_name")).value_or("");
  if (const toml::node* n = t.get("offset")) {
    auto v = n->value_exact<int64_t>();
    if (!v || *v < 0 || *v > 65535) return ctx.error(*n, "\"offset\" must be a line number from 0 to 65535");
    l.offset = static_cast<unsigned>(*v);
  }
  bool by_chip = !l.chip.empty() || l.offset;
  bool by_name = !l.host_name.empty();
  if (l.simulated + by_chip + by_name != 1)
    return ctx.error(t, "a line is exactly one of: simulated = true, chip + offset, or host_name");
  if (by_chip && (l.chip.empty() || !l.offset)) return ctx.error(t, "a host line by chip needs both chip and offset");

  std::string direction = TRY(get_string(ctx, t, "direction")).value_or("any");
  if (direction == "input") l.policy.may_output = false;
  else if (direction == "output") l.policy.may_input = false;
  else if (direction != "any")
    return ctx.error(*t.get("direction"), "\"direction\" must be \"input\", \"output\" or \"any\"");

  auto safe = TRY(get_level(ctx, t, "safe_level"));
  auto initial = TRY(get_level(ctx, t, "initial"));
  if ((safe || initial) && !l.policy.may_output)
    return ctx.error(*t.get(safe ? "safe_level" : "initial"), "an input-only line has no output level to set");
  l.policy.safe_level = safe.value_or(false);
  l.policy.initial = initial.value_or(l.policy.safe_level);
  // An output, or any line given a safe level, is held there while idle.
  l.policy.hold_when_idle = !l.simulated && (direction == "output" || safe);
  if (auto idle = TRY(get_string(ctx, t, "when_idle"))) {
    if (*idle != "hold" && *idle != "release")
      return ctx.error(*t.get("when_idle"), "\"when_idle\" must be \"hold\" or \"release\"");
    if (l.simulated) return ctx.error(*t.get("when_idle"), "when_idle applies to host lines only");
    if (*idle == "hold" && !l.policy.may_output)
      return ctx.error(*t.get("when_idle"), "an input-only line has no safe level to hold");
    l.policy.hold_when_idle = *idle == "hold";
  }
  l.active_low = TRY(get_bool(ctx, t, "active_low")).value_or(false);

  if (auto bias = TRY(get_string(ctx, t, "bias"))) {
    static const std::pair<const char*, lines::Bias> kBias[] = {{"as-is", lines::Bias::AsIs},
                                                                {"disabled", lines::Bias::Disabled},
                                                                {"pull-up", lines::Bias::PullUp},
                                                                {"pull-down", lines::Bias::PullDown}};
    bool found = false;
    for (auto [text, b] : kBias)
      if (*bias == text) l.bias = b, found = true;
    if (!found)
      return ctx.error(*t.get("bias"), "\"bias\" must be \"as-is\", \"disabled\", \"pull-up\" or \"pull-down\"");
    if (!l.policy.may_input) return ctx.error(*t.get("bias"), "bias applies to inputs, and this line is output-only");
  }
  if (const toml::node* n = t.get("debounce")) {
    auto text = n->value<std::string>();
    auto d = text ? parse_duration(*text) : Result<std::chrono::nanoseconds>(Error(""));
    if (!d) return ctx.error(*n, "\"debounce\" must be a duration such as \"10ms\" or \"500us\"");
    if (!l.policy.may_input) return ctx.error(*n, "debounce applies to inputs, and this line is output-only");
    if (l.simulated && d.value().count() != 0) return ctx.error(*n, "debounce applies to host lines only");
    l.debounce = std::chrono::duration_cast<std::chrono::microseconds>(d.value());
  }
  return l;
}

}  // namespace detail

Result<std::chrono::nanoseconds> parse_clock_quantum(const std::string& text) {
  auto d = parse_duration(text);
  if (!d || d.value() < kMinClockQuantum) return Error("must be a duration of at least 1us, such as \"100us\"");
  return d.value();
}

namespace detail {
Result<ClockSpec> parse_clock(const Context& ctx, const toml::table& t) {
  ClockSpec c;
  auto clock = TRY(get_string(ctx, t, "clock"));
  if (clock && *clock != "host" && *clock != "guest")
    return ctx.error(*t.get("clock"), "\"clock\" must be \"host\" or \"guest\" (the vgpio-clock QEMU plugin's)");
  c.guest = clock == "guest";
  for (const char* key : {"clock_socket", "clock_quantum"})
    if (!c.guest && t.get(key)) return ctx.error(*t.get(key), std::string(key) + " applies to clock = \"guest\" only");
  c.socket = TRY(get_string(ctx, t, "clock_socket")).value_or("");
  if (auto quantum = TRY(get_string(ctx, t, "clock_quantum"))) {
    auto d = parse_clock_quantum(*quantum);
    if (!d) return ctx.error(*t.get("clock_quantum"), "\"clock_quantum\" " + d.error().message());
    c.quantum = d.value();
  }
  return c;
}
}  // namespace detail

namespace {

Result<DeviceSpec> parse_device(const Context& file_ctx, const toml::table& t, size_t index) {
  DeviceSpec d;
  d.source_line = Context::line_of(t);
  d.name = TRY(get_name(file_ctx, t, "name")).value_or("vgpio" + std::to_string(index));
  Context ctx = file_ctx.inner("device \"" + d.name + "\"");
  TRY(only_keys(ctx, t, {"name", "socket", "connect", "clock", "clock_socket", "clock_quantum", "line"}));
  auto socket = TRY(get_string(ctx, t, "socket"));
  if (!socket || socket->empty()) return ctx.error(t, "\"socket\" (the vhost-user socket path) is required");
  d.socket = *socket;
  d.connect = TRY(get_bool(ctx, t, "connect")).value_or(false);
  d.clock = TRY(parse_clock(ctx, t));
  const toml::array* lines = t["line"].as_array();
  if (!lines || lines->empty()) return ctx.error(t, "a device needs at least one [[device.line]]");
  std::set<std::string> names;
  for (size_t i = 0; i < lines->size(); ++i) {
    const toml::table* lt = (*lines)[i].as_table();
    Context lctx = ctx.inner("line " + std::to_string(i));
    if (!lt) return lctx.error((*lines)[i], "must be a table ([[device.line]])");
    LineSpec l = TRY(parse_line(lctx, *lt));
    if (!l.name.empty() && !names.insert(l.name).second)
      return lctx.error(*lt, "name \"" + l.name + "\" is used twice in this device; names must be unique");
    d.lines.push_back(std::move(l));
  }
  return d;
}

// Each end must name a device of this file and one of its lines, by name or number.
Result<void> parse_endpoint(const Context& ctx, const toml::table& t, const char* key, const ConfigSpec& spec,
                            std::string& device, std::string& line) {
  auto text = TRY(get_string(ctx, t, key));
  if (!text) return ctx.error(t, strfmt("\"%s\" is required: \"DEVICE:LINE\"", key));
  size_t colon = text->rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text->size())
    return ctx.error(*t.get(key),
                     strfmt("\"%s\" must be \"DEVICE:LINE\" (a line name or number), not \"%s\"", key, text->c_str()));
  device = text->substr(0, colon);
  line = text->substr(colon + 1);
  auto d =
      std::find_if(spec.devices.begin(), spec.devices.end(), [&](const DeviceSpec& x) { return x.name == device; });
  if (d == spec.devices.end()) return ctx.error(*t.get(key), "no device named \"" + device + "\" in this file");
  bool found = std::any_of(d->lines.begin(), d->lines.end(), [&](const LineSpec& l) { return l.name == line; });
  char* end = nullptr;
  unsigned long n = std::strtoul(line.c_str(), &end, 10);
  found |= *end == 0 && n < d->lines.size();
  if (!found) return ctx.error(*t.get(key), "device \"" + device + "\" has no line \"" + line + "\"");
  return ok();
}

Result<WireEntry> parse_wire(const Context& file_ctx, const toml::table& t, const ConfigSpec& spec, size_t index) {
  Context ctx = file_ctx.inner("wire " + std::to_string(index));
  TRY(only_keys(ctx, t, {"from", "to", "delay", "invert"}));
  WireEntry w;
  w.source_line = Context::line_of(t);
  TRY(parse_endpoint(ctx, t, "from", spec, w.from_device, w.from_line));
  TRY(parse_endpoint(ctx, t, "to", spec, w.to_device, w.to_line));
  if (auto delay = TRY(get_string(ctx, t, "delay"))) {
    auto d = parse_duration(*delay);
    if (!d) return ctx.error(*t.get("delay"), "\"delay\" must be a duration such as \"2ms\": " + d.error().message());
    w.delay = d.value();
  }
  w.invert = TRY(get_bool(ctx, t, "invert")).value_or(false);
  return w;
}

// [[pool]]: host lines that devices made at run time may take, one device at
// a time. Each needs a name to be asked for by.
Result<std::vector<LineSpec>> parse_pool(const Context& file_ctx, const toml::table& root) {
  std::vector<LineSpec> pool;
  const toml::node* node = root.get("pool");
  if (!node) return pool;
  const toml::array* list = node->as_array();
  if (!list) return file_ctx.error(*node, "\"pool\" must be an array of tables ([[pool]])");
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table* t = (*list)[i].as_table();
    Context ctx = file_ctx.inner("pool " + std::to_string(i));
    if (!t) return ctx.error((*list)[i], "must be a table ([[pool]])");
    LineSpec l = TRY(parse_line(ctx, *t));
    if (l.name.empty()) return ctx.error(*t, "a pool line needs a \"name\": created devices ask for it by name");
    if (l.simulated) return ctx.error(*t, "a pool holds host lines; simulated lines need no pool");
    if (!names.insert(l.name).second) return ctx.error(*t, "pool line \"" + l.name + "\" is named twice");
    l.pool = l.name;
    pool.push_back(std::move(l));
  }
  return pool;
}

}  // namespace

Result<LineSpec> parse_line_option(const std::string& text) {
  auto fail = [&](const std::string& what) {
    return Error("--line \"" + text + "\": " + what +
                 " (use NAME=CHIP:OFFSET[:in|out], NAME=@HOSTNAME[:in|out] or NAME=sim)");
  };
  size_t eq = text.find('=');
  if (eq == std::string::npos) return fail("no '='");
  LineSpec l;
  l.name = text.substr(0, eq);
  std::string source = text.substr(eq + 1);
  if (auto r = check_line_name(l.name); !r) return fail("the name: " + r.error().message());
  if (source == "sim") {
    l.simulated = true;
    return l;
  }
  // An optional direction comes last.
  for (const char* dir : {":in", ":out", ":any"}) {
    std::string suffix(dir);
    if (source.size() > suffix.size() && source.compare(source.size() - suffix.size(), suffix.size(), suffix) == 0) {
      source.resize(source.size() - suffix.size());
      l.policy.may_output = suffix != ":in";
      l.policy.may_input = suffix != ":out";
      l.policy.hold_when_idle = suffix == ":out";  // held at its safe level (low), as in a file
      break;
    }
  }
  if (!source.empty() && source[0] == '@') {
    l.host_name = source.substr(1);
    if (l.host_name.empty()) return fail("no line name after '@'");
    return l;
  }
  size_t colon = source.rfind(':');
  if (colon == std::string::npos || colon == 0) return fail("no CHIP:OFFSET");
  l.chip = source.substr(0, colon);
  char* end = nullptr;
  std::string offset = source.substr(colon + 1);
  unsigned long v = std::strtoul(offset.c_str(), &end, 10);
  if (offset.empty() || *end || v > 65535) return fail("\"" + offset + "\" is not a line offset");
  l.offset = static_cast<unsigned>(v);
  return l;
}

Result<ConfigSpec> parse(std::string_view text, const std::string& file_name) {
  Context ctx(file_name, "");
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return ctx.error(static_cast<int>(e.source().begin.line), std::string(e.description()));
  }
  TRY(only_keys(ctx, root,
                {"control", "socket_mode", "socket_owner", "socket_group", "control_mode", "control_owner",
                 "control_group", "control_observe", "control_act", "create_dir", "user", "group", "device", "wire",
                 "pool"}));
  ConfigSpec spec;
  spec.file = file_name;
  spec.root.control = TRY(get_string(ctx, root, "control")).value_or("");
  // Checked when the daemon starts (the user may not exist where `check` runs).
  spec.root.user = TRY(get_string(ctx, root, "user")).value_or("");
  spec.root.group = TRY(get_string(ctx, root, "group")).value_or("");
  TRY(parse_access(ctx, root, "socket", &spec.root.access));
  TRY(parse_control_access(ctx, root, spec.root));
  const toml::array* devices = root["device"].as_array();
  if (!devices || devices->empty()) return ctx.error(1, "no [[device]] in the file");
  std::set<std::string> names, sockets;
  for (size_t i = 0; i < devices->size(); ++i) {
    const toml::table* t = (*devices)[i].as_table();
    if (!t) return ctx.error((*devices)[i], "\"device\" must be an array of tables ([[device]])");
    DeviceSpec d = TRY(parse_device(ctx, *t, i));
    if (!names.insert(d.name).second) return ctx.error(*t, "device name \"" + d.name + "\" is used twice");
    if (!sockets.insert(d.socket).second) return ctx.error(*t, "socket \"" + d.socket + "\" is used by two devices");
    spec.devices.push_back(std::move(d));
  }
  spec.pool = TRY(parse_pool(ctx, root));
  if (const toml::node* wires = root.get("wire")) {
    const toml::array* list = wires->as_array();
    if (!list) return ctx.error(*wires, "\"wire\" must be an array of tables ([[wire]])");
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      if (!t) return ctx.error((*list)[i], "\"wire\" must be an array of tables ([[wire]])");
      spec.wires.push_back(TRY(parse_wire(ctx, *t, spec, i)));
    }
  }
  return spec;
}

Result<ConfigSpec> load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::from_errno(errno, "cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

}  // namespace vgpio::config
