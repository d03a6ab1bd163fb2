// Who may use a panel (src/panel/http_guard.h).
#include "panel/http_guard.h"

#include <gtest/gtest.h>

namespace vgpio::panel {
namespace {

const std::string kLogin = "0123456789abcdef0123456789abcdef";
const std::string kSession = "fedcba9876543210fedcba9876543210";

HttpGuard loopback_guard() { return HttpGuard(host_names("127.0.0.1", 8080), kLogin, kSession); }

TEST(HttpGuard, HostMustNameThePanel) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_host("127.0.0.1:8080"));
  EXPECT_TRUE(g.check_host("localhost:8080"));
  EXPECT_TRUE(g.check_host("[::1]:8080"));
  EXPECT_FALSE(g.check_host("evil.example:8080"));  // DNS rebinding
  EXPECT_FALSE(g.check_host("127.0.0.1:8081"));
  EXPECT_FALSE(g.check_host(""));
}

TEST(HttpGuard, AUnixSocketTakesAnyHost) {
  HttpGuard g({}, kLogin, kSession);
  EXPECT_TRUE(g.check_host("localhost"));
  EXPECT_TRUE(g.check_host(""));
}

TEST(HttpGuard, OriginMustBeThePanelWhenGiven) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_origin(""));
  EXPECT_TRUE(g.check_origin("http://127.0.0.1:8080"));
  EXPECT_FALSE(g.check_origin("http://evil.example"));
  EXPECT_FALSE(g.check_origin("null"));
  EXPECT_FALSE(g.check_origin("https://127.0.0.1:8080"));
}

TEST(HttpGuard, TheLoginTokenIsGoodOnceAndExactly) {
  HttpGuard g = loopback_guard();
  EXPECT_FALSE(g.redeem(""));
  EXPECT_FALSE(g.redeem("0123456789abcdef0123456789abcdee"));
  EXPECT_FALSE(g.redeem(kLogin + "0"));
  EXPECT_FALSE(g.redeem(kSession));
  EXPECT_TRUE(g.redeem(kLogin));
  auto again = g.redeem(kLogin);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("used already"), std::string::npos);
}

TEST(HttpGuard, TheSessionIsInTheCookieOnly) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_cookie("vgpio_panel=" + kSession));
  EXPECT_TRUE(g.check_cookie("a=1; vgpio_panel=" + kSession + "; b=2"));
  EXPECT_FALSE(g.check_cookie(""));
  EXPECT_FALSE(g.check_cookie("vgpio_panel=" + kLogin));  // the login token is not a session
  EXPECT_FALSE(g.check_cookie("vgpio_panel=" + kSession + "0"));
  EXPECT_FALSE(g.check_cookie("xvgpio_panel=" + kSession));
  const std::string set = g.session_cookie();
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
}

TEST(HttpGuard, TokensAreRandomAndLong) {
  auto a = HttpGuard::make_token(), b = HttpGuard::make_token();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.value().size(), 32u);
  EXPECT_NE(a.value(), b.value());
}

TEST(HttpGuard, AnotherAddressIsItsOwnNameOnly) {
  EXPECT_EQ(host_names("192.0.2.7", 80), std::vector<std::string>{"192.0.2.7:80"});
  EXPECT_EQ(host_names("::1", 80), (std::vector<std::string>{"[::1]:80", "localhost:80", "127.0.0.1:80"}));
}

}  // namespace
}  // namespace vgpio::panel
