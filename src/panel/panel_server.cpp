#include "panel/panel_server.h"

#include <fcntl.h>
#include <httplib.h>

#include <chrono>

#include "base/log.h"
#include "client/control_client.h"
#include "panel/assets.h"
#include "panel/http_guard.h"
#include "panel/panel_api.h"

namespace vgpio::panel {

using nlohmann::json;

namespace {

// cpp-httplib 0.11 (Debian 12's) binds TCP only, but serves any listening
// socket it is given as its own.
class HttpServer : public httplib::Server {
 public:
  void adopt(int listening_fd) { svr_sock_ = listening_fd; }
};

void refuse(httplib::Response& res, int status, const std::string& why) {
  res.status = status;
  res.set_content(json{{"ok", false}, {"error", why}}.dump(), "application/json");
}

// The page may only run its own script and style, and talk to this panel.
void set_page_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

// One SSE message per watch event; what is already queued goes out together,
// so that 1,000 edges a second cost a few writes, not a thousand.
bool forward_events(client::ControlClient& client, httplib::DataSink& sink) {
  std::string batch;
  auto first = client.next(std::chrono::milliseconds(1000));
  if (!first) return false;                                // the daemon went away: the page reconnects
  if (!first.value()) return sink.write(": idle\n\n", 8);  // also finds a page that left
  batch += "event: change\ndata: " + first.value()->dump() + "\n\n";
  while (batch.size() < 64 * 1024) {
    auto more = client.next(std::chrono::milliseconds(0));
    if (!more || !more.value()) break;
    batch += "event: change\ndata: " + more.value()->dump() + "\n\n";
  }
  return sink.write(batch.data(), batch.size());
}

}  // namespace

Result<std::unique_ptr<PanelServer>> PanelServer::create(const PanelOptions& options) {
  std::unique_ptr<PanelServer> p(new PanelServer());
  p->options_ = options;
  auto http = std::make_unique<HttpServer>();
  std::vector<std::string> hosts;  // none for a Unix socket: any Host
  if (!options.unix_path.empty()) {
    // The file's mode decides who connects: the owner only.
    Listener l = TRY(listen_unix(options.unix_path, SocketAccess{0600, {}, {}}));
    // httplib accepts with blocking calls.
    fcntl(l.fd.get(), F_SETFL, fcntl(l.fd.get(), F_GETFL) & ~O_NONBLOCK);
    http->adopt(l.fd.release());
    p->socket_file_ = std::move(l.file);
    p->url_ = "unix:" + options.unix_path + " /";
  } else {
    if (options.port == 0) {
      p->port_ = http->bind_to_any_port(options.address);
      if (p->port_ < 0) return Error("cannot listen on " + options.address);
    } else {
      if (!http->bind_to_port(options.address, options.port))
        return Error("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                     " (in use? another --listen)");
      p->port_ = options.port;
    }
    hosts = host_names(options.address, p->port_);
    std::string shown = options.address.find(':') != std::string::npos ? "[" + options.address + "]" : options.address;
    p->url_ = "http://" + shown + ":" + std::to_string(p->port_) + "/";
  }
  p->http_ = std::move(http);
  p->guard_ = std::make_unique<HttpGuard>(std::move(hosts), TRY(HttpGuard::make_token()), TRY(HttpGuard::make_token()));
  p->url_ += "?token=" + p->guard_->login();
  p->add_routes();
  return p;
}

PanelServer::~PanelServer() = default;

void PanelServer::run() { http_->listen_after_bind(); }

void PanelServer::stop() { http_->stop(); }

void PanelServer::add_routes() {
  HttpGuard& guard = *guard_;
  const std::string control = options_.control;
  http_->set_pre_routing_handler([&guard](const httplib::Request& req, httplib::Response& res) {
    using httplib::Server;
    Result<void> r = guard.check_host(req.get_header_value("Host"));
    if (r && req.method != "GET" && req.method != "HEAD") r = guard.check_origin(req.get_header_value("Origin"));
    if (r && req.path == "/" && req.has_param("token")) {
      // The owner's URL: its token becomes the session cookie, and the
      // address bar loses the token.
      r = guard.redeem(req.get_param_value("token"));
      if (r) {
        res.set_header("Set-Cookie", guard.session_cookie());
        res.set_redirect("/", 303);
        set_page_headers(res);
        return Server::HandlerResponse::Handled;
      }
    }
    // The scripts and the style are public: the secret is in the cookie.
    if (r && req.path != "/panel.js" && req.path != "/panel.css")
      r = guard.check_cookie(req.get_header_value("Cookie"));
    if (!r) {
      refuse(res, 403, r.error().message());
      return Server::HandlerResponse::Handled;
    }
    return Server::HandlerResponse::Unhandled;
  });
  http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    set_page_headers(res);
    res.set_content(std::string(assets::kIndexHtml), "text/html; charset=utf-8");
  });
  http_->Get("/panel.js", [](const httplib::Request&, httplib::Response& res) {
    set_page_headers(res);
    res.set_content(std::string(assets::kPanelJs), "text/javascript; charset=utf-8");
  });
  http_->Get("/panel.css", [](const httplib::Request&, httplib::Response& res) {
    set_page_headers(res);
    res.set_content(std::string(assets::kPanelCss), "text/css; charset=utf-8");
  });
  http_->Get("/events", [control](const httplib::Request&, httplib::Response& res) {
    auto client = client::ControlClient::connect(control);
    if (!client) return refuse(res, 502, "the daemon's control socket: " + client.error().message());
    auto snapshot = client.value().call({{"cmd", "watch"}, {"snapshot", true}});
    if (!snapshot) return refuse(res, 502, snapshot.error().message());
    res.set_header("Cache-Control", "no-store");
    auto shared = std::make_shared<client::ControlClient>(client.release_value());
    auto first = std::make_shared<std::string>("event: snapshot\ndata: " + snapshot.value().dump() + "\n\n");
    res.set_chunked_content_provider("text/event-stream", [shared, first](size_t, httplib::DataSink& sink) {
      if (!first->empty()) {
        bool ok = sink.write(first->data(), first->size());
        first->clear();
        return ok;
      }
      return forward_events(*shared, sink);
    });
  });
  http_->Post("/api/drive", [control](const httplib::Request& req, httplib::Response& res) {
    json request = json::parse(req.body, nullptr, false);
    auto answer = drive(control, request);
    if (!answer) return refuse(res, 400, answer.error().message());
    res.set_content(answer.value().dump(), "application/json");
  });
  http_->Post("/api/record", [control](const httplib::Request& req, httplib::Response& res) {
    json request = json::parse(req.body, nullptr, false);
    auto vcd = record(control, request);
    if (!vcd) return refuse(res, 400, vcd.error().message());
    res.set_header("Content-Disposition", "attachment; filename=\"vgpio.vcd\"");
    res.set_content(vcd.value(), "application/octet-stream");
  });
}

}  // namespace vgpio::panel
