// vgpio-panel (also `vgpio panel`): the live panel of a running daemon.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "base/log.h"
#include "panel/panel_server.h"

namespace {

// "127.0.0.1:8080", "[::1]:8080", a port alone (on loopback), or unix:PATH.
bool parse_listen(const std::string& text, vgpio::panel::PanelOptions& o) {
  if (text.rfind("unix:", 0) == 0) {
    o.unix_path = text.substr(5);
    return !o.unix_path.empty();
  }
  size_t colon = text.rfind(':');
  std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (colon != std::string::npos) {
    o.address = text.substr(0, colon);
    if (o.address.size() > 2 && o.address.front() == '[' && o.address.back() == ']')
      o.address = o.address.substr(1, o.address.size() - 2);
  }
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) return false;
  o.port = std::stoi(port);
  return o.port <= 65535 && !o.address.empty();
}

bool loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost";
}

}  // namespace

// CLI11_PARSE catches the parse errors; anything else that escapes is a bug,
// and std::terminate names it.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  CLI::App app{"vgpio-panel: every line of a vgpio daemon in the browser, live"};
  vgpio::panel::PanelOptions options;
  std::string listen = "127.0.0.1:8080";
  app.add_option("--control", options.control, "the daemon's control socket")->capture_default_str();
  app.add_option("--listen", listen,
                 "ADDRESS:PORT to serve on (port 0: any free one), or unix:PATH (a socket only its owner may use)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!parse_listen(listen, options)) {
    std::fprintf(stderr, "vgpio panel: --listen %s: give ADDRESS:PORT, like 127.0.0.1:8080, or unix:PATH\n",
                 listen.c_str());
    return 2;
  }
  if (options.unix_path.empty() && !loopback(options.address))
    LOG_WARN(
        "panel: listening on %s, not on loopback: the login token in the URL below crosses the network in "
        "the clear; prefer loopback or unix:PATH with an SSH tunnel",
        options.address.c_str());
  signal(SIGPIPE, SIG_IGN);  // a page that leaves mid-event is a failed write, not a signal
  auto server = vgpio::panel::PanelServer::create(options);
  if (!server) {
    std::fprintf(stderr, "vgpio panel: %s\n", server.error().message().c_str());
    return 1;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the server's threads start
  std::thread serving([&] { server.value()->run(); });
  // The owner's terminal only: the URL's token is good once, for one browser.
  std::printf("vgpio panel: open %s (daemon: %s)\n", server.value()->url().c_str(), options.control.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server.value()->stop();
  serving.join();
  return 0;
}
