#include "control/control_server.h"

#ifdef VGPIO_SANDBOX_PROBE
#include <cstring>

#include "service/sandbox_probe.h"
#endif

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::control {

using nlohmann::json;

struct ControlServer::Client {
  uint64_t id = 0;  // owns the devices it creates
  UniqueFd fd;
  EventLoop::WatchId watch = 0;
  std::string in;
  std::string out;
  bool watching = false;
  std::optional<std::string> watch_device;  // nullopt: all devices
  bool closing = false;
};

int64_t epoch_ns(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string timestamp_now() { return format_timestamp(std::chrono::system_clock::now()); }

std::string format_timestamp(std::chrono::system_clock::time_point now) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1000000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return strfmt("%s.%06lldZ", buf, static_cast<long long>(us % 1000000));
}

Result<std::unique_ptr<ControlServer>> ControlServer::create(EventLoop& loop, std::string path,
                                                             const SocketAccess& access,
                                                             std::vector<ControlledDevice> devices) {
  UniqueFd listener = TRY(listen_unix(path, access));
  std::unique_ptr<ControlServer> s(new ControlServer(loop, std::move(path), std::move(listener), std::move(devices)));
  ControlServer* raw = s.get();
  s->listen_watch_ = TRY(loop.watch(s->listener_.get(), EPOLLIN, [raw](uint32_t) { raw->on_accept(); }));
  return s;
}

ControlServer::ControlServer(EventLoop& loop, std::string path, UniqueFd listener,
                             std::vector<ControlledDevice> devices)
    : loop_(loop), path_(std::move(path)), listener_(std::move(listener)), devices_(std::move(devices)) {}

ControlServer::~ControlServer() {
  for (auto& c : clients_) loop_.unwatch(c->watch);
  if (listen_watch_) loop_.unwatch(listen_watch_);
  unlink(path_.c_str());
}

void ControlServer::on_accept() {
  UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  auto client = std::make_unique<Client>();
  Client* c = client.get();
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this, c](uint32_t events) {
    if (events & EPOLLOUT) on_writable(*c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(*c);
  });
  if (!watch) return;
  c->fd = std::move(fd);
  c->watch = watch.value();
  c->id = next_client_id_++;
  clients_.push_back(std::move(client));
}

void ControlServer::close(Client& client, const char* why) {
  if (client.closing) return;
  LOG_DEBUG("control: closing a client: %s", why);
  loop_.unwatch(client.watch);
  // Deferred: we may be inside this client's callback.
  client.closing = true;
  if (client.watching) watchers_.fetch_sub(1);
  loop_.post([this, id = client.id] {
    std::erase_if(clients_, [](const auto& c) { return c->closing; });
    if (maker_) maker_->owner_gone(id);  // its devices go with it
  });
}

void ControlServer::on_readable(Client& client) {
  if (client.closing) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(client.fd.get(), buf, sizeof buf);
    if (n == 0) return close(client, "peer closed");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return close(client, "read error");
    }
    client.in.append(buf, static_cast<size_t>(n));
    size_t pos;
    while ((pos = client.in.find('\n')) != std::string::npos) {
      std::string line = client.in.substr(0, pos);
      client.in.erase(0, pos + 1);
      if (line.empty()) continue;
      json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (request.is_discarded() || !request.is_object())
        send(client, {{"ok", false}, {"error", "not a JSON object; send one JSON object per line"}});
      else
        send(client, execute(client, request));
      if (client.closing) return;
    }
    if (client.in.size() > kMaxLine) {
      LOG_WARN_LIMITED("control: a client sent a line over %zu bytes; disconnected it", kMaxLine);
      send(client, {{"ok", false}, {"error", strfmt("request line longer than %zu bytes", kMaxLine)}});
      return close(client, "oversized line");
    }
  }
}

void ControlServer::send(Client& client, const json& message) {
  if (client.closing) return;
  bool was_empty = client.out.empty();
  client.out += message.dump();
  client.out += '\n';
  if (client.out.size() > kMaxBacklog) {
    LOG_WARN_LIMITED("control: a watcher fell %zu bytes behind; disconnected it", kMaxBacklog);
    return close(client, "backlog");
  }
  if (was_empty) on_writable(client);
}

void ControlServer::on_writable(Client& client) {
  while (!client.out.empty()) {
    ssize_t n = ::send(client.fd.get(), client.out.data(), client.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      return close(client, "write error");
    }
    client.out.erase(0, static_cast<size_t>(n));
  }
  // Ask for EPOLLOUT only while something waits to be sent.
  loop_.modify(client.watch, client.out.empty() ? EPOLLIN : (EPOLLIN | EPOLLOUT));
}

Result<size_t> ControlServer::find_device(const json& request) const {
  if (!request.contains("device")) {
    if (devices_.size() == 1) return size_t{0};
    return Error("\"device\" is required when the daemon serves several devices");
  }
  if (!request["device"].is_string()) return Error("\"device\" must be a string");
  std::string name = request["device"];
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i].device->name() == name) return i;
  return Error("no device named \"" + name + "\"");
}

Result<size_t> ControlServer::find_line(size_t device, const json& request) const {
  if (!request.contains("line")) return Error("\"line\" is required (a number or a name)");
  const json& l = request["line"];
  std::string key;
  if (l.is_number_unsigned()) key = std::to_string(l.get<uint64_t>());
  else if (l.is_string()) key = l.get<std::string>();
  else return Error("\"line\" must be a number or a name");
  Result<size_t> found = Error("");
  devices_[device].loop->run_sync([&] { found = devices_[device].device->find_line(key); });
  return found;
}

