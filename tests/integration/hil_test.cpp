// Virtual hardware-in-the-loop through the control socket: timed stimuli on
// simulated inputs, wires between devices, and what the guest sees of both.
// Nothing here is judged on speed: edges are awaited, and a time is only
// checked where it can never be wrong (an edge is never early).
#include <gtest/gtest.h>

#include "daemon_fixture.h"

namespace vgpio {
namespace {

using namespace gpio;
using namespace std::chrono_literals;
using nlohmann::json;

class Hil : public testing::DaemonTest {
 protected:
  void SetUp() override { start({8, 8}); }

  json ok(const json& request) {
    auto c = control();
    auto r = c.call(request);
    EXPECT_TRUE(r.ok()) << request.dump() << ": " << (r.ok() ? "" : r.error().message());
    return r.ok() ? r.value() : json();
  }
  std::string refused(const json& request) {
    auto c = control();
    auto r = c.call(request);
    EXPECT_FALSE(r.ok()) << request.dump();
    return r.ok() ? "" : r.error().message();
  }
  // The next `n` value changes of `line`, from a watch started earlier.
  std::vector<json> values(client::ControlClient& watch, size_t line, size_t n) {
    std::vector<json> got;
    while (got.size() < n) {
      auto e = watch.next(10000ms);
      EXPECT_TRUE(e.ok() && e.value()) << "waited 10 s for change " << got.size();
      if (!e.ok() || !e.value()) break;
      if ((*e.value())["field"] == "value" && (*e.value())["line"] == line) got.push_back(*e.value());
    }
    return got;
  }
  std::string driver(const std::string& device, const std::string& line) {
    return ok({{"cmd", "get"}, {"device", device}, {"line", line}}).value("driver", "?");
  }
  // system_clock minus steady_clock now, to compare a watch event's time with a schedule.
  static int64_t realtime_offset_ns() {
    auto r = std::chrono::system_clock::now().time_since_epoch();
    auto m = std::chrono::steady_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(r - m).count();
  }
};

TEST_F(Hil, APulseTrainMakesItsEdgesAndNoneEarly) {
  auto watch = control();
  ASSERT_TRUE(watch.call({{"cmd", "watch"}, {"device", "dev0"}}).ok());
  json r =
      ok({{"cmd", "pulse"}, {"device", "dev0"}, {"line", "sim1"}, {"width", "2ms"}, {"count", 3}, {"period", "5ms"}});
  int64_t start = r["start_ns"].get<int64_t>() + realtime_offset_ns();
  auto got = values(watch, 1, 6);
  ASSERT_EQ(got.size(), 6u);
  const int64_t due_ms[] = {0, 2, 5, 7, 10, 12};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["value"], i % 2 == 0 ? 1 : 0) << i;
    // Clocks were read a few microseconds apart: allow that much, no more.
    EXPECT_GE(got[i]["ns"].get<int64_t>(), start + due_ms[i] * 1000000 - 100000) << "edge " << i << " came early";
  }
  // Done: nothing drives the line any more, and it rests at the other level.
  eventually([&] { return driver("dev0", "sim1").empty(); });
  EXPECT_EQ(driver("dev0", "sim1"), "");
  EXPECT_EQ(status(1).value, 0);
}

TEST_F(Hil, AClockRunsUntilSetStopsIt) {
  auto watch = control();
  ASSERT_TRUE(watch.call({{"cmd", "watch"}, {"device", "dev0"}}).ok());
  json r = ok({{"cmd", "clock"}, {"device", "dev0"}, {"line", 2}, {"period", 0.001}});
  EXPECT_EQ(r["stimulus"], "clock 1ms, duty 0.5");
  EXPECT_EQ(driver("dev0", "sim2"), "clock 1ms, duty 0.5");
  auto got = values(watch, 2, 20);
  ASSERT_EQ(got.size(), 20u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i]["value"], i % 2 == 0 ? 1 : 0);
  ok({{"cmd", "set"}, {"device", "dev0"}, {"line", 2}, {"value", 1}});
  EXPECT_EQ(driver("dev0", "sim2"), "");
  EXPECT_EQ(status(2).value, 1);
  // A new stimulus replaces the running one; stop ends it where it is.
  ok({{"cmd", "clock"}, {"device", "dev0"}, {"line", 2}, {"period", "1ms"}});
  ok({{"cmd", "pattern"}, {"device", "dev0"}, {"line", 2}, {"steps", {{1, "1s"}, {0, "1s"}}}, {"repeat", 0}});
  EXPECT_EQ(driver("dev0", "sim2"), "pattern of 2 steps, until stopped");
  EXPECT_EQ(ok({{"cmd", "stop"}, {"device", "dev0"}, {"line", 2}})["stopped"], true);
  EXPECT_EQ(ok({{"cmd", "stop"}, {"device", "dev0"}, {"line", 2}})["stopped"], false);
  EXPECT_EQ(status(2).value, 1);
}

