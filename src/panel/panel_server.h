// `vgpio panel`: a web page with every line of a daemon, live. A separate
// process that talks to the daemon only through its control socket, so the
// daemon has no HTTP code and the panel no privileges beyond that socket.
//   GET  /                the page (assets built in; nothing loads from outside)
//   GET  /events          server-sent events: the watch stream, snapshot first
//   POST /api/drive       toggle, pulse or bounce a simulated input
//   POST /api/record      record N seconds of every line into a VCD
//   GET  /?token=LOGIN    the owner's URL: the one-time token for a session cookie
// The page, /events and /api/ need the session cookie (see http_guard.h);
// every request must name this panel in Host; a POST must come from the
// panel's own page (Origin).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/unix_socket.h"

namespace httplib {
class Server;
}

namespace vgpio::panel {

class HttpGuard;

struct PanelOptions {
  std::string control = "./vgpio.sock.ctl";
  std::string address = "127.0.0.1";
  int port = 8080;        // 0: any free port
  std::string unix_path;  // set: a Unix socket (owner-only) instead of TCP
};

class PanelServer {
 public:
  static Result<std::unique_ptr<PanelServer>> create(const PanelOptions& options);
  ~PanelServer();
  PanelServer(const PanelServer&) = delete;
  PanelServer& operator=(const PanelServer&) = delete;

  int port() const { return port_; }
  const std::string& url() const { return url_; }
  // Serves until stop() (thread-safe).
  void run();
  void stop();

 private:
  PanelServer() = default;
  void add_routes();

  PanelOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<HttpGuard> guard_;
  SocketFile socket_file_;  // with unix_path
  int port_ = 0;
  std::string url_;
};

}  // namespace vgpio::panel
