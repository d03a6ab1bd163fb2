// What the sandbox is fitted to (app/sandbox_setup.h) and whom it runs as
// (service/privileges.cpp). The layers themselves are tested on a running
// daemon: tests/cli/serve_probe_ctl.sh and the guest test host_lines.sandbox.
#include <gtest/gtest.h>
#include <unistd.h>

#include "app/sandbox_setup.h"

namespace vgpio {
namespace {

daemon::DaemonConfig with_sockets(std::vector<std::string> sockets, std::string control) {
  daemon::DaemonConfig config;
  for (auto& s : sockets) config.devices.push_back(daemon::DeviceConfig{.name = "d" + s, .socket = s});
  config.settings.control = std::move(control);
  return config;
}

TEST(SandboxNeeds, TheSimulatedDefaultNeedsNothingUnderDev) {
  app::ServeOptions options;
  auto needs = app::filesystem_needs(options, with_sockets({"/tmp/a.sock"}, "/tmp/a.sock.ctl"));
  EXPECT_FALSE(needs.dev_files);
  EXPECT_EQ(needs.socket_dirs, std::vector<std::string>{"/tmp"});  // once, for both sockets
  EXPECT_TRUE(needs.read_dirs.empty());
  EXPECT_TRUE(needs.read_files.empty());
}

// Read again from its folder: a config replaced by rename is a new inode.
TEST(SandboxNeeds, AConfigFileMayNameHostLinesAndIsReadAgain) {
  app::ServeOptions options;
  options.config = "/dev/null";  // any file that exists
  auto needs = app::filesystem_needs(options, with_sockets({"/tmp/a.sock", "/run/b.sock"}, ""));
  EXPECT_TRUE(needs.dev_files);
  EXPECT_EQ(needs.read_dirs, std::vector<std::string>{"/dev"});
  EXPECT_EQ(needs.socket_dirs, (std::vector<std::string>{"/tmp", "/run"}));
  // The names a reloaded file gives (control_group = "gpio") are looked up then.
  EXPECT_EQ(needs.read_files, (std::vector<std::string>{"/etc/passwd", "/etc/group", "/etc/nsswitch.conf"}));
}

TEST(SandboxNeeds, LineOptionsAreHostLines) {
  app::ServeOptions options;
  options.lines = {"out=gpiochip0:1"};
  EXPECT_TRUE(app::filesystem_needs(options, with_sockets({"/tmp/a.sock"}, "")).dev_files);
}

TEST(SandboxIdentity, NumbersNeedNoPasswdEntry) {
  auto who = service::resolve_identity("54321", "54322");
  ASSERT_TRUE(who) << who.error().message();
  EXPECT_EQ(who.value().uid, 54321u);
  EXPECT_EQ(who.value().gid, 54322u);
  EXPECT_EQ(who.value().name, "54321:54322");
}

TEST(SandboxIdentity, NoUserIsWhoWeAre) {
  auto who = service::resolve_identity("", "");
  ASSERT_TRUE(who);
  EXPECT_EQ(who.value().uid, getuid());
  EXPECT_EQ(who.value().gid, getgid());
}

TEST(SandboxIdentity, AnUnknownNameIsAClearError) {
  auto who = service::resolve_identity("no-such-user-vgpio", "");
  ASSERT_FALSE(who);
  EXPECT_EQ(who.error().message(), "--user no-such-user-vgpio: no such user");
  EXPECT_FALSE(service::resolve_identity("", "no-such-group-vgpio"));
}

TEST(SandboxIdentity, BecomingWhoWeAreNeedsNoPrivilege) {
  service::SandboxState state;
  auto who = service::resolve_identity("", "");
  ASSERT_TRUE(who);
  EXPECT_TRUE(service::become(who.value(), state));
  EXPECT_EQ(state.uid, getuid());
}

}  // namespace
}  // namespace vgpio
