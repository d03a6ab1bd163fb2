#include "control/control_server.h"

#include <sched.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <chrono>
#include <ctime>

#include "base/log.h"
#include "base/strings.h"
#include "control/commands.h"

namespace vgpio::control {

using nlohmann::json;

int64_t epoch_ns(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

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
  Listener listener = TRY(listen_unix(path, access));
  std::unique_ptr<ControlServer> s(new ControlServer(loop, std::move(path), std::move(listener.fd), std::move(devices)));
  s->file_ = std::move(listener.file);
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
}

std::optional<Role> ControlServer::role_of(const Peer& peer) const {
  if (peer.uid == 0 || peer.uid == geteuid() || act_.admits(peer)) return Role::Act;
  if (observe_.admits(peer)) return Role::Observe;
  return std::nullopt;
}

namespace {
// The codes that cross into the server from the layers below (the device
// maker, the wire board, the kernel) and the kind each is answered with.
ErrorKind kind_of(int code, ErrorKind otherwise) {
  switch (code) {
    case 0: return otherwise;
    case EINVAL: return ErrorKind::BadRequest;
    case EACCES:
    case EPERM: return ErrorKind::NotPermitted;
    case EUSERS: return ErrorKind::Limit;
    case ENODEV: return ErrorKind::NoDevice;
    case ENOENT: return ErrorKind::NoLine;
    case ESRCH: return ErrorKind::NoWire;
    case EBUSY:
    case EEXIST:
    case EADDRINUSE: return ErrorKind::Conflict;
    case EOPNOTSUPP: return ErrorKind::Unavailable;
    case ETIMEDOUT: return ErrorKind::NotAnswering;
    default: return ErrorKind::Failed;
  }
}
}  // namespace

json ControlServer::refusal(ErrorKind otherwise, const Error& e) {
  return {{"ok", false}, {"error", e.message()}, {"error_kind", kind_name(kind_of(e.code(), otherwise))}};
}

void ControlServer::turn_away(UniqueFd fd, const Peer& peer, ErrorKind kind, const std::string& why) {
  LOG_WARN_LIMITED("control: turned away a client, %s: %s", peer.describe().c_str(), why.c_str());
  std::string line = refusal(kind, Error(why)).dump() + "\n";
  // A new connection's buffer is empty: the line fits, or the peer is gone.
  [[maybe_unused]] ssize_t n = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void ControlServer::on_accept() {
  UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  auto peer = peer_of(fd.get());
  if (!peer) {
    LOG_WARN_LIMITED("control: a client's credentials: %s; closed it", peer.error().message().c_str());
    return;
  }
  if (!role_of(peer.value()))
    return turn_away(std::move(fd), peer.value(), ErrorKind::NotPermitted,
                     strfmt("uid %u may not use this control socket (the daemon's control_observe and control_act "
                            "name who may)", unsigned(peer.value().uid)));
  size_t same_user = 0;
  for (const auto& c : clients_) same_user += !c->closing && c->peer.uid == peer.value().uid;
  if (clients_.size() >= kMaxClients || same_user >= kMaxClientsPerUser)
    return turn_away(std::move(fd), peer.value(), ErrorKind::Limit,
                     strfmt("too many control connections (at most %zu, %zu per user); close some and try again",
                            kMaxClients, kMaxClientsPerUser));
  auto client = std::make_unique<Client>();
  client->peer = peer.release_value();
  Client* c = client.get();
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this, c](uint32_t events) {
    if (events & EPOLLOUT) on_writable(*c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(*c);
    if ((events & (EPOLLHUP | EPOLLERR)) && c->paused()) close(*c, "peer gone");
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
  forget_guest_waits(client);
  loop_.post([this, id = client.id] {
    std::erase_if(clients_, [](const auto& c) { return c->closing; });
    if (maker_) maker_->owner_gone(id);  // its devices go with it
  });
}

void ControlServer::on_readable(Client& client) {
  char buf[4096];
  while (!client.closing && !client.paused()) {
    ssize_t n = ::read(client.fd.get(), buf, sizeof buf);
    if (n == 0) {  // it sends no more: answer what came, then close
      client.read_closed = true;
      if (client.sent == client.out.size()) close(client, "peer closed");
      update_watch(client);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) close(client, "read error");
      return;
    }
    client.in.append(buf, static_cast<size_t>(n));
    serve_requests(client);
  }
}

// Answers the whole lines that arrived, until the client's backlog is full:
// then the rest wait, unread, until it has read its answers (on_writable).
void ControlServer::serve_requests(Client& client) {
  size_t pos;
  while (!client.closing && !client.paused() && (pos = client.in.find('\n')) != std::string::npos) {
    std::string line = client.in.substr(0, pos);
    client.in.erase(0, pos + 1);
    if (client.skipping) {  // the end of a line that was too long
      client.skipping = false;
      continue;
    }
    if (line.size() > kMaxLine) refuse_long_line(client);
    else if (!line.empty()) send(client, answer(client, line));
  }
  if (!client.skipping && client.in.size() > kMaxLine) {
    refuse_long_line(client);
    client.skipping = true;
  }
  if (client.skipping) client.in.clear();  // dropped up to the next newline
  update_watch(client);
}

void ControlServer::refuse_long_line(Client& client) {
  LOG_WARN_LIMITED("control: a client sent a request line over %zu bytes; refused it", kMaxLine);
  send(client, refusal(ErrorKind::BadRequest, Error(strfmt("request line longer than %zu bytes; refused", kMaxLine))));
}

json ControlServer::answer(Client& client, const std::string& line) {
  json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded())
    return refusal(ErrorKind::BadRequest, Error("not valid JSON (or not UTF-8); send one JSON object per line"));
  if (!request.is_object())
    return refusal(ErrorKind::BadRequest, Error("not a JSON object; send one JSON object per line"));
  return execute(client, request);
}

void ControlServer::send(Client& client, const json& message, bool event) {
  if (client.closing) return;
  // A device's line names come from its config and may hold any bytes.
  client.out += message.dump(-1, ' ', false, json::error_handler_t::replace);
  client.out += '\n';
  if (event && client.out.size() - client.sent > kMaxBacklog) {
    LOG_WARN_LIMITED("control: a watcher fell %zu bytes behind; disconnected it", kMaxBacklog);
    return close(client, "backlog");
  }
  on_writable(client);
}

void ControlServer::on_writable(Client& client) {
  while (!client.closing && client.sent < client.out.size()) {
    ssize_t n = ::send(client.fd.get(), client.out.data() + client.sent, client.out.size() - client.sent,
                       MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      return close(client, "write error");
    }
    client.sent += static_cast<size_t>(n);
  }
  if (client.sent == client.out.size() || client.sent > kMaxBacklog) {
    client.out.erase(0, client.sent);
    client.sent = 0;
  }
  if (client.read_closed && client.out.empty()) return close(client, "peer closed");
  // Requests that waited for the backlog to drain come now.
  if (!client.paused() && client.in.find('\n') != std::string::npos) loop_.post([this, id = client.id] {
    for (auto& c : clients_)
      if (c->id == id) serve_requests(*c);
  });
  update_watch(client);
}

// EPOLLIN only while the backlog has room, EPOLLOUT only while something waits.
void ControlServer::update_watch(Client& client) {
  if (client.closing) return;
  uint32_t events = (client.paused() ? 0u : uint32_t{EPOLLIN}) | (client.sent < client.out.size() ? uint32_t{EPOLLOUT} : 0u);
  if (events != client.events) loop_.modify(client.watch, events);
  client.events = events;
}

const std::unordered_map<std::string, ControlServer::Handler>& ControlServer::handlers() {
  static const std::unordered_map<std::string, Handler> handlers = {
      {"list", &ControlServer::list},
      {"status", &ControlServer::status},
      {"get", &ControlServer::get_or_set},
      {"set", &ControlServer::get_or_set},
      {"watch", &ControlServer::watch},
      {"pulse", &ControlServer::start_stimulus},
      {"clock", &ControlServer::start_stimulus},
      {"bounce", &ControlServer::start_stimulus},
      {"pattern", &ControlServer::start_stimulus},
      {"stop", &ControlServer::start_stimulus},
      {"wire", &ControlServer::execute_wire},
      {"unwire", &ControlServer::execute_wire},
      {"wires", &ControlServer::execute_wire},
      {"run", &ControlServer::run_guest},
      {"create", &ControlServer::create_or_destroy},
      {"destroy", &ControlServer::create_or_destroy},
      {"sandbox-probe", &ControlServer::sandbox_probe},
  };
  return handlers;
}

Error ControlServer::not_answering(const ControlledDevice& d) {
  return EventLoop::not_answering(d.device->name());
}

json ControlServer::execute(Client& client, const json& request) {
  if (!request.contains("cmd") || !request["cmd"].is_string())
    return refusal(ErrorKind::BadRequest, Error("\"cmd\" is required: a string, one of " + command_names()));
  std::string name = request["cmd"].get<std::string>();
  const Command* command = find_command(name);
  if (!command)
    return refusal(ErrorKind::BadRequest, Error("unknown \"cmd\" \"" + name + "\"; use one of " + command_names()));
  if (auto r = check_request(*command, request); !r)
    return refusal(ErrorKind::BadRequest, r.error().with_context(name));
  // Decided per request: a reload may have changed the grants.
  std::optional<Role> role = role_of(client.peer);
  if (command->role == Role::Act && role != Role::Act)
    return refusal(ErrorKind::NotPermitted,
                   Error(strfmt("%s: uid %u may observe but not act (list, get, watch...; the daemon's "
                                "control_act names who may act)",
                                name.c_str(), unsigned(client.peer.uid))));
  if (!role)
    return refusal(ErrorKind::NotPermitted, Error(strfmt("%s: uid %u may no longer use this control socket",
                                                         name.c_str(), unsigned(client.peer.uid))));
  auto handler = handlers().find(name);
  assert(handler != handlers().end() && "a command in the table has no handler");
  return (this->*handler->second)(client, name, with_defaults(*command, request));
}

void ControlServer::publish(const GpioDevice& dev, const LineChange& change) {
  if (watchers_.load(std::memory_order_relaxed) == 0) return;
  // The event is made here, on the control thread: the device's thread goes
  // back to its guest at once.
  loop_.post([this, device = dev.name(), line_name = dev.line_name(change.line), change] {
    if (change.interrupted_guest) let_guests_run();
    json event = change_event(device, line_name, change);
    for (auto& c : clients_)
      if (c->watching && (!c->watch_device || *c->watch_device == device)) send(*c, event, /*event=*/true);
  });
}

json ControlServer::change_event(const std::string& device, const std::string& line_name, const LineChange& change) {
  const char* field = change.field == LineChange::Field::Direction ? "direction"
                      : change.field == LineChange::Field::Value   ? "value"
                                                                   : "irq";
  json value = change.field == LineChange::Field::Direction ? json(gpio::direction_name(uint8_t(change.value)))
               : change.field == LineChange::Field::IrqType ? json(gpio::irq_type_name(uint8_t(change.value)))
                                                            : json(change.value);
  json event = {{"event", "change"}, {"time", format_timestamp(change.time)}, {"ns", epoch_ns(change.time)},
                {"device", device}, {"line", change.line}, {"name", line_name}, {"field", field}, {"value", value}};
  if (change.guest_ns) event["guest_ns"] = *change.guest_ns;
  return event;
}

// A device thread that has just interrupted its guest wakes this thread too,
// to tell the watchers. On a CPU the guest's vCPU shares, the scheduler may run
// us first, and the guest takes its interrupt only after we are done: the guest
// first, the watchers after (the events carry the edge's own time). Once a
// wake-up of this loop, however many events it brings; where no one waits for
// our CPU it is one system call.
void ControlServer::let_guests_run() {
  if (guests_ran_at_ == loop_.wakeups()) return;
  guests_ran_at_ = loop_.wakeups();
  sched_yield();
}

}  // namespace vgpio::control