TEST_F(Hil, ABounceSettles) {
  auto watch = control();
  ASSERT_TRUE(watch.call({{"cmd", "watch"}, {"device", "dev1"}}).ok());
  ok({{"cmd", "bounce"}, {"device", "dev1"}, {"line", 3}, {"transitions", 5}, {"window", "3ms"}, {"settle", 1}});
  auto got = values(watch, 3, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got.back()["value"], 1);
  eventually([&] { return driver("dev1", "sim3").empty(); });
  EXPECT_EQ(status(3, 1).value, 1);
}

TEST_F(Hil, TheGuestGetsTheInterruptOfAStimulusEdge) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetDirection, 4, kDirectionIn));
  EXPECT_EQ(d->request(kSetIrqType, 4, kIrqEdgeRising).value().status, kStatusOk);
  ASSERT_TRUE(d->unmask(4).ok());
  eventually([&] { return status(4).irq_unmasked; });
  ok({{"cmd", "pulse"}, {"device", "dev0"}, {"line", 4}, {"width", "1ms"}});
  auto e = d->wait_event(10000ms);
  ASSERT_TRUE(e.ok() && e.value());
  EXPECT_EQ(e.value()->gpio, 4);
  EXPECT_EQ(e.value()->status, kIrqStatusValid);
}

// A stimulus on dev0's line 0: `extra` holds the command and its fields.
json on_line0(const json& extra) {
  json r = {{"device", "dev0"}, {"line", 0}};
  r.update(extra);
  return r;
}

TEST_F(Hil, BadStimuliAreRefused) {
  auto with = [&](const json& extra) { return refusal_kind(on_line0(extra)); };
  EXPECT_EQ(with({{"cmd", "pulse"}}), "bad-request");  // no width
  EXPECT_EQ(with({{"cmd", "pulse"}, {"width", "1us"}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "pulse"}, {"width", "1fortnight"}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "pulse"}, {"width", -1}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "clock"}, {"period", "1ms"}, {"duty", 2}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "pattern"}, {"steps", {{1}}}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "pattern"}, {"steps", {{3, "1ms"}}}}), "bad-request");
  EXPECT_EQ(with({{"cmd", "bounce"}, {"transitions", 100000}}), "bad-request");
  EXPECT_EQ(refusal_kind({{"cmd", "clock"}, {"device", "dev0"}, {"line", 99}, {"period", "1ms"}}), "no-line");
  EXPECT_EQ(driver("dev0", "sim0"), "");  // nothing was started by any of it
}

// The sentences a user reads, once each.
TEST_F(Hil, BadStimuliSayWhatWasWrong) {
  auto with = [&](const json& extra) { return refused(on_line0(extra)); };
  EXPECT_NE(with({{"cmd", "pulse"}, {"width", "1us"}}).find("shortest step"), std::string::npos);
  EXPECT_NE(with({{"cmd", "pulse"}, {"width", "1fortnight"}}).find("unknown unit"), std::string::npos);
  EXPECT_NE(with({{"cmd", "pulse"}, {"width", -1}}).find("duration"), std::string::npos);
  EXPECT_NE(with({{"cmd", "clock"}, {"period", "1ms"}, {"duty", 2}}).find("duty"), std::string::npos);
  EXPECT_NE(with({{"cmd", "pattern"}, {"steps", {{1}}}}).find("[level, duration]"), std::string::npos);
  EXPECT_NE(with({{"cmd", "pattern"}, {"steps", {{3, "1ms"}}}}).find("0 or 1"), std::string::npos);
  EXPECT_NE(with({{"cmd", "bounce"}, {"transitions", 100000}}).find("transitions"), std::string::npos);
}

