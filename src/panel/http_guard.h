// What keeps other websites out of a panel on localhost. A page the user has
// open elsewhere can make the browser send requests here, so:
//   - Host must name this panel (a DNS-rebinding name points here but says
//     otherwise);
//   - Origin, when the browser sends one, must be this panel (CSRF);
//   - a state change is a POST carrying the per-process token that only the
//     panel's own page has.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace vgpio::panel {

class HttpGuard {
 public:
  // `hosts`: the Host values that name this panel, e.g. "127.0.0.1:8080",
  // "localhost:8080". `token`: random, made once per process.
  HttpGuard(std::vector<std::string> hosts, std::string token) : hosts_(std::move(hosts)), token_(std::move(token)) {}
  static Result<std::string> make_token();

  Result<void> check_host(const std::string& host) const;
  // Empty: the browser sent none (a same-origin GET may not).
  Result<void> check_origin(const std::string& origin) const;
  Result<void> check_token(const std::string& token) const;
  const std::string& token() const { return token_; }

 private:
  std::vector<std::string> hosts_;
  std::string token_;
};

// The Host values that name a panel listening on `address:port`: the
// address itself, and localhost's names when it is a loopback address.
std::vector<std::string> host_names(const std::string& address, int port);

}  // namespace vgpio::panel
