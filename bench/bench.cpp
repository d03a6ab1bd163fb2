// vgpio-bench: how vgpio feels to its users, against the least it could cost
// and against another backend.
//
//   vgpio-bench --vgpio PATH [--peer 'CMD {socket}'] [--runs N] [--json] [--quick] [--compare-only]
//       starts vgpio (and the peer) under each CPU placement and measures all
//   vgpio-bench --socket PATH [--ctl PATH [--pull-file PATH]] [--json]
//       measures any vhost-user-gpio backend already running (interrupts of
//       a host line with --pull-file: bench/host_line_interrupts.py)
//
// Every latency is printed as microseconds and as a ratio to the floor: an
// eventfd ping-pong between two processes under the same CPU placement.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backend.h"
#include "compare.h"
#include "hil.h"
#include "interrupts.h"
#include "measure.h"
#include "report.h"
#include "scale.h"

using namespace vgpio;
using namespace vgpio::bench;
using nlohmann::json;

namespace {

struct Options {
  std::string vgpio, peer, socket, ctl, pull_file;
  int runs = 0;  // 0: 3 with a peer, else 1
  bool json = false, quick = false, compare_only = false, batch = false;
};

struct Placement {
  const char* name;
  int daemon_cpu;  // the bench itself is on CPU 0
  const char* about;
};
constexpr Placement kPlacements[] = {{"one_cpu", 0, "bench and backend both on CPU 0"},
                                     {"cpu_each", 1, "bench on CPU 0, backend on CPU 1"}};

json floor_json(std::vector<double> samples) {
  json f = percentiles_json(percentiles(samples));
  f["cdf"] = cdf_json(samples);
  return f;
}

// The peer's command with {socket} replaced.
std::string peer_command(const std::string& command, const std::string& socket) {
  std::string c = command;
  for (size_t at; (at = c.find("{socket}")) != std::string::npos;) c.replace(at, 8, socket);
  return c;
}

// vgpio with 64 simulated lines on dir/b.sock, under the placement.
Result<DaemonProcess> start_vgpio(const Options& o, const std::string& dir, const Placement& pl) {
  return DaemonProcess::start(o.vgpio, {"serve", "--sim", "64", "--socket", dir + "/b.sock"}, {pl.daemon_cpu, o.batch},
                              dir + "/b.sock.ctl");
}

// One run of vgpio under a placement: the backend figures and its interrupts.
Result<json> run_vgpio(const Options& o, const std::string& dir, const Placement& pl, BackendOptions bo) {
  auto p = TRY(start_vgpio(o, dir, pl));
  bo.pid = p.pid();
  json r = TRY(measure_backend(dir + "/b.sock", bo));
  r["interrupts"] =
      TRY(measure_interrupts(dir + "/b.sock", dir + "/b.sock.ctl", p.pid(), bo.samples / 4, bo.floor_p50_us));
  return r;
}

// One run of the peer: it appends an index to its socket name (…sock0).
Result<json> run_peer(const Options& o, const std::string& dir, const Placement& pl, BackendOptions bo) {
  std::string socket = dir + "/peer.sock";
  auto p =
      TRY(DaemonProcess::start_command(peer_command(o.peer, socket), {pl.daemon_cpu, o.batch}, {socket + "0", socket}));
  bo.pid = p.pid();
  return measure_backend(p.socket(), bo);
}

Result<json> measure_placement(const Options& o, const std::string& dir, const Placement& pl, int samples) {
  json out = {{"about", pl.about}};
  out["floor"] = floor_json(eventfd_ping_pong(samples, 0, pl.daemon_cpu));
  BackendOptions bo{samples, o.quick ? 0.2 : 1.0, -1, out["floor"]["p50_us"].get<double>()};
  int runs = o.runs > 0 ? o.runs : o.peer.empty() ? 1 : 3;
  std::vector<json> vgpio_runs, peer_runs;
  TRY(pin_self(0));
  for (int i = 0; i < runs; ++i) {  // alternating, so a slow spell of the machine hits both
    vgpio_runs.push_back(TRY(run_vgpio(o, dir, pl, bo)));
    if (!o.peer.empty()) peer_runs.push_back(TRY(run_peer(o, dir, pl, bo)));
  }
  out["runs"] = runs;
  out["vgpio"] = median_of(vgpio_runs);
  out["all_runs"]["vgpio"] = vgpio_runs;
  if (!o.peer.empty()) {
    out["peer"] = median_of(peer_runs);
    out["all_runs"]["peer"] = peer_runs;
    out["ratios"] = ratios(out["vgpio"], out["peer"], out["floor"]["p50_us"].get<double>());
  }
  if (!o.compare_only) {
    auto p = TRY(start_vgpio(o, dir, pl));
    out["hil"]["stimulus_1khz_clock_edge_error"] =
        TRY(measure_stimulus_timing(dir + "/b.sock", dir + "/b.sock.ctl", o.quick ? 400 : 4000));
    out["hil"]["timer_floor_lateness"] = TRY(measure_timer_floor(o.quick ? 400 : 4000, pl.daemon_cpu));
    out["hil"]["wire"] = TRY(measure_wire_latency(o.vgpio, dir, pl.daemon_cpu, samples / 4, bo.floor_p50_us));
  }
  TRY(pin_self(-1));
  return out;
}

Result<json> measure_running(const Options& o, int samples) {
  json out = {{"about", "bench and backend unpinned"}};
  out["floor"] = floor_json(eventfd_ping_pong(samples, -1, -1));
  BackendOptions bo{samples, o.quick ? 0.2 : 1.0, -1, out["floor"]["p50_us"].get<double>()};
  out["backend"] = TRY(measure_backend(o.socket, bo));
  if (!o.ctl.empty())
    out["backend"]["interrupts"] =
        TRY(measure_interrupts(o.socket, o.ctl, -1, samples / 4, bo.floor_p50_us, o.pull_file));
  return out;
}

Result<json> measure_all(Options o) {
  int samples = o.quick ? 2000 : 20000;
  json report = {{"requests_used", kRequestsUsed}};
  if (!o.socket.empty()) {
    report["unpinned"] = TRY(measure_running(o, samples));
    return report;
  }
  char tmpl[] = "/tmp/vgpio-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  o.vgpio = std::filesystem::absolute(o.vgpio);
  if (!o.peer.empty()) report["peer_command"] = o.peer;
  report["backend_policy"] = o.batch ? "SCHED_BATCH" : "SCHED_OTHER";
  for (const auto& pl : kPlacements) {
    auto r = measure_placement(o, dir, pl, samples);
    if (!r) {
      std::filesystem::remove_all(dir);
      return r.release_error().with_context(pl.name);
    }
    report[pl.name] = r.release_value();
  }
  if (!o.compare_only) report["memory_and_scale"] = TRY(measure_memory_and_scale(o.vgpio, dir, o.quick));
  std::filesystem::remove_all(dir);
  return report;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"vgpio-bench: vgpio's latency, throughput, CPU and memory; beside another backend with --peer"};
  auto* vgpio = app.add_option("--vgpio", o.vgpio, "start this vgpio binary under each CPU placement");
  auto* socket = app.add_option("--socket", o.socket, "measure the vhost-user-gpio backend already on this socket");
  auto* ctl =
      app.add_option("--ctl", o.ctl, "with --socket: vgpio's control socket, for the interrupt figures")->needs(socket);
  app.add_option("--pull-file", o.pull_file,
                 "with --ctl: make the interrupts' edges by writing pull-up/pull-down here (the sysfs pull file of "
                 "the gpio-sim line that is the device's line 2), not with ctl set")
      ->needs(ctl);
  app.add_option("--peer", o.peer,
                 "with --vgpio: also start this backend command, {socket} replaced by its socket path, and compare")
      ->needs(vgpio);
  app.add_option("--runs", o.runs,
                 "alternating runs per placement, reported as medians (default 3 with --peer, else 1)")
      ->check(CLI::Range(1, 20));
  app.add_flag("--json", o.json, "print the whole report as JSON");
  app.add_flag("--quick", o.quick, "fewer samples and shorter runs");
  app.add_flag("--compare-only", o.compare_only, "skip the virtual-HIL, memory and scale figures");
  app.add_flag("--batch", o.batch, "run the backends under SCHED_BATCH (systemd's CPUSchedulingPolicy=batch)");
  vgpio->excludes(socket);
  CLI11_PARSE(app, argc, argv);
  if (o.vgpio.empty() && o.socket.empty()) {
    std::fprintf(stderr, "vgpio-bench: give either --vgpio (start vgpio) or --socket (a running backend)\n");
    return 2;
  }
  // rust-vmm backends log every request by default, which would be timed too.
  if (!o.peer.empty()) setenv("RUST_LOG", "error", 0);
  auto report = measure_all(o);
  if (!report) {
    std::fprintf(stderr, "vgpio-bench: %s\n", report.error().message().c_str());
    return 1;
  }
  if (o.json) std::printf("%s\n", report.value().dump(2).c_str());
  else print_report(report.value());
  return 0;
}