TEST_F(Hil, AWireCarriesAGuestOutputToAnotherDevice) {
  auto a = connect({}, 0);
  auto b = connect({}, 1);
  ASSERT_TRUE(a && b);
  EXPECT_OK(a->request(kSetValue, 0, 1));
  EXPECT_OK(a->request(kSetDirection, 0, kDirectionOut));
  ok({{"cmd", "wire"}, {"from", "dev0:sim0"}, {"to", "dev1:1"}});
  // The target takes the source's level at once.
  EXPECT_EQ(status(1, 1).value, 1);
  EXPECT_EQ(driver("dev1", "sim1"), "wire from dev0:sim0");
  EXPECT_EQ(ok({{"cmd", "get"}, {"device", "dev0"}, {"line", 0}})["wired_to"], json({"dev1:1"}));

  EXPECT_OK(b->request(kSetDirection, 1, kDirectionIn));
  EXPECT_EQ(b->request(kSetIrqType, 1, kIrqEdgeBoth).value().status, kStatusOk);
  ASSERT_TRUE(b->unmask(1).ok());
  eventually([&] { return status(1, 1).irq_unmasked; });
  EXPECT_OK(a->request(kSetValue, 0, 0));
  auto e = b->wait_event(10000ms);
  ASSERT_TRUE(e.ok() && e.value());
  EXPECT_EQ(e.value()->gpio, 1);
  EXPECT_EQ(b->request(kGetValue, 1).value().value, 0);

  // The guest letting go of its output sends the safe level (0 here).
  EXPECT_OK(a->request(kSetValue, 0, 1));
  eventually([&] { return status(1, 1).value == 1; });
  EXPECT_OK(a->request(kSetDirection, 0, kDirectionNone));
  eventually([&] { return status(1, 1).value == 0; });
  EXPECT_EQ(status(1, 1).value, 0);

  // Unwired, the target keeps its level and no longer follows.
  ok({{"cmd", "unwire"}, {"from", "dev0:sim0"}, {"to", "dev1:sim1"}});
  EXPECT_OK(a->request(kSetDirection, 0, kDirectionOut));
  EXPECT_OK(a->request(kSetValue, 0, 1));
  EXPECT_EQ(status(1, 1).value, 0);
  EXPECT_EQ(driver("dev1", "sim1"), "");
}

TEST_F(Hil, AnInvertedDelayedWireWithinOneDevice) {
  auto a = connect();
  ASSERT_TRUE(a);
  ok({{"cmd", "wire"}, {"from", "dev0:sim5"}, {"to", "dev0:sim6"}, {"delay", "30ms"}, {"invert", true}});
  eventually([&] { return status(6).value == 1; });
  EXPECT_EQ(status(6).value, 1);  // the source idles at 0: inverted, 1
  auto watch = control();
  ASSERT_TRUE(watch.call({{"cmd", "watch"}, {"device", "dev0"}}).ok());
  EXPECT_OK(a->request(kSetDirection, 5, kDirectionOut));
  auto sent = std::chrono::system_clock::now();
  EXPECT_OK(a->request(kSetValue, 5, 1));
  auto got = values(watch, 6, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["value"], 0);
  // Never before its delay.
  EXPECT_GE(got[0]["ns"].get<int64_t>(), control::epoch_ns(sent) + 30000000 - 100000);
  auto wires = ok({{"cmd", "wires"}})["wires"];
  ASSERT_EQ(wires.size(), 1u);
  EXPECT_EQ(wires[0]["delay"], "30ms");
  EXPECT_EQ(wires[0]["invert"], true);
  EXPECT_EQ(wires[0]["config"], false);
}

