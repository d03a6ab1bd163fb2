#include "control/connections.h"

#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::control {

using nlohmann::json;

Result<std::unique_ptr<Connections>> Connections::create(EventLoop& loop, std::string path, const SocketAccess& access,
                                                         Dispatch dispatch, Closed closed) {
  Listener listener = TRY(listen_unix(path, access));
  std::unique_ptr<Connections> s(
      new Connections(loop, std::move(path), std::move(listener), std::move(dispatch), std::move(closed)));
  Connections* raw = s.get();
  s->listen_watch_ = TRY(loop.watch(s->listener_.fd.get(), EPOLLIN, [raw](uint32_t) { raw->on_accept(); }));
  return s;
}

Result<void> Connections::set_access(const SocketAccess& access) {
  Listener fresh = TRY(listener_.remake(path_, access));
  Connections* self = this;
  EventLoop::WatchId watch = TRY(loop_.watch(fresh.fd.get(), EPOLLIN, [self](uint32_t) { self->on_accept(); }));
  // Whoever connected to the old socket and was not accepted yet is let go:
  // they asked under the old access.
  loop_.unwatch(listen_watch_);
  listen_watch_ = watch;
  listener_ = std::move(fresh);
  return ok();
}

Connections::Connections(EventLoop& loop, std::string path, Listener listener, Dispatch dispatch, Closed closed)
    : loop_(loop),
      path_(std::move(path)),
      listener_(std::move(listener)),
      dispatch_(std::move(dispatch)),
      closed_(std::move(closed)) {}

Connections::~Connections() {
  for (auto& c : clients_) loop_.unwatch(c->watch);
  if (listen_watch_) loop_.unwatch(listen_watch_);
}

std::optional<Role> Connections::role_of(const Peer& peer) const {
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

json refusal(ErrorKind otherwise, const Error& e) {
  return {{"ok", false}, {"error", e.message()}, {"error_kind", kind_name(kind_of(e.code(), otherwise))}};
}

void Connections::turn_away(UniqueFd fd, const Peer& peer, ErrorKind kind, const std::string& why) {
  LOG_WARN_LIMITED("control: turned away a client, %s: %s", peer.describe().c_str(), why.c_str());
  std::string line = refusal(kind, Error(why)).dump() + "\n";
  // A new connection's buffer is empty: the line fits, or the peer is gone.
  [[maybe_unused]] ssize_t n = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Connections::on_accept() {
  UniqueFd fd(accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  auto peer = peer_of(fd.get());
  if (!peer) {
    LOG_WARN_LIMITED("control: a client's credentials: %s; closed it", peer.error().message().c_str());
    return;
  }
  if (!role_of(peer.value()))
    return turn_away(std::move(fd), peer.value(), ErrorKind::NotPermitted,
                     strfmt("uid %u may not use this control socket (the daemon's control_observe and control_act "
                            "name who may)",
                            unsigned(peer.value().uid)));
  size_t same_user = 0;
  for (const auto& c : clients_) same_user += !c->closing && c->peer.uid == peer.value().uid;
  if (clients_.size() >= kMaxClients || same_user >= kMaxClientsPerUser)
    return turn_away(std::move(fd), peer.value(), ErrorKind::Limit,
                     strfmt("too many control connections (at most %zu, %zu per user); close some and try again",
                            kMaxClients, kMaxClientsPerUser));
  auto client = std::make_unique<Connection>();
  client->peer = peer.release_value();
  Connection* c = client.get();
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this, c](uint32_t events) {
    if (events & EPOLLOUT) on_writable(*c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(*c);
    if ((events & (EPOLLHUP | EPOLLERR)) && c->paused()) close(*c, "peer gone");
  });
  if (!watch) return;
  c->fd = std::move(fd);
  c->watch = watch.value();
  c->id = next_id_++;
  clients_.push_back(std::move(client));
}

void Connections::close(Connection& client, const char* why) {
  if (client.closing) return;
  LOG_DEBUG("control: closing a client: %s", why);
  loop_.unwatch(client.watch);
  // Deferred: we may be inside this client's callback.
  client.closing = true;
  if (client.watching) watchers_.fetch_sub(1);
  loop_.post([this] {
    // Taken out first: a callback that closes another client posts again.
    std::vector<std::unique_ptr<Connection>> gone;
    for (auto& c : clients_)
      if (c->closing) gone.push_back(std::move(c));
    std::erase(clients_, nullptr);
    for (auto& c : gone) closed_(*c);
  });
}

void Connections::on_readable(Connection& client) {
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
void Connections::serve_requests(Connection& client) {
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

void Connections::refuse_long_line(Connection& client) {
  LOG_WARN_LIMITED("control: a client sent a request line over %zu bytes; refused it", kMaxLine);
  send(client, refusal(ErrorKind::BadRequest, Error(strfmt("request line longer than %zu bytes; refused", kMaxLine))));
}

json Connections::answer(Connection& client, const std::string& line) {
  json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded())
    return refusal(ErrorKind::BadRequest, Error("not valid JSON (or not UTF-8); send one JSON object per line"));
  if (!request.is_object())
    return refusal(ErrorKind::BadRequest, Error("not a JSON object; send one JSON object per line"));
  return execute(client, request);
}

void Connections::send(Connection& client, const json& message, bool event) {
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

void Connections::on_writable(Connection& client) {
  while (!client.closing && client.sent < client.out.size()) {
    ssize_t n = ::send(client.fd.get(), client.out.data() + client.sent, client.out.size() - client.sent, MSG_NOSIGNAL);
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
  if (!client.paused() && client.in.find('\n') != std::string::npos)
    loop_.post([this, id = client.id] {
      for (auto& c : clients_)
        if (c->id == id) serve_requests(*c);
    });
  update_watch(client);
}

// EPOLLIN only while the backlog has room, EPOLLOUT only while something waits.
void Connections::update_watch(Connection& client) {
  if (client.closing) return;
  uint32_t events =
      (client.paused() ? 0u : uint32_t{EPOLLIN}) | (client.sent < client.out.size() ? uint32_t{EPOLLOUT} : 0u);
  if (events != client.events) loop_.modify(client.watch, events);
  client.events = events;
}

json Connections::execute(Connection& client, const json& request) {
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
  return dispatch_(client, *command, with_defaults(*command, request));
}

void Connections::start_watching(Connection& c, std::optional<std::string> device) {
  if (!c.watching) watchers_.fetch_add(1);
  c.watching = true;
  c.watch_device = std::move(device);
}

void Connections::send_to_watchers(const std::string& device, const json& event) {
  for (auto& c : clients_)
    if (c->watching && (!c->watch_device || *c->watch_device == device)) send(*c, event, /*event=*/true);
}

void Connections::send_event(uint64_t id, const json& event) {
  for (auto& c : clients_)
    if (c->id == id) send(*c, event, /*event=*/true);
}

}  // namespace vgpio::control
