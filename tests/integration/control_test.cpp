// The control socket: list, get, set, watch, and what it does with garbage.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "base/unix_socket.h"
#include "daemon_fixture.h"

namespace vgpio {
namespace {

using namespace gpio;
using namespace std::chrono_literals;
using nlohmann::json;

class Control : public testing::DaemonTest {
 protected:
  void SetUp() override { start({4, 2}); }
};

TEST_F(Control, ListShowsDevicesAndLines) {
  auto ctl = control();
  auto r = ctl.call({{"cmd", "list"}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  const json& devices = r.value()["devices"];
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0]["name"], "dev0");
  EXPECT_EQ(devices[0]["socket"], socket(0));
  ASSERT_EQ(devices[0]["lines"].size(), 4u);
  const json& l = devices[0]["lines"][3];
  EXPECT_EQ(l["name"], "sim3");
  EXPECT_EQ(l["direction"], "none");
  EXPECT_EQ(l["value"], 0);
  EXPECT_EQ(l["irq"], "none");
  EXPECT_EQ(l["holder"], "");
  EXPECT_EQ(l["kind"], "simulated");
}

TEST_F(Control, GuestOutputsAreVisibleAndInputsDrivable) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetValue, 1, 1));
  EXPECT_OK(d->request(kSetDirection, 1, kDirectionOut));
  auto ctl = control();
  auto by_name = ctl.call({{"cmd", "get"}, {"device", "dev0"}, {"line", "sim1"}});
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name.value()["value"], 1);
  EXPECT_EQ(by_name.value()["direction"], "out");
  EXPECT_EQ(by_name.value()["holder"], "guest");
  auto by_number = ctl.call({{"cmd", "get"}, {"device", "dev0"}, {"line", 1}});
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number.value()["name"], "sim1");

  EXPECT_OK(d->request(kSetDirection, 2, kDirectionIn));
  ASSERT_TRUE(ctl.call({{"cmd", "set"}, {"device", "dev0"}, {"line", 2}, {"value", 1}}).ok());
  EXPECT_EQ(d->request(kGetValue, 2).value().value, 1);
  ASSERT_TRUE(ctl.call({{"cmd", "set"}, {"device", "dev0"}, {"line", "sim2"}, {"value", 0}}).ok());
  EXPECT_EQ(d->request(kGetValue, 2).value().value, 0);
}

TEST_F(Control, WatchStreamsTimestampedChanges) {
  auto watcher = control();
  ASSERT_TRUE(watcher.call({{"cmd", "watch"}, {"device", "dev0"}}).ok());
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetDirection, 0, kDirectionOut));
  EXPECT_OK(d->request(kSetValue, 0, 1));
  EXPECT_OK(d->request(kSetIrqType, 2, kIrqEdgeBoth));
  auto ctl = control();
  EXPECT_OK(ctl.call({{"cmd", "set"}, {"device", "dev0"}, {"line", 3}, {"value", 1}}));
  EXPECT_OK(ctl.call({{"cmd", "set"}, {"device", "dev1"}, {"line", 0}, {"value", 1}}));  // another device: not watched
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto e = watcher.next(10000ms);
    ASSERT_TRUE(e.ok() && e.value()) << "event " << i;
    const json& ev = *e.value();
    EXPECT_EQ(ev["event"], "change");
    EXPECT_EQ(ev["device"], "dev0");
    EXPECT_EQ(ev["time"].get<std::string>().size(), 27u);  // 2026-11-21T06:00:00.123456Z
    seen.push_back(ev["name"].get<std::string>() + " " + ev["field"].get<std::string>() + " " +
                   (ev["value"].is_string() ? ev["value"].get<std::string>() : ev["value"].dump()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"sim0 value 0", "sim0 direction out", "sim0 value 1", "sim2 irq edge-both",
                                            "sim3 value 1"}));
  auto more = watcher.next(200ms);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(more.value());
}

