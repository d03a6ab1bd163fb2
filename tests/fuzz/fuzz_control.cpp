// libFuzzer: arbitrary bytes on a control connection, against a running
// daemon with two devices of simulated lines and a wire between them. Each
// input is a new connection; a status request after it (on a line of its
// own) says when the daemon has answered everything. Devices made by
// "create" get a socket in the fuzzer's own folder, whatever the input asks.
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "app/commands.h"
#include "app/host_setup.h"
#include "base/log.h"
#include "base/unix_socket.h"
#include "client/control_client.h"
#include "daemon/daemon.h"

using namespace vgpio;

namespace {

struct Harness {
  std::string dir;
  std::unique_ptr<daemon::Daemon> running;
  std::thread main;

  Harness() {
    set_log_level(LogLevel::Off);
    char tmpl[] = "/tmp/vgpio-fuzz-XXXXXX";
    dir = mkdtemp(tmpl);
    daemon::DaemonConfig config;
    for (unsigned i = 0; i < 2; ++i) {
      daemon::DeviceConfig device;
      device.name = "dev" + std::to_string(i);
      device.socket = dir + "/dev" + std::to_string(i) + ".sock";
      device.lines = app::simulated_lines(4, {}).release_value();
      config.devices.push_back(std::move(device));
    }
    config.settings.control = dir + "/control.sock";
    config.wires.push_back(sim::WireSpec{"dev0", "sim1", "dev1", "sim0", {}, false});
    std::string created = dir + "/created.sock";
    config.make_device = [created](const nlohmann::json& request) {
      nlohmann::json confined = request;
      confined["socket"] = created;
      return app::created_device_config(confined, config::ConfigSpec{});
    };
    running = daemon::Daemon::create(std::move(config)).release_value();
    if (!running->start()) abort();
    main = std::thread([this] { running->run(); });
  }
};

Harness& harness() {
  static Harness* h = new Harness();  // lives as long as the process: the daemon's threads use it
  return *h;
}

// Devices an input made to persist: gone before the next input, so that
// inputs do not pile up threads.
void destroy_created(const std::string& control) {
  auto client = client::ControlClient::connect(control);
  if (!client) abort();
  auto list = client.value().call({{"cmd", "list"}});
  if (!list) abort();
  for (const auto& d : list.value()["devices"])
    if (d.value("created", false)) (void)client.value().call({{"cmd", "destroy"}, {"device", d["name"]}});
}

// Waits up to 10 s for `events`; libFuzzer's timer signal (SIGALRM) does
// not count as an answer, nor as the end of the wait.
bool wait_for(int fd, short events) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, 1000);
    if (n == 1) return true;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}
bool readable(int fd) { return wait_for(fd, POLLIN); }

bool send_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    if (!wait_for(fd, POLLOUT)) return false;
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = harness();
  auto fd = connect_unix(h.dir + "/control.sock");
  if (!fd) abort();  // the daemon is gone: that is the bug
  int s = fd.value().get();
  const std::string sentinel = "\n{\"cmd\":\"status\"}\n";
  if (!send_all(s, data, size) || !send_all(s, reinterpret_cast<const uint8_t*>(sentinel.data()), sentinel.size()))
    return 0;
  // Answers (and watch events) until a status answer (the sentinel's, or
  // one the input asked for), or the daemon closes.
  // A status answer (the harness's daemon has no sandbox or restart report):
  // {"clocks":{...},"devices":N,"ok":true}. Its start and end are kept;
  // the middle (a clock per device) may be long.
  std::string line, end;
  char buf[65536];
  for (bool done = false; !done;) {
    if (!readable(s)) abort();  // no answer: a hang
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && !done; ++i) {
      if (buf[i] != '\n') {
        if (line.size() < 256) line += buf[i];
        end += buf[i];
        if (end.size() > 32) end.erase(0, end.size() - 32);
        continue;
      }
      done = line.rfind("{\"clocks\":", 0) == 0 && end.find(",\"ok\":true}") != std::string::npos;
      line.clear();
      end.clear();
    }
  }
  destroy_created(h.dir + "/control.sock");
  return 0;
}
