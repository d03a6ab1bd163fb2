// What the device model does when a line fails under it, as host lines do (a
// chip that answers EIO, a line another program took, a request the previous
// process did not hand over): the guest gets ERR for that request only, the
// state it sees stays what it was, and the next request that can succeed does.
// The lines are testing::ScriptedLine, each failure set by the test.
#include <gtest/gtest.h>

#include "fake_guest.h"
#include "gpio/gpio_device.h"
#include "scripted_line.h"

namespace vgpio {
namespace {

using namespace gpio;
using testing::FakeGuest;
using testing::gpio_request;
using testing::ScriptedLine;

struct Device {
  explicit Device(lines::LinePolicy policy = {}) {
    auto made = std::make_unique<ScriptedLine>("relay", policy);
    line = made.get();
    std::vector<std::unique_ptr<lines::Line>> lines;
    lines.push_back(std::move(made));
    device = GpioDevice::create("test", std::move(lines)).release_value();
    device->set_observer([this](const LineChange& c) { changes.push_back(c); });
    guest = std::make_unique<FakeGuest>(*device);
  }
  std::vector<LineChange> changes;  // first: the device publishes until it is gone
  ScriptedLine* line;
  std::unique_ptr<GpioDevice> device;
  std::unique_ptr<FakeGuest> guest;
};

TEST(HostLineErrors, AnOutputThatCannotBeMadeLeavesTheLineAsItWas) {
  Device d;
  ASSERT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionIn).status, kStatusOk);
  ASSERT_EQ(gpio_request(*d.guest, kSetValue, 0, 1).status, kStatusOk);  // latched for OUT
  d.line->fail_set_output = EBUSY;                                       // another program took it
  EXPECT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionOut).status, kStatusErr);
  EXPECT_EQ(gpio_request(*d.guest, kGetDirection, 0).value, kDirectionIn);
  EXPECT_EQ(d.device->status(0).direction, kDirectionIn);
  d.line->fail_set_output.reset();
  EXPECT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  EXPECT_EQ(d.line->calls.back(), "set_output 1");  // the latch survived the failure
}

TEST(HostLineErrors, AnInputThatCannotBeMadeIsNotTakenAsOne) {
  Device d;
  d.line->fail_set_input = EIO;
  EXPECT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionIn).status, kStatusErr);
  EXPECT_EQ(d.device->status(0).direction, kDirectionNone);
  EXPECT_TRUE(d.changes.empty()) << "a direction was published that the line never took";
}

TEST(HostLineErrors, AReadThatFailsAnswersErrAndTheNextOneReads) {
  Device d;
  ASSERT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionIn).status, kStatusOk);
  d.line->fail_get = EIO;
  EXPECT_EQ(gpio_request(*d.guest, kGetValue, 0).status, kStatusErr);
  EXPECT_EQ(d.device->status(0).value, -1);  // `vgpio ctl list` shows it unknown, not 0
  d.line->fail_get.reset();
  d.line->level = true;
  auto answer = gpio_request(*d.guest, kGetValue, 0);
  EXPECT_EQ(answer.status, kStatusOk);
  EXPECT_EQ(answer.value, 1);
}

TEST(HostLineErrors, ASetThatFailsKeepsTheOldLevel) {
  Device d;
  ASSERT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  size_t published = d.changes.size();
  d.line->fail_set = EIO;
  EXPECT_EQ(gpio_request(*d.guest, kSetValue, 0, 1).status, kStatusErr);
  EXPECT_EQ(d.line->level, false);
  EXPECT_EQ(d.changes.size(), published) << "a level was published that the line never took";
  d.line->fail_set.reset();
  EXPECT_EQ(gpio_request(*d.guest, kSetValue, 0, 1).status, kStatusOk);
  EXPECT_EQ(d.line->level, true);
}

TEST(HostLineErrors, AResetReleasesALineWhoseRequestsFailed) {
  Device d(lines::LinePolicy{.safe_level = true});
  ASSERT_EQ(gpio_request(*d.guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  d.line->fail_set = EIO;
  d.line->fail_get = EIO;
  EXPECT_EQ(gpio_request(*d.guest, kSetValue, 0, 0).status, kStatusErr);
  d.device->reset();  // the guest is gone
  EXPECT_EQ(d.line->calls.back(), "release");
  EXPECT_EQ(d.line->mode(), lines::LineMode::Idle);
  EXPECT_TRUE(d.line->level) << "the output was not left at its safe level";
}

// After a restart: a line the guest used whose request did not come over
// was released in between, so the guest's view is lost; the device starts
// clean and says why.
std::unique_ptr<GpioDevice> resumed(ScriptedLine*& line, bool missed, std::string refused) {
  auto state = SavedState::create("test", {"relay"}).release_value();
  state->line(0).direction = kDirectionOut;
  state->line(0).value = 1;
  auto made = std::make_unique<ScriptedLine>("relay");
  made->missed = missed;
  made->refused = std::move(refused);
  line = made.get();
  std::vector<std::unique_ptr<lines::Line>> lines;
  lines.push_back(std::move(made));
  auto device = GpioDevice::create("test", std::move(lines)).release_value();
  device->resume(std::move(state), true, "");
  return device;
}

TEST(HostLineErrors, ARequestNotHandedBackStartsTheDeviceClean) {
  ScriptedLine* line = nullptr;
  auto device = resumed(line, true, "");
  EXPECT_FALSE(device->restored());
  ASSERT_FALSE(device->restart_notes().empty());
  EXPECT_NE(device->restart_notes()[0].find("was not handed back"), std::string::npos) << device->restart_notes()[0];
  EXPECT_EQ(device->status(0).direction, kDirectionNone);
  EXPECT_EQ(line->mode(), lines::LineMode::Idle);
}

TEST(HostLineErrors, ARefusedKeptRequestIsNamedInTheNote) {
  ScriptedLine* line = nullptr;
  auto device = resumed(line, true, "it is not a line request of this chip");
  EXPECT_FALSE(device->restored());
  ASSERT_FALSE(device->restart_notes().empty());
  EXPECT_NE(device->restart_notes()[0].find("it is not a line request of this chip"), std::string::npos)
      << device->restart_notes()[0];
}

TEST(HostLineErrors, ARequestHandedBackIsRestored) {
  ScriptedLine* line = nullptr;
  auto device = resumed(line, false, "");
  EXPECT_TRUE(device->restored());
  EXPECT_EQ(device->status(0).direction, kDirectionOut);
  EXPECT_EQ(line->calls.front(), "set_output 1");
}

}  // namespace
}  // namespace vgpio