TEST_F(Control, BadRequestsGetTheirKindOfError) {
  auto ctl = control();
  auto kind = [&](json req) {
    auto r = ctl.exchange(req);  // one connection for all of them: it survives each
    EXPECT_TRUE(r.ok() && !r.value().value("ok", true)) << req.dump();
    return r.ok() ? r.value().value("error_kind", "") : std::string();
  };
  EXPECT_EQ(kind({{"cmd", "fly"}}), "bad-request");
  EXPECT_EQ(kind({{"cmd", "get"}, {"device", "nope"}, {"line", 0}}), "no-device");
  EXPECT_EQ(kind({{"cmd", "get"}, {"device", "dev0"}, {"line", 9}}), "no-line");
  EXPECT_EQ(kind({{"cmd", "get"}, {"device", "dev0"}, {"line", "sim9"}}), "no-line");
  EXPECT_EQ(kind({{"cmd", "get"}, {"line", 0}}), "bad-request");  // two devices: which?
  EXPECT_EQ(kind({{"cmd", "set"}, {"device", "dev0"}, {"line", 0}, {"value", 2}}), "bad-request");
  EXPECT_EQ(kind({{"cmd", "set"}, {"device", "dev0"}, {"line", 0}}), "bad-request");
  EXPECT_TRUE(ctl.call({{"cmd", "list"}}).ok());  // the connection survived it all
}

// The sentences a user reads, once each (the other tests decide on kinds).
TEST_F(Control, ErrorsSayWhatWasWrong) {
  auto ctl = control();
  auto err = [&](json req) {
    auto r = ctl.call(req);
    return r.ok() ? std::string() : r.error().message();
  };
  EXPECT_EQ(err({{"cmd", "get"}, {"device", "nope"}, {"line", 0}}), "no device named \"nope\"");
  EXPECT_EQ(err({{"cmd", "get"}, {"device", "dev0"}, {"line", 9}}),
            "device dev0 has no line \"9\" (lines are 0..3 or their names)");
  EXPECT_EQ(err({{"cmd", "get"}, {"line", 0}}), "\"device\" is required when the daemon serves several devices");
  EXPECT_EQ(err({{"cmd", "set"}, {"device", "dev0"}, {"line", 0}, {"value", 2}}),
            "set: \"value\" must be 0 or 1 (or false or true), not number");
  EXPECT_EQ(err({{"cmd", "set"}, {"device", "dev0"}, {"line", 0}}),
            "set: \"value\" is required: 0 or 1 (or false or true)");
  EXPECT_EQ(err({{"cmd", "fly"}}).rfind("unknown \"cmd\" \"fly\"; use one of list, status, get, set", 0), 0u);
}

TEST_F(Control, GarbageAndOversizedLines) {
  auto fd = connect_unix(control_path()).release_value();
  std::string garbage = "this is not json\n[1,2]\n\n{\"cmd\":\n";
  ASSERT_EQ(::send(fd.get(), garbage.data(), garbage.size(), MSG_NOSIGNAL), ssize_t(garbage.size()));
  std::string got;
  char buf[4096];
  while (std::count(got.begin(), got.end(), '\n') < 3) {
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, size_t(n));
  }
  EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 3);
  EXPECT_NE(got.find("\"ok\":false"), std::string::npos);
  // One line beyond the limit: refused, and the connection goes on.
  std::string huge(control::Connections::kMaxLine + 10, 'x');
  huge += "\n{\"cmd\":\"wires\"}\n";
  ASSERT_EQ(::send(fd.get(), huge.data(), huge.size(), MSG_NOSIGNAL), ssize_t(huge.size()));
  got.clear();
  while (std::count(got.begin(), got.end(), '\n') < 2) {
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, size_t(n));
  }
  EXPECT_NE(got.find("longer than"), std::string::npos) << got;
  EXPECT_NE(got.find("\"wires\":[]"), std::string::npos) << got;
}

}  // namespace
}  // namespace vgpio
