#include "panel/http_guard.h"

#include <sys/random.h>

#include <cerrno>

namespace vgpio::panel {

Result<std::string> HttpGuard::make_token() {
  unsigned char bytes[16];
  if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes) return Error::from_errno(errno, "getrandom");
  static const char hex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) token += {hex[b >> 4], hex[b & 15]};
  return token;
}

namespace {
// Length first, then every byte: the comparison takes the same time however
// much of a guess is right.
bool same_secret(const std::string& given, const std::string& secret) {
  if (given.size() != secret.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ secret[i]);
  return diff == 0;
}
}  // namespace

Result<void> HttpGuard::check_host(const std::string& host) const {
  if (hosts_.empty()) return ok();
  for (const auto& h : hosts_)
    if (host == h) return ok();
  return Error("Host \"" + host + "\" does not name this panel");
}

Result<void> HttpGuard::check_origin(const std::string& origin) const {
  if (origin.empty()) return ok();
  for (const auto& h : hosts_)
    if (origin == "http://" + h) return ok();
  return Error("Origin \"" + origin + "\" is not this panel");
}

Result<void> HttpGuard::redeem(const std::string& login) {
  if (!same_secret(login, login_)) return Error("wrong login token: open the URL that vgpio panel printed");
  if (redeemed_.exchange(true))
    return Error("this login token was used already (it is good once); restart vgpio panel for a new URL");
  return ok();
}

Result<void> HttpGuard::check_cookie(const std::string& header) const {
  // "a=1; vgpio_panel=SECRET; b=2"
  const std::string key = std::string(kCookie) + "=";
  for (size_t pos = 0; pos < header.size();) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    size_t start = header.find_first_not_of(' ', pos);
    if (start < end && header.compare(start, key.size(), key) == 0 &&
        same_secret(header.substr(start + key.size(), end - start - key.size()), session_))
      return ok();
    pos = end + 1;
  }
  return Error("no session: open the URL that vgpio panel printed in its owner's terminal");
}

std::string HttpGuard::session_cookie() const {
  return std::string(kCookie) + "=" + session_ + "; HttpOnly; SameSite=Strict; Path=/";
}

std::vector<std::string> host_names(const std::string& address, int port) {
  std::string p = ":" + std::to_string(port);
  std::vector<std::string> names;
  bool v6 = address.find(':') != std::string::npos;
  names.push_back((v6 ? "[" + address + "]" : address) + p);
  if (address == "127.0.0.1" || address == "::1") {
    names.push_back("localhost" + p);
    names.push_back(address == "::1" ? "127.0.0.1" + p : "[::1]" + p);
  }
  return names;
}

}  // namespace vgpio::panel
