// Who may drive what through the control socket: roles from the peer's
// credentials (SO_PEERCRED), limits on connections and on devices made at run
// time, names, and sockets only in the create directory.
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/unix_socket.h"
#include "daemon_fixture.h"

namespace vgpio {
namespace {

using nlohmann::json;
constexpr uid_t kNobody = 65534;
constexpr uid_t kStranger = 65533;

class Access : public testing::DaemonTest {
 protected:
  // Runs `request` as `uid` (a forked child that drops to it); the answer,
  // or {"connect": errno} when it could not connect.
  json as_user(uid_t uid, const json& request) {
    int pipefd[2];
    EXPECT_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(pipefd[0]);
      std::string out;
      if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) {
        out = json{{"setresuid", errno}}.dump();
      } else {
        auto client = client::ControlClient::connect(control_path());
        if (!client) out = json{{"connect", client.error().code()}}.dump();
        else {
          out = answer(client.value(), request).dump();
        }
      }
      [[maybe_unused]] ssize_t n = write(pipefd[1], out.data(), out.size());
      _exit(0);
    }
    close(pipefd[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
    waitpid(pid, nullptr, 0);
    return json::parse(text, nullptr, false);
  }
  // The control socket open to every user, so that only the grants decide.
  void start_open(Grant observe, Grant act = {}) {
    start({4}, {}, [&](daemon::DaemonConfig& c) {
      c.settings.control_access.mode = 0666;
      c.settings.control_observe = observe;
      c.settings.control_act = act;
    });
    chmod(dir_.c_str(), 0711);
  }
  // The answer, refusals included.
  static json answer(client::ControlClient& c, const json& request) {
    auto r = c.exchange(request);
    return r ? r.value() : json{{"ok", false}, {"error", r.error().message()}};
  }
  json create(client::ControlClient& c, const std::string& name, const std::string& socket,
              const std::string& line = "a", bool persist = false) {
    return answer(c, {{"cmd", "create"},
                      {"name", name},
                      {"socket", socket},
                      {"persist", persist},
                      {"lines", {{{"name", line}, {"simulated", true}}}}});
  }
  static std::string error(const json& answer) { return answer.value("error", ""); }
  static std::string kind(const json& answer) { return answer.value("error_kind", ""); }
};

// The device sockets opened to QEMU's group do not open the control socket.
TEST_F(Access, TheControlSocketIsOwnerOnlyByDefault) {
  start({1}, {}, [](daemon::DaemonConfig& c) { c.settings.access.mode = 0660; });
  struct stat st {};
  ASSERT_EQ(stat(socket(0).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(stat(control_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Access, AnObserverMayListAndWatchButNotAct) {
  start_open(Grant{{kNobody}, {}});
  json list = as_user(kNobody, {{"cmd", "list"}});
  EXPECT_EQ(list["ok"], true) << list.dump();
  json watch = as_user(kNobody, {{"cmd", "watch"}, {"snapshot", true}});
  EXPECT_EQ(watch["ok"], true) << watch.dump();
  for (json request :
       {json{{"cmd", "set"}, {"line", 0}, {"value", 1}}, json{{"cmd", "pulse"}, {"line", 0}, {"width", "1ms"}},
        json{{"cmd", "create"}, {"name", "x"}, {"socket", "x.sock"}, {"lines", json::array()}},
        json{{"cmd", "destroy"}, {"device", "dev0"}}}) {
    json answer = as_user(kNobody, request);
    EXPECT_EQ(answer["ok"], false) << request.dump();
    EXPECT_EQ(kind(answer), "not-permitted") << answer.dump();
  }
  EXPECT_EQ(status(0).value, 0);  // nothing was driven
}

// The sentences a user reads, once each (the other tests decide on kinds).
TEST_F(Access, RefusalsSayWhoMayAndWhatToDo) {
  start_open(Grant{{kStranger}, {}}, Grant{{kNobody}, {}});
  auto c = control();
  ASSERT_EQ(create(c, "mine", "mine.sock", "a", true)["ok"], true);
  EXPECT_NE(error(as_user(kStranger, {{"cmd", "set"}, {"line", 0}, {"value", 1}})).find("may observe but not act"),
            std::string::npos);
  EXPECT_NE(error(as_user(65532, {{"cmd", "list"}})).find("uid 65532 may not use this control socket"),
            std::string::npos);
  EXPECT_NE(
      error(as_user(kNobody, {{"cmd", "destroy"}, {"device", "mine"}})).find("only that user (or root) may destroy it"),
      std::string::npos);
  EXPECT_NE(error(create(c, "a/b", "ok.sock")).find("a name is 1 to 64 of"), std::string::npos);
}

TEST_F(Access, AnActorMayAct) {
  start_open({}, Grant{{}, {kNobody}});  // by group: nobody's own gid is 65534 here
  json answer = as_user(kNobody, {{"cmd", "set"}, {"line", 0}, {"value", 1}});
  EXPECT_EQ(answer["ok"], true) << answer.dump();
  EXPECT_EQ(status(0).value, 1);
}

TEST_F(Access, AUserWithNoGrantGetsNothing) {
  start_open(Grant{{kNobody}, {}});
  json answer = as_user(kStranger, {{"cmd", "list"}});
  EXPECT_EQ(answer["ok"], false);
  EXPECT_EQ(kind(answer), "not-permitted") << answer.dump();
}

TEST_F(Access, ConnectionsAreLimitedPerUser) {
  start({1});
  std::vector<client::ControlClient> clients;
  for (size_t i = 0; i < control::Connections::kMaxClientsPerUser; ++i) {
    clients.push_back(control());
    ASSERT_EQ(clients.back().call({{"cmd", "status"}}).value()["ok"], true) << i;
  }
  auto extra = client::ControlClient::connect(control_path());
  ASSERT_TRUE(extra);
  json refused = answer(extra.value(), {{"cmd", "status"}});
  EXPECT_EQ(kind(refused), "limit") << refused.dump();
  clients.pop_back();  // one leaves: there is room again, once the daemon has seen it go
  bool let_in = false;
  eventually([&] {
    auto again = client::ControlClient::connect(control_path());
    let_in = again && answer(again.value(), {{"cmd", "status"}})["ok"] == true;
    if (let_in) clients.push_back(again.release_value());  // kept: a closing one would free the place again
    return let_in;
  });
  EXPECT_TRUE(let_in);
}

TEST_F(Access, DevicesMadeAtRunTimeAreLimitedPerUser) {
  start({1});
  auto c = control();
  for (size_t i = 0; i < daemon::Daemon::kMaxCreatedPerUser; ++i)
    ASSERT_EQ(create(c, "m" + std::to_string(i), "m" + std::to_string(i) + ".sock")["ok"], true) << i;
  json answer = create(c, "one-more", "one-more.sock");
  EXPECT_EQ(kind(answer), "limit") << answer.dump();
}

TEST_F(Access, NamesAreCheckedForDevicesAndLines) {
  start({1});
  auto c = control();
  for (std::string bad : {std::string("a\nSTOPPING=1"), std::string("a/b"), std::string(".."), std::string("a..b"),
                          std::string(200, 'x'), std::string(""), std::string("-rf")}) {
    json device = create(c, bad, "ok.sock");
    EXPECT_EQ(device["ok"], false) << bad;
    EXPECT_EQ(kind(device), "bad-request") << device.dump();
    EXPECT_EQ(error(device).find('\n'), std::string::npos) << "the bad name is echoed";
    if (bad.empty()) continue;  // a line may have no name
    json line = create(c, "fine", "fine.sock", bad);
    EXPECT_EQ(line["ok"], false) << bad;
    EXPECT_EQ(kind(line), "bad-request") << line.dump();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ok.sock"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/fine.sock"));
}

TEST_F(Access, CreatedSocketsGoInTheCreateDirectoryOnly) {
  start({1});
  auto c = control();
  std::string elsewhere = dir_ + "-elsewhere";
  std::filesystem::create_directory(elsewhere);
  json outside = create(c, "out", elsewhere + "/out.sock");
  EXPECT_EQ(kind(outside), "bad-request") << outside.dump();
  EXPECT_NE(error(outside).find("get their sockets in " + dir_), std::string::npos) << outside.dump();
  for (std::string sneaky : {std::string("../x.sock"), std::string("sub/x.sock"), dir_ + "/../x.sock"})
    EXPECT_EQ(create(c, "s", sneaky)["ok"], false) << sneaky;
  // A symlink in the directory is never followed or replaced.
  std::filesystem::create_symlink(elsewhere + "/target.sock", dir_ + "/link.sock");
  json link = create(c, "l", "link.sock");
  EXPECT_EQ(kind(link), "conflict") << link.dump();
  EXPECT_NE(error(link).find("is not a socket"), std::string::npos) << link.dump();
  // The directory swapped for a symlink after start-up: the daemon holds the
  // directory it opened, and the socket goes there, never elsewhere.
  std::filesystem::rename(dir_, dir_ + "-moved");
  std::filesystem::create_directory_symlink(elsewhere, dir_);
  json swapped = create(c, "swapped", "swapped.sock", "a", true);
  EXPECT_EQ(swapped["ok"], true) << swapped.dump();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "-moved/swapped.sock"));
  EXPECT_FALSE(std::filesystem::exists(elsewhere + "/swapped.sock"));
  EXPECT_EQ(answer(c, {{"cmd", "destroy"}, {"device", "swapped"}})["ok"], true);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "-moved/swapped.sock"));  // removed from where it was made
  std::filesystem::remove(dir_);
  std::filesystem::rename(dir_ + "-moved", dir_);
  std::filesystem::remove_all(elsewhere);
}

TEST_F(Access, OnlyItsMakerMayDestroyADevice) {
  start_open({}, Grant{{kNobody}, {}});
  auto c = control();
  ASSERT_EQ(create(c, "mine", "mine.sock", "a", true)["ok"], true);
  json answer = as_user(kNobody, {{"cmd", "destroy"}, {"device", "mine"}});
  EXPECT_EQ(kind(answer), "not-permitted") << answer.dump();
}

}  // namespace
}  // namespace vgpio

namespace vgpio {
namespace {

// The sandbox goes on between daemon::Daemon::create() and start(): until start(),
// no device thread reads what a frontend sends.
TEST(SandboxOrder, NoFrontendMessageIsReadBeforeStart) {
  char tmpl[] = "/tmp/vgpio-order-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  daemon::DaemonConfig config;
  daemon::DeviceConfig device;
  device.name = "dev0";
  device.socket = dir + "/dev0.sock";
  device.lines = app::simulated_lines(1, {}).release_value();
  config.devices.push_back(std::move(device));
  auto daemon = daemon::Daemon::create(std::move(config));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message();
  UniqueFd fd = connect_unix(dir + "/dev0.sock").release_value();  // the listen queue takes it
  const uint32_t get_features[3] = {1, 1, 0};                      // VHOST_USER_GET_FEATURES, version 1
  ASSERT_EQ(write(fd.get(), get_features, sizeof get_features), static_cast<ssize_t>(sizeof get_features));
  pollfd p{fd.get(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 200), 0) << "a device answered before start()";
  ASSERT_TRUE(daemon.value()->start().ok());
  EXPECT_EQ(poll(&p, 1, 60000), 1) << "no answer after start()";
  daemon.value().reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vgpio
