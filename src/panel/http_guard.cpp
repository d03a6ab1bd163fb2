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

Result<void> HttpGuard::check_host(const std::string& host) const {
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

Result<void> HttpGuard::check_token(const std::string& token) const {
  // Length first, then every byte: the comparison takes the same time
  // however much of a guess is right.
  if (token.size() != token_.size()) return Error("missing or wrong token");
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(token[i] ^ token_[i]);
  if (diff != 0) return Error("missing or wrong token");
  return ok();
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
