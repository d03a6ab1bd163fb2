// The panel's guard against other websites (src/panel/http_guard.h).
#include <gtest/gtest.h>

#include "panel/http_guard.h"

namespace vgpio::panel {
namespace {

HttpGuard loopback_guard() { return HttpGuard(host_names("127.0.0.1", 8080), "0123456789abcdef0123456789abcdef"); }

TEST(HttpGuard, HostMustNameThePanel) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_host("127.0.0.1:8080"));
  EXPECT_TRUE(g.check_host("localhost:8080"));
  EXPECT_TRUE(g.check_host("[::1]:8080"));
  EXPECT_FALSE(g.check_host("evil.example:8080"));  // DNS rebinding
  EXPECT_FALSE(g.check_host("127.0.0.1:8081"));
  EXPECT_FALSE(g.check_host(""));
}

TEST(HttpGuard, OriginMustBeThePanelWhenGiven) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_origin(""));
  EXPECT_TRUE(g.check_origin("http://127.0.0.1:8080"));
  EXPECT_FALSE(g.check_origin("http://evil.example"));
  EXPECT_FALSE(g.check_origin("null"));
  EXPECT_FALSE(g.check_origin("https://127.0.0.1:8080"));
}

TEST(HttpGuard, TheTokenMustMatchExactly) {
  HttpGuard g = loopback_guard();
  EXPECT_TRUE(g.check_token("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(g.check_token(""));
  EXPECT_FALSE(g.check_token("0123456789abcdef0123456789abcdee"));
  EXPECT_FALSE(g.check_token("0123456789abcdef0123456789abcdef0"));
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
