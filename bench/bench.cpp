// vgpio-bench: how vgpio feels to its users, against the least it could cost.
//
//   vgpio-bench --vgpio PATH [--json] [--quick]      start vgpio under each CPU placement and measure all
//   vgpio-bench --socket PATH [--ctl PATH] [--json]  measure any vhost-user-gpio backend already running
//
// Every latency is printed as microseconds and as a ratio to the floor: an
// eventfd ping-pong between two processes under the same CPU placement.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "control/control_client.h"
#include "driver/gpio_driver.h"
#include "hil.h"
#include "measure.h"

using namespace vgpio;
using namespace vgpio::bench;
using namespace vgpio::gpio;
using nlohmann::json;
using std::chrono::duration;

namespace {

struct Options {
  std::string vgpio, socket, ctl;
  bool json = false, quick = false;
};

int g_samples = 20000;

double since_ns(Clock::time_point t0) { return duration<double, std::nano>(Clock::now() - t0).count(); }

Result<json> measure_requests(driver::GpioDriver& d, double floor_us) {
  TRY(d.request(kSetDirection, 1, kDirectionOut));
  json out;
  for (auto [name, type, line] : {std::tuple{"get_value", kGetValue, 0}, std::tuple{"set_value", kSetValue, 1}}) {
    std::vector<double> s;
    for (int i = 0; i < g_samples; ++i) {
      auto t0 = Clock::now();
      auto r = TRY(d.request(type, static_cast<uint16_t>(line), type == kSetValue ? i & 1 : 0));
      s.push_back(since_ns(t0));
      if (r.status != kStatusOk) return Error("request failed");
    }
    out[name] = percentiles_json(percentiles(s), floor_us);
  }
  return out;
}

Result<json> measure_throughput(driver::GpioDriver& d) {
  json out;
  uint16_t lines = d.config().ngpio;
  for (int in_flight : {1, 8, 64}) {
    std::vector<driver::GpioDriver::Ticket> t(in_flight);
    long done = 0;
    auto t0 = Clock::now();
    while (since_ns(t0) < 1e9) {
      for (int i = 0; i < in_flight; ++i) t[i] = TRY(d.submit(kGetValue, static_cast<uint16_t>(i % lines)));
      for (auto ticket : t) TRY(d.wait(ticket));
      done += in_flight;
    }
    out[std::to_string(in_flight) + "_in_flight_per_s"] = done / (since_ns(t0) / 1e9);
  }
  return out;
}

// Microseconds since the epoch of a watch event's "2026-11-21T07:31:38.123456Z".
double event_time_us(const std::string& iso) {
  tm t{};
  const char* rest = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  double frac = rest && *rest == '.' ? std::atof(rest) : 0;
  return (double(timegm(&t)) + frac) * 1e6;
}

double now_us() {
  return duration<double, std::micro>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Interrupt latency: from the edge on a simulated input (its time as the
// daemon stamps it in the watch stream) to the eventq completion seen here.
// The edge is driven through the control socket; that trip is reported too.
Result<json> measure_interrupts(driver::GpioDriver& d, const std::string& ctl_path, double floor_us) {
  auto ctl = TRY(control::ControlClient::connect(ctl_path));
  auto watch = TRY(control::ControlClient::connect(ctl_path));
  json list = TRY(ctl.call({{"cmd", "list"}}));
  std::string device = list["devices"][0]["name"];
  const uint16_t line = 2;
  TRY(watch.call({{"cmd", "watch"}, {"device", device}}));
  TRY(d.request(kSetIrqType, line, kIrqEdgeBoth));
  std::vector<double> edge_to_eventq, ctl_to_eventq;
  int n = g_samples / 4;
  for (int i = 0; i < n; ++i) {
    TRY(d.unmask(line));
    auto t0 = Clock::now();
    // Wait for the interrupt first; the control reply can come after.
    TRY(ctl.send({{"cmd", "set"}, {"device", device}, {"line", line}, {"value", (i + 1) & 1}}));
    auto e = TRY(d.wait_event(std::chrono::seconds(5)));
    double seen_us = now_us();
    if (!e || e->status != kIrqStatusValid) return Error("interrupt lost");
    ctl_to_eventq.push_back(since_ns(t0));
    auto reply = TRY(ctl.next(std::chrono::seconds(5)));
    if (!reply || !reply->value("ok", false)) return Error("ctl set failed");
    for (;;) {  // the value change of this edge, stamped by the device
      auto ev = TRY(watch.next(std::chrono::seconds(5)));
      if (!ev) return Error("no watch event for the edge");
      if ((*ev)["field"] == "value" && (*ev)["line"] == line) {
        edge_to_eventq.push_back((seen_us - event_time_us((*ev)["time"])) * 1000);
        break;
      }
    }
  }
  json out = {{"latency", percentiles_json(percentiles(edge_to_eventq), floor_us)},
              {"via_ctl_latency", percentiles_json(percentiles(ctl_to_eventq), floor_us)}};
  long done = 0;
  auto t0 = Clock::now();
  while (since_ns(t0) < 1e9) {
    TRY(d.unmask(line));
    TRY(ctl.call({{"cmd", "set"}, {"device", device}, {"line", line}, {"value", (done + n + 1) & 1}}));
    auto e = TRY(d.wait_event(std::chrono::seconds(5)));
    if (!e) return Error("interrupt lost");
    ++done;
  }
  out["sustained_per_s"] = done / (since_ns(t0) / 1e9);
  TRY(d.request(kSetIrqType, line, kIrqNone));
  return out;
}

Result<json> measure_socket(const std::string& socket, const std::string& ctl, double floor_us) {
  driver::GpioDriver::Options o;
  o.queue_size = 256;
  auto d = TRY(driver::GpioDriver::connect(socket, o));
  json out = {{"requests", TRY(measure_requests(*d, floor_us))}, {"throughput", TRY(measure_throughput(*d))}};
  if (!ctl.empty() && d->has_irq()) out["interrupts"] = TRY(measure_interrupts(*d, ctl, floor_us));
  return out;
}

std::string write_config(const std::string& dir, int devices, int lines) {
  std::string path = dir + "/bench-" + std::to_string(devices) + ".toml";
  std::ofstream f(path);
  f << "control = \"" << dir << "/ctl.sock\"\n";
  for (int d = 0; d < devices; ++d) {
    f << "[[device]]\nname = \"d" << d << "\"\nsocket = \"" << dir << "/d" << d << ".sock\"\n";
    for (int l = 0; l < lines; ++l) f << "[[device.line]]\nname = \"l" << l << "\"\nsimulated = true\n";
  }
  return path;
}

Result<json> measure_memory_and_scale(const Options& o, const std::string& dir) {
  json out;
  for (int devices : {1, 8, 64, 256}) {
    auto cfg = write_config(dir, devices, 8);
    auto p = TRY(DaemonProcess::start(o.vgpio, {"serve", "--config", cfg}, -1, dir + "/ctl.sock"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    out["rss_kib_devices_of_8_lines"][std::to_string(devices)] = rss_kib(p.pid());
    out["pss_kib_devices_of_8_lines"][std::to_string(devices)] = smaps_kib(p.pid(), "Pss");
    out["private_kib_devices_of_8_lines"][std::to_string(devices)] =
        smaps_kib(p.pid(), "Private_Dirty") + smaps_kib(p.pid(), "Private_Clean");
  }
  auto& rss = out["rss_kib_devices_of_8_lines"];
  out["kib_per_device"] = (rss["256"].get<double>() - rss["64"].get<double>()) / 192.0;
  out["kib_per_device_1_to_64"] = (rss["64"].get<double>() - rss["1"].get<double>()) / 63.0;

  // Idle: a frontend connected, nothing happening, for 10 s.
  {
    auto p = TRY(DaemonProcess::start(o.vgpio, {"serve", "--socket", dir + "/idle.sock"}, -1, dir + "/idle.sock.ctl"));
    auto d = TRY(driver::GpioDriver::connect(dir + "/idle.sock"));
    double before = cpu_seconds(p.pid());
    std::this_thread::sleep_for(std::chrono::seconds(o.quick ? 2 : 10));
    out["idle_cpu_seconds"] = cpu_seconds(p.pid()) - before;
    out["idle_seconds"] = o.quick ? 2 : 10;
  }
  // The largest device the protocol allows.
  for (int lines : {8, 4096, 65535}) {
    auto p = TRY(DaemonProcess::start(o.vgpio, {"serve", "--sim", std::to_string(lines), "--socket", dir + "/big.sock"},
                                      -1, dir + "/big.sock.ctl"));
    auto t0 = Clock::now();
    auto d = TRY(driver::GpioDriver::connect(dir + "/big.sock"));
    auto names = TRY(d->line_names());
    for (uint16_t i = 0; i < d->config().ngpio; ++i) TRY(d->request(kGetDirection, i));
    double probe_s = since_ns(t0) / 1e9;
    auto last = TRY(d->request(kSetDirection, static_cast<uint16_t>(lines - 1), kDirectionOut));
    if (last.status != kStatusOk || names.back() != "sim" + std::to_string(lines - 1))
      return Error("the last line does not work");
    out["lines"][std::to_string(lines)] = {{"probe_seconds", probe_s}, {"rss_kib", rss_kib(p.pid())}};
  }
  auto& l = out["lines"];
  out["bytes_per_line"] = (l["65535"]["rss_kib"].get<double>() - l["4096"]["rss_kib"].get<double>()) * 1024 / (65535 - 4096);
  return out;
}

void print_latency(const char* what, const json& j) {
  std::printf("  %-26s p50 %7.1f us (%4.2fx)  p99 %7.1f us (%4.2fx)  p99.9 %7.1f us\n", what, j.value("p50_us", 0.0),
              j.value("p50_x_floor", 0.0), j.value("p99_us", 0.0), j.value("p99_x_floor", 0.0), j.value("p999_us", 0.0));
}

void print_run(const char* title, const json& r) {
  std::printf("%s\n  %-26s p50 %7.1f us            p99 %7.1f us\n", title, "floor: eventfd ping-pong",
              r["floor"]["p50_us"].get<double>(), r["floor"]["p99_us"].get<double>());
  print_latency("GET_VALUE round trip", r["requests"]["get_value"]);
  print_latency("SET_VALUE round trip", r["requests"]["set_value"]);
  for (auto& [k, v] : r["throughput"].items()) std::printf("  throughput %-15s %10.0f requests/s\n", k.c_str(), v.get<double>());
  if (r.contains("interrupts")) {
    print_latency("interrupt: edge -> eventq", r["interrupts"]["latency"]);
    print_latency("  ctl set -> eventq", r["interrupts"]["via_ctl_latency"]);
    std::printf("  %-26s %10.0f interrupts/s\n", "sustained interrupt rate", r["interrupts"]["sustained_per_s"].get<double>());
  }
  if (r.contains("stimulus_1khz_clock_edge_error")) {
    const json& s = r["stimulus_1khz_clock_edge_error"];
    const json& t = r["timer_floor_lateness"];
    std::printf("  %-26s p50 %7.1f us            p99 %7.1f us  p99.9 %7.1f us\n", "floor: bare timerfd lateness",
                t["p50_us"].get<double>(), t["p99_us"].get<double>(), t["p999_us"].get<double>());
    std::printf("  %-26s p50 %7.1f us (%4.2fx)  p99 %7.1f us (%4.2fx)  p99.9 %7.1f us  (%d edges)\n",
                "1 kHz clock: edge - schedule", s["p50_us"].get<double>(),
                s["p50_us"].get<double>() / t["p50_us"].get<double>(), s["p99_us"].get<double>(),
                s["p99_us"].get<double>() / t["p99_us"].get<double>(), s["p999_us"].get<double>(),
                s["edges"].get<int>());
    print_latency("wire: SET_VALUE -> eventq", r["wire"]["set_value_to_eventq"]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--vgpio") o.vgpio = next();
    else if (a == "--socket") o.socket = next();
    else if (a == "--ctl") o.ctl = next();
    else if (a == "--json") o.json = true;
    else if (a == "--quick") o.quick = true;
    else {
      std::fprintf(stderr, "usage: vgpio-bench --vgpio PATH [--json] [--quick] | --socket PATH [--ctl PATH] [--json]\n");
      return 2;
    }
  }
  if (o.vgpio.empty() == o.socket.empty()) {
    std::fprintf(stderr, "vgpio-bench: give either --vgpio (start vgpio) or --socket (a running backend)\n");
    return 2;
  }
  if (o.quick) g_samples = 2000;
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "vgpio-bench: %s\n", e.message().c_str());
    return 1;
  };
  json report;
  if (!o.socket.empty()) {
    auto floor = eventfd_ping_pong(g_samples, -1, -1);
    Percentiles f = percentiles(floor);
    auto r = measure_socket(o.socket, o.ctl, f.p50_us);
    if (!r) return fail(r.error());
    report["unpinned"] = r.value();
    report["unpinned"]["floor"] = percentiles_json(f, 0);
  } else {
    char tmpl[] = "/tmp/vgpio-bench-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    o.vgpio = std::filesystem::absolute(o.vgpio);
    // Placements: both on CPU 0; and one CPU each (bench on 0, daemon on 1).
    for (auto [name, daemon_cpu] : {std::pair{"one_cpu", 0}, std::pair{"cpu_each", 1}}) {
      auto floor = eventfd_ping_pong(g_samples, 0, daemon_cpu);
      Percentiles f = percentiles(floor);
      auto p = DaemonProcess::start(o.vgpio, {"serve", "--sim", "64", "--socket", dir + "/b.sock"}, daemon_cpu,
                                    dir + "/b.sock.ctl");
      if (!p) return fail(p.error());
      (void)pin_self(0);
      auto r = measure_socket(dir + "/b.sock", dir + "/b.sock.ctl", f.p50_us);
      auto stimulus = measure_stimulus_timing(dir + "/b.sock", dir + "/b.sock.ctl", o.quick ? 400 : 4000);
      auto timer_floor = measure_timer_floor(o.quick ? 400 : 4000, daemon_cpu);
      auto wire = measure_wire_latency(o.vgpio, dir, daemon_cpu, g_samples / 4, f.p50_us);
      (void)pin_self(-1);
      if (!r) return fail(r.error());
      if (!stimulus) return fail(stimulus.error());
      if (!timer_floor) return fail(timer_floor.error());
      if (!wire) return fail(wire.error());
      report[name] = r.value();
      report[name]["floor"] = percentiles_json(f, 0);
      report[name]["stimulus_1khz_clock_edge_error"] = stimulus.value();
      report[name]["timer_floor_lateness"] = timer_floor.value();
      report[name]["wire"] = wire.value();
    }
    auto m = measure_memory_and_scale(o, dir);
    if (!m) return fail(m.error());
    report["memory_and_scale"] = m.value();
    std::filesystem::remove_all(dir);
  }
  if (o.json) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  for (const char* placement : {"unpinned", "one_cpu", "cpu_each"})
    if (report.contains(placement)) print_run(placement, report[placement]);
  if (report.contains("memory_and_scale")) {
    const json& m = report["memory_and_scale"];
    std::printf("memory and scale\n");
    for (const char* k : {"1", "8", "64", "256"})
      std::printf("  %3s device(s) of 8 lines: RSS %6ld KiB (shared libraries included), PSS %6ld KiB, private %6ld KiB\n",
                  k, m["rss_kib_devices_of_8_lines"][k].get<long>(), m["pss_kib_devices_of_8_lines"][k].get<long>(),
                  m["private_kib_devices_of_8_lines"][k].get<long>());
    std::printf("  per device (64 -> 256)          %8.1f KiB\n", m["kib_per_device"].get<double>());
    std::printf("  per device (1 -> 64)            %8.1f KiB\n", m["kib_per_device_1_to_64"].get<double>());
    for (const char* k : {"8", "4096", "65535"})
      std::printf("  device of %5s lines: probe %6.2f s, RSS %8ld KiB\n", k, m["lines"][k]["probe_seconds"].get<double>(),
                  m["lines"][k]["rss_kib"].get<long>());
    std::printf("  per line (4096 -> 65535)        %8.1f bytes\n", m["bytes_per_line"].get<double>());
    std::printf("  idle CPU over %d s               %8.3f s\n", m["idle_seconds"].get<int>(),
                m["idle_cpu_seconds"].get<double>());
  }
  return 0;
}
