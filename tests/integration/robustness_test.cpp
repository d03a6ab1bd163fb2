// No peer can crash, hang or stall the daemon: a frontend that never reads,
// stalls inside a message, hands over a pipe nobody reads or shrinks its
// memory; a control client that sends the wrong types or never reads; a
// device whose thread is stuck. After each: the process lives, the other
// devices serve, and `list` answers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "base/unix_socket.h"
#include "control/commands.h"
#include "daemon_fixture.h"
#include "vhost_user/message_io.h"

namespace vgpio {
namespace {

using namespace gpio;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class Robustness : public testing::DaemonTest {
 protected:
  void SetUp() override { start({4, 4}); }

  // `list` answers, and says whether each device answered. A daemon that a
  // hostile peer stalled would never answer (the peer never lets go), so the
  // bound tells a stall from a slow machine without timing the daemon: under
  // qemu-user beside a build, a 0.5 s answer has taken over a second.
  static constexpr auto kStalled = 60s;
  json list_answers() {
    auto ctl = control();
    auto begin = Clock::now();
    auto r = ctl.call({{"cmd", "list"}});
    EXPECT_LT(Clock::now() - begin, kStalled);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : json();
  }
  void expect_device_serves(size_t device) {
    auto d = connect({}, device);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->request(kGetDirection, 3).value().status, kStatusOk);
  }
  // The daemon closed `fd`: reads (its unread replies first) end in EOF or a reset.
  static bool closed_by_daemon(int fd) {
    char sink[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 60000) != 1) return false;  // only a hang gets here
      ssize_t n = recv(fd, sink, sizeof sink, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }
  // Raw JSON lines on a control connection.
  struct RawControl {
    UniqueFd fd;
    std::string pending;
    void send_line(const std::string& line) {
      std::string all = line + "\n";
      for (size_t sent = 0; sent < all.size();) {
        ssize_t n = ::send(fd.get(), all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
        ASSERT_GT(n, 0);
        sent += static_cast<size_t>(n);
      }
    }
    json answer() {
      char buf[65536];
      size_t pos;
      while ((pos = pending.find('\n')) == std::string::npos) {
        ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) return json();
        pending.append(buf, static_cast<size_t>(n));
      }
      json j = json::parse(pending.substr(0, pos), nullptr, false);
      pending.erase(0, pos + 1);
      return j;
    }
  };
  RawControl raw_control() { return RawControl{connect_unix(control_path()).release_value(), ""}; }
};

TEST_F(Robustness, ControlFieldsOfTheWrongTypeGetAnErrorNamingTheField) {
  auto ctl = raw_control();
  struct Case {
    std::string request, field;
  };
  std::vector<Case> cases = {
      {R"({"cmd":1})", "\"cmd\""},
      {R"({"device":"dev0"})", "\"cmd\""},
      {R"({"cmd":"nope"})", "unknown"},
      {R"({"cmd":"get","device":["dev0"],"line":0})", "\"device\""},
      {R"({"cmd":"get","device":"dev0","line":[0]})", "\"line\""},
      {R"({"cmd":"get","device":"dev0","line":-1})", "\"line\""},
      {R"({"cmd":"get","device":"dev0"})", "\"line\" is required"},
      {R"({"cmd":"set","device":"dev0","line":0,"value":"1"})", "\"value\""},
      {R"({"cmd":"set","device":"dev0","line":0,"value":2})", "\"value\""},
      {R"({"cmd":"watch","snapshot":"yes"})", "\"snapshot\""},
      {R"({"cmd":"list","device":{}})", "\"device\" is not a field of list"},
      {R"({"cmd":"pulse","device":"dev0","line":0,"width":null})", "\"width\""},
      {R"({"cmd":"clock","device":"dev0","line":0,"period":"1ms","duty":"half"})", "\"duty\""},
      {R"({"cmd":"pattern","device":"dev0","line":0,"steps":{"a":1}})", "\"steps\""},
      {R"({"cmd":"wire","from":1,"to":"dev1:0"})", "\"from\""},
      {R"({"cmd":"create","name":"x","socket":"/tmp/x.sock","lines":[],"persist":"no"})", "\"persist\""},
      {R"({"cmd":"destroy","device":7})", "\"device\""},
      {"[1,2,3]", "not a JSON object"},
      {"\"list\"", "not a JSON object"},
      {"{\"cmd\":\"get\",\"line\":\"\xff\xfe\"}", "UTF-8"},
      {"{not json", "not valid JSON"},
  };
  for (const auto& c : cases) {
    ctl.send_line(c.request);
    json a = ctl.answer();
    ASSERT_TRUE(a.is_object()) << c.request << ": the connection closed";
    EXPECT_EQ(a.value("ok", true), false) << c.request;
    EXPECT_EQ(a.value("error_kind", ""), "bad-request") << c.request << " -> " << a.dump();
    EXPECT_NE(a.value("error", "").find(c.field), std::string::npos) << c.request << " -> " << a.dump();
  }
  // An oversized line is refused, and the connection goes on.
  ctl.send_line(std::string(200 * 1024, 'x'));
  json big = ctl.answer();
  EXPECT_EQ(big.value("error_kind", ""), "bad-request") << big.dump();
  EXPECT_NE(big.value("error", "").find("longer than"), std::string::npos) << big.dump();
  ctl.send_line(R"({"cmd":"status"})");
  EXPECT_EQ(ctl.answer().value("ok", false), true);
}

TEST_F(Robustness, EveryCommandInTheTableHasAHandler) {
  auto ctl = raw_control();
  for (const auto& c : control::commands()) {
    EXPECT_TRUE(control::ControlServer::handles(c.id)) << c.name;
    json request = {{"cmd", std::string(c.name)}, {"no such field", 1}};
    ctl.send_line(request.dump());
    json a = ctl.answer();
    // The table refused the field: the command itself is known.
    EXPECT_EQ(a.value("error_kind", ""), "bad-request") << c.name << ": " << a.dump();
    EXPECT_NE(a.value("error", "").find("is not a field of"), std::string::npos) << c.name << ": " << a.dump();
  }
}

TEST_F(Robustness, AStuckDeviceIsListedAsNotAnsweringAndTheOthersAre) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  daemon_->device_loop(1).post([released] { released.wait(); });
  json r = list_answers();
  ASSERT_EQ(r["devices"].size(), 2u);
  EXPECT_EQ(r["devices"][0]["answering"], true);
  EXPECT_EQ(r["devices"][0]["lines"].size(), 4u);
  EXPECT_EQ(r["devices"][1]["answering"], false);
  auto ctl = control();
  EXPECT_EQ(refusal_kind({{"cmd", "get"}, {"device", "dev1"}, {"line", 0}}), "not-answering");
  auto get = ctl.call({{"cmd", "get"}, {"device", "dev1"}, {"line", 0}});
  ASSERT_FALSE(get.ok());
  EXPECT_NE(get.error().message().find("not answering"), std::string::npos) << get.error().message();
  expect_device_serves(0);
  release.set_value();
  eventually([&] { return list_answers()["devices"][1].value("answering", false); });
  EXPECT_EQ(list_answers()["devices"][1]["answering"], true);
}