json ControlServer::line_json(size_t device, size_t line) const {
  const ControlledDevice& d = devices_[device];
  LineStatus s{};
  std::string driver;
  std::vector<std::string> wired_to;
  d.loop->run_sync([&] {
    s = d.device->status(line);
    if (d.sim) driver = d.sim->driver_of(line), wired_to = d.sim->wired_to(line);
  });
  json j = {{"line", line},
            {"name", s.name},
            {"kind", s.kind},
            {"direction", gpio::direction_name(s.direction)},
            {"irq", gpio::irq_type_name(s.irq_type)},
            {"unmasked", s.irq_unmasked},
            {"pending", s.irq_pending},
            {"holder", s.holder},
            {"driver", driver},
            {"wired_to", wired_to}};
  j["value"] = s.value < 0 ? json(nullptr) : json(s.value);
  return j;
}

json ControlServer::device_json(size_t d) const {
  json lines = json::array();
  size_t count = devices_[d].device->line_count();
  for (size_t l = 0; l < count; ++l) lines.push_back(line_json(d, l));
  return {{"name", devices_[d].device->name()},
          {"socket", devices_[d].socket_path},
          {"created", devices_[d].created},
          {"lines", lines}};
}

json ControlServer::execute(Client& client, const json& request) {
  std::string cmd = request.value("cmd", "");
  if (cmd == "list") {
    json devices = json::array();
    for (size_t d = 0; d < devices_.size(); ++d) devices.push_back(device_json(d));
    return {{"ok", true}, {"devices", devices}};
  }
  if (cmd == "status") {
    json answer = status_ ? status_() : json::object();
    answer["ok"] = true;
    answer["devices"] = devices_.size();
    return answer;
  }
#ifdef VGPIO_SANDBOX_PROBE
  if (cmd == "sandbox-probe") {  // test builds only: on the device's own thread
    auto d = find_device(request);
    if (!d) return refusal(d.error());
    std::vector<std::pair<std::string, int>> results;
    devices_[d.value()].loop->run_sync([&] { results = service::probe_sandbox(request.value("chip", "")); });
    json attempts = json::object();
    for (const auto& [what, err] : results) attempts[what] = err == 0 ? "allowed" : strerrorname_np(err);
    return {{"ok", true}, {"attempts", attempts}};
  }
#endif
  if (cmd == "get" || cmd == "set") {
    auto d = find_device(request);
    if (!d) return refusal(d.error());
    auto l = find_line(d.value(), request);
    if (!l) return refusal(l.error());
    if (cmd == "set") {
      const json& v = request.contains("value") ? request["value"] : json();
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 1) return refusal(Error("\"value\" must be 0 or 1"));
      const ControlledDevice& dev = devices_[d.value()];
      bool level = v.get<uint64_t>() == 1;
      Result<void> r;
      // Through the simulation when there is one: a set ends a stimulus.
      dev.loop->run_sync([&] { r = dev.sim ? dev.sim->set(l.value(), level) : dev.device->drive(l.value(), level); });
      if (!r) return refusal(r.error());
      return {{"ok", true}};
    }
    json j = line_json(d.value(), l.value());
    j["ok"] = true;
    j["device"] = devices_[d.value()].device->name();
    return j;
  }
  if (cmd == "watch") {
    std::optional<size_t> only;
    if (request.contains("device")) {
      auto d = find_device(request);
      if (!d) return refusal(d.error());
      only = d.value();
      client.watch_device = devices_[d.value()].device->name();
    }
    if (!client.watching) watchers_.fetch_add(1);
    client.watching = true;
    json answer = {{"ok", true}};
    // The state after watching began: a change from here on is in the stream,
    // so snapshot plus events miss nothing (a change may show up in both).
    if (request.value("snapshot", false)) {
      answer["ns"] = epoch_ns(std::chrono::system_clock::now());
      answer["devices"] = json::array();
      for (size_t d = 0; d < devices_.size(); ++d)
        if (!only || *only == d) answer["devices"].push_back(device_json(d));
    }
    return answer;
  }
  if (cmd == "create" || cmd == "destroy") {
    if (!maker_) return refusal(Error("this daemon makes no devices at run time"));
    if (cmd == "create") {
      auto made = maker_->create_device(request, client.id);
      if (!made) return refusal(made.error());
      json answer = made.release_value();
      answer["ok"] = true;
      return answer;
    }
    if (!request.contains("device") || !request["device"].is_string()) return refusal(Error("\"device\" is required"));
    auto r = maker_->destroy_device(request["device"].get<std::string>());
    return r ? json{{"ok", true}} : refusal(r.error());
  }
  if (auto answer = execute_sim(cmd, request)) return *answer;
  return refusal(Error("unknown \"cmd\" \"" + cmd +
                    "\"; use list, status, get, set, watch, pulse, clock, bounce, pattern, stop, wire, unwire, wires, create or destroy"));
}

void ControlServer::publish(const GpioDevice& dev, const LineChange& change) {
  if (watchers_.load(std::memory_order_relaxed) == 0) return;
  std::string time = format_timestamp(change.time);
  const char* field = change.field == LineChange::Field::Direction ? "direction"
                      : change.field == LineChange::Field::Value   ? "value"
                                                                   : "irq";
  json value = change.field == LineChange::Field::Direction ? json(gpio::direction_name(uint8_t(change.value)))
               : change.field == LineChange::Field::IrqType ? json(gpio::irq_type_name(uint8_t(change.value)))
                                                            : json(change.value);
  json event = {{"event", "change"}, {"time", time}, {"ns", epoch_ns(change.time)}, {"device", dev.name()},
                {"line", change.line}, {"name", dev.line_name(change.line)}, {"field", field}, {"value", value}};
  loop_.post([this, device = dev.name(), event = std::move(event)] {
    for (auto& c : clients_)
      if (c->watching && (!c->watch_device || *c->watch_device == device)) send(*c, event);
  });
}

}  // namespace vgpio::control
