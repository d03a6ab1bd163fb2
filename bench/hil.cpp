#include "hil.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "client/control_client.h"
#include "driver/gpio_driver.h"
#include "measure.h"

namespace vgpio::bench {

using namespace gpio;
using nlohmann::json;

namespace {
int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

json stats(std::vector<double>& samples_ns, double floor_p50_us = 0) {
  json j = percentiles_json(percentiles(samples_ns), floor_p50_us);
  j["samples"] = samples_ns.size();
  return j;
}
}  // namespace

Result<json> measure_timer_floor(int wakeups, int cpu) {
  std::vector<double> late_ns;
  std::thread t([&] {
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof set, &set);  // this thread only
    }
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int64_t start = now_ns(CLOCK_MONOTONIC) + 1000000;
    for (int k = 0; k < wakeups; ++k) {
      int64_t due = start + int64_t(k) * 500000;
      itimerspec spec{};
      spec.it_value.tv_sec = due / 1000000000;
      spec.it_value.tv_nsec = due % 1000000000;
      timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, nullptr);
      epoll_event out{};
      uint64_t expirations;
      if (epoll_wait(ep, &out, 1, -1) == 1 && ::read(fd, &expirations, sizeof expirations) > 0)
        late_ns.push_back(double(now_ns(CLOCK_MONOTONIC) - due));
    }
    close(ep);
    close(fd);
  });
  t.join();
  if (late_ns.empty()) return Error("the timer floor loop did not run");
  return stats(late_ns);
}

Result<json> measure_stimulus_timing(const std::string& socket, const std::string& ctl_path, int edges) {
  const uint16_t line = 3;
  const int64_t half_period_ns = 500000;  // 1 kHz, duty 0.5
  auto d = TRY(driver::GpioDriver::connect(socket));
  auto ctl = TRY(client::ControlClient::connect(ctl_path));
  auto watch = TRY(client::ControlClient::connect(ctl_path));
  json list = TRY(ctl.call({{"cmd", "list"}}));
  std::string device = list["devices"][0]["name"];
  TRY(ctl.call({{"cmd", "set"}, {"device", device}, {"line", line}, {"value", 0}}));
  TRY(d->request(kSetDirection, line, kDirectionIn));
  TRY(d->request(kSetIrqType, line, kIrqEdgeBoth));
  TRY(d->unmask(line));
  TRY(watch.call({{"cmd", "watch"}, {"device", device}}));
  // The schedule is on CLOCK_MONOTONIC, the watch stream's times on
  // CLOCK_REALTIME: read their offset once (to well under a microsecond).
  int64_t offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
  json started = TRY(ctl.call({{"cmd", "clock"}, {"device", device}, {"line", line}, {"period", "1ms"}}));
  int64_t start = started["start_ns"].get<int64_t>() + offset;

  // The guest's side on a thread of its own: every interrupt taken and re-armed.
  std::atomic<bool> done{false};
  std::atomic<long> interrupts{0};
  std::thread guest([&] {
    while (!done) {
      auto e = d->wait_event(std::chrono::milliseconds(100));
      if (!e || !e.value()) continue;
      ++interrupts;
      (void)d->unmask(line);
    }
  });
  std::vector<double> error_ns;
  Result<void> failed;
  for (int k = 0; k < edges;) {
    auto e = watch.next(std::chrono::seconds(5));
    if (!e || !e.value()) {
      failed = Error("the clock's edges stopped coming");
      break;
    }
    const json& ev = *e.value();
    if (ev["field"] != "value" || ev["line"] != line) continue;
    // Edge k is due at start + k half periods; it can only be late.
    error_ns.push_back(double(ev["ns"].get<int64_t>() - (start + k * half_period_ns)));
    ++k;
  }
  done = true;
  guest.join();
  (void)ctl.call({{"cmd", "stop"}, {"device", device}, {"line", line}});
  (void)d->request(kSetIrqType, line, kIrqNone);
  TRY(std::move(failed));
  json out = stats(error_ns);
  out["edges"] = edges;
  out["interrupts_taken"] = interrupts.load();
  return out;
}

Result<json> measure_wire_latency(const std::string& vgpio, const std::string& dir, int daemon_cpu, int samples,
                                  double floor_p50_us) {
  std::string config = dir + "/wire.toml";
  {
    std::ofstream f(config);
    f << "control = \"" << dir << "/wire.ctl\"\n";
    for (const char* name : {"a", "b"}) {
      f << "[[device]]\nname = \"" << name << "\"\nsocket = \"" << dir << "/wire-" << name << ".sock\"\n";
      for (int l = 0; l < 8; ++l) f << "[[device.line]]\nname = \"l" << l << "\"\nsimulated = true\n";
    }
    f << "[[wire]]\nfrom = \"a:l0\"\nto = \"b:l0\"\n";
  }
  auto p = TRY(DaemonProcess::start(vgpio, {"serve", "--config", config}, daemon_cpu, dir + "/wire.ctl"));
  auto a = TRY(driver::GpioDriver::connect(dir + "/wire-a.sock"));
  auto b = TRY(driver::GpioDriver::connect(dir + "/wire-b.sock"));
  TRY(a->request(kSetDirection, 0, kDirectionOut));
  TRY(b->request(kSetDirection, 0, kDirectionIn));
  TRY(b->request(kSetIrqType, 0, kIrqEdgeBoth));
  std::vector<double> latency_ns;
  for (int i = 0; i < samples; ++i) {
    TRY(b->unmask(0));
    auto t0 = Clock::now();
    auto ticket = TRY(a->submit(kSetValue, 0, (i + 1) & 1));
    auto e = TRY(b->wait_event(std::chrono::seconds(5)));
    double ns = since_ns(t0);
    if (!e || e->status != kIrqStatusValid) return Error("the wire's edge never reached device b's guest");
    TRY(a->wait(ticket));
    latency_ns.push_back(ns);
  }
  return json{{"set_value_to_eventq", stats(latency_ns, floor_p50_us)}};
}

}  // namespace vgpio::bench