TEST_F(Robustness, AFrontendThatNeverReadsItsRepliesIsCutOff) {
  UniqueFd fd = connect_unix(socket(0)).release_value();
  vhost::Header get_features{vhost::kGetFeatures, vhost::kVersion, 0};
  // Requests as fast as the daemon reads them, until it cuts us off.
  size_t sent = 0;
  for (; sent < 1000000; ++sent) {
    pollfd p{fd.get(), POLLOUT, 0};
    if (poll(&p, 1, 60000) != 1 || (p.revents & (POLLERR | POLLHUP))) break;
    if (::send(fd.get(), &get_features, sizeof get_features, MSG_NOSIGNAL) != sizeof get_features) break;
    if (sent == 1000) {
      list_answers();
      expect_device_serves(1);
    }
  }
  EXPECT_LT(sent, 1000000u) << "the daemon took a million requests whose replies nobody read";
  EXPECT_TRUE(closed_by_daemon(fd.get())) << "after " << sent << " requests";
  expect_device_serves(0);
}

TEST_F(Robustness, AFrontendThatStallsInsideAMessageIsCutOffWhateverItsPace) {
  UniqueFd fd = connect_unix(socket(0)).release_value();
  uint8_t message[12 + 8] = {};
  vhost::Header h{vhost::kSetFeatures, vhost::kVersion, 8};
  std::memcpy(message, &h, sizeof h);
  // A byte every 200 ms: each read finds something, the message never ends.
  size_t sent = 0;
  bool closed = false;
  for (; sent < sizeof message && !closed; ++sent) {
    closed = ::send(fd.get(), message + sent, 1, MSG_NOSIGNAL) != 1;
    pollfd p{fd.get(), POLLIN, 0};
    closed = closed || poll(&p, 1, 200) == 1;
    if (sent == 2) {
      list_answers();
      expect_device_serves(1);
    }
  }
  EXPECT_TRUE(closed && closed_by_daemon(fd.get())) << "the daemon waited for all " << sent << " bytes";
  expect_device_serves(0);
}