TEST_F(Hil, WiresThatCannotBeAreRefused) {
  ok({{"cmd", "wire"}, {"from", "dev0:sim0"}, {"to", "dev1:sim0"}});
  ok({{"cmd", "wire"}, {"from", "dev0:sim0"}, {"to", "dev1:sim1"}});  // fan-out is fine
  ok({{"cmd", "wire"}, {"from", "dev1:sim0"}, {"to", "dev1:sim2"}});  // a chain too
  auto wire = [&](const std::string& from, const std::string& to) {
    return refusal_kind({{"cmd", "wire"}, {"from", from}, {"to", to}});
  };
  EXPECT_EQ(wire("dev1:sim2", "dev0:sim0"), "conflict");  // a loop
  EXPECT_EQ(wire("dev0:sim3", "dev0:sim3"), "conflict");
  EXPECT_EQ(wire("dev0:sim3", "dev1:sim1"), "conflict");  // already driven
  EXPECT_EQ(wire("dev9:sim3", "dev1:sim1"), "no-device");
  EXPECT_EQ(wire("dev0:sim3", "dev1:sim99"), "no-line");
  EXPECT_EQ(wire("dev0", "dev1:sim5"), "bad-request");
  EXPECT_EQ(refusal_kind({{"cmd", "unwire"}, {"from", "dev0:sim3"}, {"to", "dev1:sim5"}}), "no-wire");
  EXPECT_EQ(refusal_kind({{"cmd", "set"}, {"device", "dev1"}, {"line", 1}, {"value", 1}}), "conflict");
  EXPECT_EQ(refusal_kind({{"cmd", "clock"}, {"device", "dev1"}, {"line", 1}, {"period", "1ms"}}), "conflict");
  // The sentences a user reads, once each.
  EXPECT_NE(refused({{"cmd", "wire"}, {"from", "dev1:sim2"}, {"to", "dev0:sim0"}}).find("loop"), std::string::npos);
  EXPECT_NE(refused({{"cmd", "wire"}, {"from", "dev0:sim3"}, {"to", "dev1:sim1"}}).find("already driven"),
            std::string::npos);
  EXPECT_NE(refused({{"cmd", "wire"}, {"from", "dev0"}, {"to", "dev1:sim5"}}).find("DEVICE:LINE"), std::string::npos);
  EXPECT_NE(refused({{"cmd", "unwire"}, {"from", "dev0:sim3"}, {"to", "dev1:sim5"}}).find("no wire"),
            std::string::npos);
  EXPECT_NE(refused({{"cmd", "set"}, {"device", "dev1"}, {"line", 1}, {"value", 1}}).find("unwire it"),
            std::string::npos);
  EXPECT_EQ(ok({{"cmd", "wires"}})["wires"].size(), 3u);
}

TEST(HilConfig, AConfigWireThatCannotBeStopsTheStart) {
  char tmpl[] = "/tmp/vgpio-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  daemon::DaemonConfig config;
  for (int i = 0; i < 2; ++i) {
    daemon::DeviceConfig device;
    device.name = "dev" + std::to_string(i);
    device.socket = dir + "/" + device.name + ".sock";
    device.lines = app::simulated_lines(2, {}).release_value();
    config.devices.push_back(std::move(device));
  }
  config.wires = {sim::WireSpec{"dev0", "sim0", "dev1", "sim0", {}, false},
                  sim::WireSpec{"dev1", "sim0", "dev0", "sim0", {}, false}};
  auto d = daemon::Daemon::create(std::move(config));
  ASSERT_TRUE(d.ok()) << d.error().message();
  auto started = d.value()->start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message().find("wire dev1:sim0 -> dev0:sim0: it would close a loop"), std::string::npos)
      << started.error().message();
  d.value().reset();
  EXPECT_FALSE(std::filesystem::exists(dir + "/dev0.sock"));  // nothing left behind
  std::filesystem::remove_all(dir);
}

class HilConfigWires : public testing::DaemonTest {
 protected:
  void SetUp() override { start({2, 2}, {sim::WireSpec{"dev0", "sim1", "dev1", "sim0", {}, true}}); }
};

