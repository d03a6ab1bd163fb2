// The panel's buttons against a real daemon (src/panel/panel_api.h): they
// drive simulated inputs, and never a host line.
#include <gtest/gtest.h>

#include "daemon_fixture.h"
#include "panel/panel_api.h"

namespace vgpio {
namespace {

using nlohmann::json;

// Stands for a line of a host chip: the panel must leave it alone.
class HostLikeLine final : public lines::Line {
 public:
  HostLikeLine() : lines::Line("relay") {}
  std::string describe() const override { return "gpiochip9 line 1"; }
  std::string holder() const override { return ""; }
  lines::LineMode mode() const override { return lines::LineMode::Idle; }
  Result<void> set_input() override { return ok(); }
  Result<void> set_output(bool) override { return ok(); }
  void release() override {}
  Result<bool> get() override { return false; }
  Result<void> set(bool) override { return ok(); }
};

class Panel : public testing::DaemonTest {
 protected:
  void SetUp() override {
    start({2}, {}, [](daemon::DaemonConfig& config) { config.devices[0].lines[1] = std::make_unique<HostLikeLine>(); });
  }
  json press(size_t line, const std::string& action) {
    return {{"device", "dev0"}, {"line", line}, {"action", action}};
  }
};

TEST_F(Panel, ToggleDrivesASimulatedInput) {
  ASSERT_TRUE(panel::drive(control_path(), press(0, "toggle")));
  EXPECT_EQ(control().call({{"cmd", "get"}, {"device", "dev0"}, {"line", 0}}).value()["value"], 1);
  ASSERT_TRUE(panel::drive(control_path(), press(0, "toggle")));
  EXPECT_EQ(control().call({{"cmd", "get"}, {"device", "dev0"}, {"line", 0}}).value()["value"], 0);
  EXPECT_TRUE(panel::drive(control_path(), press(0, "pulse")));
  EXPECT_TRUE(panel::drive(control_path(), press(0, "bounce")));
}

TEST_F(Panel, NeverAHostLine) {
  for (const char* action : {"toggle", "pulse", "bounce"}) {
    auto r = panel::drive(control_path(), press(1, action));
    ASSERT_FALSE(r) << action;
    EXPECT_EQ(r.error().message(), "line relay is a host line: the panel shows it, and never drives it");
  }
}

TEST_F(Panel, BadRequestsAreClear) {
  EXPECT_EQ(panel::drive(control_path(), json::object()).error().message(),
            "give \"device\" (a name) and \"line\" (a number)");
  EXPECT_EQ(panel::drive(control_path(), press(0, "explode")).error().message(),
            "\"action\" must be toggle, pulse or bounce");
  EXPECT_FALSE(panel::drive(control_path(), press(7, "toggle")));
  EXPECT_EQ(panel::record(control_path(), {{"seconds", 0}}).error().message(), "\"seconds\" must be 1 to 60");
}

TEST_F(Panel, RecordGivesAVcdOfEveryLine) {
  auto vcd = panel::record(control_path(), {{"seconds", 1}});
  ASSERT_TRUE(vcd) << vcd.error().message();
  EXPECT_NE(vcd.value().find("$timescale"), std::string::npos);
  EXPECT_NE(vcd.value().find("dev0.sim0"), std::string::npos);
  EXPECT_NE(vcd.value().find("dev0.relay"), std::string::npos);
}

}  // namespace
}  // namespace vgpio
