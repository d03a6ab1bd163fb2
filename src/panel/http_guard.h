// Who may use a panel. It belongs to whoever started it, the way Jupyter
// does it: the owner's terminal gets a URL with a one-time login token; the
// first request with it is given a session cookie (HttpOnly, SameSite=Strict)
// and every page, event stream and API call needs that cookie. The page never
// holds the secret, so another local user who fetches it learns nothing.
// Against other websites, which a browser may make send requests here:
//   - Host must name this panel (a DNS-rebinding name points here but says
//     otherwise); a Unix socket, which no web page reaches, takes any Host;
//   - Origin, when the browser sends one, must be this panel (CSRF; the
//     cookie is SameSite=Strict as well).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio::panel {

class HttpGuard {
 public:
  static constexpr const char* kCookie = "vgpio_panel";
  // `hosts`: the Host values that name this panel, e.g. "127.0.0.1:8080",
  // "localhost:8080"; empty for any. `login`, `session`: random (make_token).
  HttpGuard(std::vector<std::string> hosts, std::string login, std::string session)
      : hosts_(std::move(hosts)), login_(std::move(login)), session_(std::move(session)) {}
  static Result<std::string> make_token();

  Result<void> check_host(const std::string& host) const;
  // Empty: the browser sent none (a same-origin GET may not).
  Result<void> check_origin(const std::string& origin) const;
  // The login token, once: the first right one succeeds, and no later one.
  // Thread-safe.
  Result<void> redeem(const std::string& login);
  // The request's Cookie header must carry the session.
  Result<void> check_cookie(const std::string& cookie_header) const;
  // The Set-Cookie value that gives the session.
  std::string session_cookie() const;
  const std::string& login() const { return login_; }

 private:
  std::vector<std::string> hosts_;
  std::string login_;
  std::string session_;
  std::atomic<bool> redeemed_{false};
};

// The Host values that name a panel listening on `address:port`: the
// address itself, and localhost's names when it is a loopback address.
std::vector<std::string> host_names(const std::string& address, int port);

}  // namespace vgpio::panel