TEST_F(Robustness, APipeAsCallFdThatNobodyReadsNeverBlocksTheDevice) {
  auto d = connect();
  ASSERT_TRUE(d);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  // Full before the daemon ever writes to it.
  fcntl(write_end.get(), F_SETFL, O_NONBLOCK);
  uint64_t one = 1;
  while (write(write_end.get(), &one, sizeof one) == sizeof one) {}
  fcntl(write_end.get(), F_SETFL, 0);
  int call = write_end.get();
  EXPECT_OK(d->frontend().send_u64(vhost::kSetVringCall, 0, std::span(&call, 1)));
  for (int i = 0; i < 3; ++i) EXPECT_OK(d->submit(kSetValue, 2, i & 1 ? 0 : 1));
  EXPECT_OK(d->submit(kSetDirection, 2, kDirectionOut));
  eventually([&] { return status(2).direction == kDirectionOut; });
  EXPECT_EQ(status(2).value, 1);
  EXPECT_EQ(list_answers()["devices"][0]["answering"], true);
}

TEST_F(Robustness, GuestMemoryThatShrinksDropsThatFrontendNotTheProcess) {
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_OK(d->request(kSetValue, 2, 1));
  EXPECT_OK(d->request(kSetDirection, 2, kDirectionOut));
  ASSERT_EQ(status(2).value, 1);
  // The frontend takes its memory away, then kicks (never touching it again itself).
  ASSERT_EQ(ftruncate(d->memory().fd(), 0), 0);
  uint64_t one = 1;
  ASSERT_EQ(write(d->kick_fd(0), &one, sizeof one), 8);
  eventually([&] { return status(2).direction == kDirectionNone; });
  EXPECT_EQ(status(2).direction, kDirectionNone);
  EXPECT_EQ(status(2).value, 0);  // its safe level
  list_answers();
  expect_device_serves(1);
  expect_device_serves(0);
}

TEST_F(Robustness, AWatcherThatNeverReadsIsCutOffAndOthersNeverNotice) {
  auto watcher = raw_control();
  watcher.send_line(R"({"cmd":"watch","device":"dev0"})");
  ASSERT_EQ(watcher.answer().value("ok", false), true);
  // Each change is an event of about 200 bytes: far past the 1 MiB backlog.
  for (int i = 0; i < 20000; ++i) {
    drive(0, i & 1);
    if (i == 10000) list_answers();
  }
  list_answers();
  EXPECT_TRUE(closed_by_daemon(watcher.fd.get()));
}

TEST_F(Robustness, StoppingIsBoundedWhateverTheFrontendsDo) {
  auto held = connect({}, 1);
  ASSERT_TRUE(held);
  EXPECT_OK(held->request(kSetValue, 1, 1));
  EXPECT_OK(held->request(kSetDirection, 1, kDirectionOut));
  UniqueFd stalled = connect_unix(socket(0)).release_value();
  uint8_t first = vhost::kGetFeatures;
  ASSERT_EQ(::send(stalled.get(), &first, 1, MSG_NOSIGNAL), 1);
  auto begin = Clock::now();
  daemon_->stop();
  main_thread_.join();
  daemon_.reset();
  EXPECT_LT(Clock::now() - begin, 2s);
}

// Answers have no cap: the largest device the protocol allows, listed whole.
class LargestDevice : public testing::DaemonTest {
 protected:
  void SetUp() override { start({65535}); }
};

TEST_F(LargestDevice, ListAndWatchSnapshotCarryEveryLine) {
  // About 13 MB each: a sanitizer build on a loaded machine takes its time.
  auto answer = [&](const json& request) {
    auto ctl = control();
    EXPECT_OK(ctl.send(request));
    auto a = ctl.next(kHang);
    EXPECT_TRUE(a.ok() && a.value()) << request.dump();
    return a.ok() && a.value() ? *a.value() : json();
  };
  json list = answer({{"cmd", "list"}});
  ASSERT_EQ(list["devices"][0]["lines"].size(), 65535u);
  EXPECT_EQ(list["devices"][0]["answering"], true);
  EXPECT_EQ(list["devices"][0]["lines"][65534]["name"], "sim65534");
  json snapshot = answer({{"cmd", "watch"}, {"snapshot", true}});
  EXPECT_EQ(snapshot["devices"][0]["lines"].size(), 65535u);
}

}  // namespace
}  // namespace vgpio
