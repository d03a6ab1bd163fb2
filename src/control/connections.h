// The control socket's connections: JSON lines in, one answer per request
// line out, events to the connections that watch. This file knows framing,
// backpressure, the connection limits and who may do what; what a command
// does is the server's (control_server.h), reached through one Dispatch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/peer.h"
#include "base/unix_socket.h"
#include "control/commands.h"

namespace vgpio::control {

// {"ok": false, "error": ..., "error_kind": ...}: the answer to a request that
// failed. The kind is the one the error's code names (kind_of in
// connections.cpp), else `otherwise`.
nlohmann::json refusal(ErrorKind otherwise, const Error& e);

struct Connection {
  // A client with this much unread is not read from until it catches up.
  static constexpr size_t kMaxBacklog = 1 << 20;

  uint64_t id = 0;  // owns the devices it creates
  Peer peer;        // as the kernel saw it connect
  UniqueFd fd;
  EventLoop::WatchId watch = 0;
  uint32_t events = EPOLLIN;
  std::string in;
  std::string out;
  size_t sent = 0;  // of out
  bool watching = false;
  std::optional<std::string> watch_device;  // nullopt: all devices
  std::set<std::string> guest_waits;        // devices whose clocks hold an alarm of this client
  bool closing = false;
  bool skipping = false;     // inside a request line that was too long
  bool read_closed = false;  // it sends no more; closed once answered
  bool paused() const { return read_closed || out.size() - sent > kMaxBacklog; }
};

class Connections {
 public:
  // Longer request lines are refused (the connection stays usable).
  static constexpr size_t kMaxLine = 64 * 1024;
  // A watcher that falls this far behind the events is dropped. One answer
  // may be larger (a list of 65,535 lines is about 13 MB).
  static constexpr size_t kMaxBacklog = Connection::kMaxBacklog;
  // Connections at once, in all and per user: beyond them, a new one is
  // answered with an error and closed.
  static constexpr size_t kMaxClients = 64;
  static constexpr size_t kMaxClientsPerUser = 16;

  // A request that is a JSON object naming a command of the table, with the
  // fields its entry allows, sent by a user whose role allows it; the
  // table's defaults are filled in.
  using Dispatch = std::function<nlohmann::json(Connection&, const Command&, const nlohmann::json& request)>;
  // A connection closed; called once, on the loop, before it is freed.
  using Closed = std::function<void(const Connection&)>;

  static Result<std::unique_ptr<Connections>> create(EventLoop& loop, std::string path, const SocketAccess& access,
                                                     Dispatch dispatch, Closed closed);
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // Who may do what, besides root and the daemon's own user (who may do
  // anything). Applies to every request from now on.
  void set_grants(Grant observe, Grant act) { observe_ = std::move(observe), act_ = std::move(act); }
  // Who may connect from now on: the socket is made again with `access` and
  // renamed over the old one. Open connections stay (the grants decide what
  // they may do). On failure the old socket stays, as it was.
  Result<void> set_access(const SocketAccess& access);
  // What `peer` may do; nullopt: nothing.
  std::optional<Role> role_of(const Peer& peer) const;

  // The connection's changes from now on are events (of `device`, or all).
  void start_watching(Connection& c, std::optional<std::string> device);
  // Thread-safe: whether any connection watches.
  bool has_watchers() const { return watchers_.load(std::memory_order_relaxed) != 0; }
  // To every connection watching `device`.
  void send_to_watchers(const std::string& device, const nlohmann::json& event);
  // To the connection `id`, if it is still open.
  void send_event(uint64_t id, const nlohmann::json& event);
  const std::string& path() const { return path_; }

 private:
  Connections(EventLoop& loop, std::string path, Listener listener, Dispatch dispatch, Closed closed);
  void on_accept();
  // Answers a connection that may not stay, then closes it.
  void turn_away(UniqueFd fd, const Peer& peer, ErrorKind kind, const std::string& why);
  void on_readable(Connection& c);
  void serve_requests(Connection& c);
  void refuse_long_line(Connection& c);
  void on_writable(Connection& c);
  void update_watch(Connection& c);
  void send(Connection& c, const nlohmann::json& message, bool event = false);
  void close(Connection& c, const char* why);
  nlohmann::json answer(Connection& c, const std::string& line);
  nlohmann::json execute(Connection& c, const nlohmann::json& request);

  EventLoop& loop_;
  const std::string path_;
  Listener listener_;  // its file is removed with the connections
  EventLoop::WatchId listen_watch_ = 0;
  Dispatch dispatch_;
  Closed closed_;
  Grant observe_, act_;
  uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Connection>> clients_;
  std::atomic<int> watchers_{0};  // read by device threads
};

}  // namespace vgpio::control
