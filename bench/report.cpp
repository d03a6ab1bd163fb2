#include "report.h"

#include <cstdio>

#include "backend.h"

namespace vgpio::bench {

using nlohmann::json;

namespace {

double num(const json& j, const char* key) { return j.contains(key) ? j[key].get<double>() : 0.0; }

void print_latency(const char* what, const json& j) {
  std::printf("  %-30s p50 %7.1f us (%4.2fx)  p99 %7.1f us (%4.2fx)  p99.9 %7.1f us\n", what, num(j, "p50_us"),
              num(j, "p50_x_floor"), num(j, "p99_us"), num(j, "p99_x_floor"), num(j, "p999_us"));
}

void print_floor(const json& f) {
  std::printf("  %-30s p50 %7.1f us            p99 %7.1f us\n", "floor: eventfd ping-pong", num(f, "p50_us"),
              num(f, "p99_us"));
}

void print_backend(const json& b) {
  print_latency("GET_VALUE round trip", b["latency"]["get_value"]);
  print_latency("SET_VALUE round trip", b["latency"]["set_value"]);
  for (int level : kInFlightLevels) {
    const json& t = b["throughput"][std::to_string(level)];
    std::printf("  throughput, %2d in flight     %10.0f requests/s", level, num(t, "per_s"));
    if (t.contains("backend_cpu_us_per_request"))
      std::printf("   backend CPU %6.2f us, %4.2f wake-ups per request", num(t, "backend_cpu_us_per_request"),
                  num(t, "backend_wakeups_per_request"));
    std::printf("\n");
  }
  if (!b.contains("interrupts")) return;
  const json& i = b["interrupts"];
  print_latency("interrupt: edge -> eventq", i["latency"]);
  std::string made = "  " + i.value("made_by", std::string("ctl set")) + " -> eventq";
  print_latency(made.c_str(), i["via_ctl_latency"]);
  std::printf("  %-30s %10.0f interrupts/s", "sustained interrupt rate", num(i, "sustained_per_s"));
  if (i.contains("daemon_cpu_us_per_interrupt"))
    std::printf("   CPU per interrupt: device thread %5.2f us, daemon %5.2f us (its ctl set included)",
                num(i, "device_thread_cpu_us_per_interrupt"), num(i, "daemon_cpu_us_per_interrupt"));
  std::printf("\n");
}

// Each ratio with the machine's floor beside it (the eventfd ping-pong's
// p50 under this placement): a slow machine shows there, a slow backend in
// the ratio.
void print_comparison(const json& r) {
  const json &v = r["vgpio"], &p = r["peer"], &x = r["ratios"];
  double floor = num(r["floor"], "p50_us");
  std::printf("  %-30s %12s %12s %12s   %s\n", "side by side", "vgpio", "peer", "vgpio/peer", "floor p50");
  for (const char* q : {"p50_us", "p99_us", "p999_us"})
    std::printf("  GET_VALUE %-20s %9.1f us %9.1f us %11.2fx   %6.1f us\n", q, num(v["latency"]["get_value"], q),
                num(p["latency"]["get_value"], q), num(x["get_value_latency"], q), floor);
  for (int level : kInFlightLevels) {
    std::string k = std::to_string(level);
    std::printf("  %2d in flight, requests/s     %12.0f %12.0f %11.2fx   %6.1f us\n", level,
                num(v["throughput"][k], "per_s"), num(p["throughput"][k], "per_s"), num(x["throughput"], k.c_str()),
                floor);
  }
  for (int level : kInFlightLevels) {
    std::string k = std::to_string(level);
    if (!x.contains("backend_cpu_per_request")) break;
    std::printf("  %2d in flight, CPU/request    %9.2f us %9.2f us %11.2fx   %6.1f us\n", level,
                num(v["throughput"][k], "backend_cpu_us_per_request"),
                num(p["throughput"][k], "backend_cpu_us_per_request"), num(x["backend_cpu_per_request"], k.c_str()),
                floor);
  }
  for (int level : kInFlightLevels) {
    std::string k = std::to_string(level);
    std::printf("  %2d in flight, wake-ups/req.  %12.2f %12.2f %12s   %6.1f us\n", level,
                num(v["throughput"][k], "backend_wakeups_per_request"),
                num(p["throughput"][k], "backend_wakeups_per_request"), "", floor);
  }
}

void print_hil(const json& h) {
  const json& s = h["stimulus_1khz_clock_edge_error"];
  const json& t = h["timer_floor_lateness"];
  std::printf("  %-30s p50 %7.1f us            p99 %7.1f us  p99.9 %7.1f us\n", "floor: bare timerfd lateness",
              num(t, "p50_us"), num(t, "p99_us"), num(t, "p999_us"));
  std::printf("  %-30s p50 %7.1f us (%4.2fx)  p99 %7.1f us (%4.2fx)  p99.9 %7.1f us  (%d edges)\n",
              "1 kHz clock: edge - schedule", num(s, "p50_us"), num(s, "p50_us") / num(t, "p50_us"), num(s, "p99_us"),
              num(s, "p99_us") / num(t, "p99_us"), num(s, "p999_us"), s.value("edges", 0));
  print_latency("wire: SET_VALUE -> eventq", h["wire"]["set_value_to_eventq"]);
}

void print_memory(const json& m) {
  std::printf("memory and scale\n");
  for (const char* k : {"1", "8", "64", "256"})
    std::printf(
        "  %3s device(s) of 8 lines: RSS %6ld KiB (shared libraries included), PSS %6ld KiB, private %6ld KiB\n", k,
        m["rss_kib_devices_of_8_lines"][k].get<long>(), m["pss_kib_devices_of_8_lines"][k].get<long>(),
        m["private_kib_devices_of_8_lines"][k].get<long>());
  std::printf("  per device (64 -> 256)          %8.1f KiB\n", num(m, "kib_per_device"));
  std::printf("  per device (1 -> 64)            %8.1f KiB\n", num(m, "kib_per_device_1_to_64"));
  for (const char* k : {"8", "4096", "65535"})
    std::printf("  device of %5s lines: probe %6.2f s, RSS %8ld KiB\n", k, num(m["lines"][k], "probe_seconds"),
                m["lines"][k]["rss_kib"].get<long>());
  std::printf("  per line (4096 -> 65535)        %8.1f bytes\n", num(m, "bytes_per_line"));
  std::printf("  idle CPU over %d s               %8.3f s\n", m["idle_seconds"].get<int>(), num(m, "idle_cpu_seconds"));
}

}  // namespace

void print_report(const json& report) {
  if (report.contains("requests_used"))
    std::printf("requests used: %s\n", report["requests_used"].get<std::string>().c_str());
  if (report.contains("backend_policy"))
    std::printf("backends run under %s\n", report["backend_policy"].get<std::string>().c_str());
  for (const char* placement : {"unpinned", "one_cpu", "cpu_each"}) {
    if (!report.contains(placement)) continue;
    const json& r = report[placement];
    std::printf("%s (%s)\n", placement, r.value("about", "").c_str());
    print_floor(r["floor"]);
    if (r.contains("backend")) print_backend(r["backend"]);
    if (r.contains("vgpio")) {
      std::printf(" vgpio\n");
      print_backend(r["vgpio"]);
    }
    if (r.contains("peer")) {
      std::printf(" peer: %s\n", report.value("peer_command", "").c_str());
      print_backend(r["peer"]);
      print_comparison(r);
    }
    if (r.contains("hil")) print_hil(r["hil"]);
  }
  if (report.contains("memory_and_scale")) print_memory(report["memory_and_scale"]);
}

}  // namespace vgpio::bench