TEST_F(HilConfigWires, ArePluggedAtStart) {
  EXPECT_EQ(status(0, 1).value, 1);  // dev0:sim1 idles at 0, inverted
  auto r = control().call({{"cmd", "wires"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()["wires"][0]["config"], true);
  EXPECT_EQ(r.value()["wires"][0]["from"], "dev0:sim1");
}

// Devices made at run time: they live as long as the connection that made
// them (or until destroyed, with persist), and reach no host line unpooled.
TEST_F(Hil, ACreatedDeviceGoesWithItsMaker) {
  std::string sock = dir_ + "/made.sock";
  {
    auto maker = control();
    auto r = maker.call(
        {{"cmd", "create"},
         {"name", "made"},
         {"socket", sock},
         {"lines",
          {{{"name", "led"}, {"simulated", true}}, {{"name", "btn"}, {"simulated", true}, {"safe_level", 1}}}}});
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value()["lines"], 2);
    auto d = driver::GpioDriver::connect(sock);
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_EQ(d.value()->line_names().value(), (std::vector<std::string>{"led", "btn"}));
    EXPECT_OK(d.value()->request(kSetDirection, 0, kDirectionOut));
    EXPECT_EQ(ok({{"cmd", "get"}, {"device", "made"}, {"line", "led"}})["holder"], "guest");
    // A wire into a created device works as into any other.
    ok({{"cmd", "wire"}, {"from", "dev0:sim0"}, {"to", "made:btn"}});
    json list = ok({{"cmd", "list"}});
    ASSERT_EQ(list["devices"].size(), 3u);
    EXPECT_EQ(list["devices"][2]["created"], true);
  }  // the maker's connection closes
  eventually([&] { return !std::filesystem::exists(sock); });
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_EQ(ok({{"cmd", "list"}})["devices"].size(), 2u);
  EXPECT_EQ(ok({{"cmd", "wires"}})["wires"].size(), 0u);
}

TEST_F(Hil, APersistentDeviceStaysUntilDestroyed) {
  std::string sock = dir_ + "/kept.sock";
  ok({{"cmd", "create"},
      {"name", "kept"},
      {"socket", sock},
      {"persist", true},
      {"lines", {{{"name", "a"}, {"simulated", true}}}}});
  EXPECT_TRUE(std::filesystem::exists(sock));  // its maker (ok()'s connection) is gone
  EXPECT_EQ(refusal_kind({{"cmd", "destroy"}, {"device", "dev0"}}), "conflict");
  EXPECT_NE(refused({{"cmd", "destroy"}, {"device", "dev0"}}).find("config file's"), std::string::npos);
  ok({{"cmd", "destroy"}, {"device", "kept"}});
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_EQ(refusal_kind({{"cmd", "destroy"}, {"device", "kept"}}), "no-device");
}

TEST_F(Hil, CreateRefusesHostLinesAndBadRequests) {
  std::string sock = dir_ + "/x.sock";
  auto request = [&](json lines, std::string name = "x") {
    return json{{"cmd", "create"}, {"name", name}, {"socket", sock}, {"lines", lines}};
  };
  json host = {{{"name", "h"}, {"chip", "gpiochip0"}, {"offset", 1}}}, pool = {{{"pool", "relay0"}}},
       one = {{{"name", "a"}, {"simulated", true}}},
       coloured = {{{"name", "a"}, {"simulated", true}, {"colour", "red"}}},
       twice = {{{"name", "a"}, {"simulated", true}}, {{"name", "a"}, {"simulated", true}}};
  EXPECT_EQ(refusal_kind(request(host)), "bad-request");
  EXPECT_EQ(refusal_kind(request(pool)), "bad-request");
  EXPECT_EQ(refusal_kind(request(one, "dev0")), "conflict");
  EXPECT_EQ(refusal_kind(request(json::array())), "bad-request");
  EXPECT_EQ(refusal_kind(request(coloured)), "bad-request");
  EXPECT_EQ(refusal_kind(request(twice)), "bad-request");
  EXPECT_EQ(refusal_kind({{"cmd", "create"}, {"name", "x"}, {"lines", one}}), "bad-request");  // no socket
  // The sentences a user reads, once each.
  EXPECT_NE(refused(request(host)).find("only from the config's [[pool]]"), std::string::npos);
  EXPECT_NE(refused(request(pool)).find("has no line \"relay0\""), std::string::npos);
  EXPECT_NE(refused(request(one, "dev0")).find("already runs"), std::string::npos);
  EXPECT_NE(refused(request(json::array())).find("at least one line"), std::string::npos);
  EXPECT_NE(refused(request(coloured)).find("unknown key"), std::string::npos);
  EXPECT_NE(refused(request(twice)).find("used twice"), std::string::npos);
  EXPECT_NE(refused({{"cmd", "create"}, {"name", "x"}, {"lines", one}}).find("\"socket\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_EQ(ok({{"cmd", "list"}})["devices"].size(), 2u);
}

}  // namespace
}  // namespace vgpio
