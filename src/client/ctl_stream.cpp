#include "client/ctl_stream.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "base/duration.h"
#include "client/control_client.h"
#include "client/stream_recorder.h"

namespace vgpio::client {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
volatile sig_atomic_t g_stop = 0;
}  // namespace

void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait for the next event returns
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop != 0; }

int fail(const char* cmd, const std::string& message, int code) {
  std::fprintf(stderr, "vgpio ctl %s: %s\n", cmd, message.c_str());
  return code;
}

namespace {

struct WatchOptions {
  std::string device;
};
struct WaitOptions {
  std::string device, line;
  int value = 0;
  std::string timeout = "5s";
};
struct RecordOptions {
  std::string device;
  std::vector<std::string> lines;
  std::string vcd, duration, resolution = "auto";
};

void print_event(const json& e, bool raw) {
  if (raw) {
    std::printf("%s\n", e.dump().c_str());
  } else {
    std::printf("%s %s %s(%s) %s=%s\n", e.value("time", "").c_str(), e.value("device", "").c_str(),
                e["line"].dump().c_str(), e.value("name", "").c_str(), e.value("field", "").c_str(),
                e["value"].is_string() ? e["value"].get<std::string>().c_str() : e["value"].dump().c_str());
  }
  std::fflush(stdout);
}

// Starts watching (with the state at that moment) on a new connection.
Result<std::pair<client::ControlClient, json>> watch(const CtlOptions& common, const std::string& device) {
  auto client = TRY(client::ControlClient::connect(common.control));
  json request = {{"cmd", "watch"}, {"snapshot", true}};
  if (!device.empty()) request["device"] = device;
  json answer = TRY(client.call(request));
  return std::pair{std::move(client), std::move(answer)};
}

bool same_line(const json& line, const std::string& key) {
  return line.value("name", "") == key || line["line"].dump() == key;
}

int run_watch(const CtlOptions& common, const WatchOptions& o) {
  auto client = client::ControlClient::connect(common.control);
  if (!client) return fail("watch", client.error().message(), 1);
  json request = {{"cmd", "watch"}};
  if (!o.device.empty()) request["device"] = o.device;
  if (auto r = client.value().call(request); !r) return fail("watch", r.error().message(), 1);
  for (;;) {
    auto e = client.value().next(std::chrono::milliseconds(-1));
    if (!e) return fail("watch", e.error().message(), 1);
    if (e.value()) print_event(*e.value(), common.json);
  }
}

// Exit 0 once the line has the value, 1 on timeout, 2 on any error. On a
// device on its guest's time, the timeout is guest time: the daemon says
// when it has passed (a "time" event), however slowly the guest runs.
int run_wait(const CtlOptions& common, const WaitOptions& o) {
  auto timeout = parse_duration(o.timeout);
  if (!timeout) return fail("wait", "--timeout: " + timeout.error().message(), 2);
  auto deadline = Clock::now() + timeout.value();
  auto watched = watch(common, o.device);
  if (!watched) return fail("wait", watched.error().message(), 2);
  auto& [client, snapshot] = watched.value();
  const json& device = snapshot["devices"][0];
  const json* line = nullptr;
  for (const auto& l : device["lines"])
    if (same_line(l, o.line)) line = &l;
  if (!line) return fail("wait", "device " + o.device + " has no line \"" + o.line + "\"", 2);
  size_t index = (*line)["line"].get<size_t>();
  json last = (*line)["value"];
  if (last == o.value) return 0;
  bool guest_time = device.value("clock", json::object()).value("follows", "") == "guest";
  if (guest_time) {
    if (device["clock"].value("plugin", "") != "connected")
      std::fprintf(stderr,
                   "vgpio ctl wait: %s's guest is not running (no vgpio-clock plugin connected); its time "
                   "stands still until one connects\n",
                   o.device.c_str());
    json request = {{"cmd", "watch"}, {"device", device["name"]}, {"for", o.timeout}};
    if (auto sent = client.send(request); !sent) return fail("wait", sent.error().message(), 2);
  }
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!guest_time && left.count() <= 0) break;
    auto e = client.next(guest_time ? std::chrono::milliseconds(-1) : left);
    if (!e) return fail("wait", e.error().message(), 2);
    if (!e.value()) {
      if (guest_time && stop_requested()) return 2;
      continue;
    }
    const json& ev = *e.value();
    if (!ev.value("ok", true)) return fail("wait", ev.value("error", "the guest-time wait was refused"), 2);
    if (ev.value("event", "") == "time") {
      if (ev.value("reached", false)) break;
      return fail("wait", "the guest left (its vgpio-clock plugin disconnected) before " + o.timeout + " of its time",
                  2);
    }
    if (ev.value("field", "") != "value" || ev["line"] != index) continue;
    last = ev["value"];
    if (last == o.value) return 0;
  }
  return fail("wait",
              "timed out after " + o.timeout + (guest_time ? " of guest time" : "") + ": " + o.device + " " + o.line +
                  " is " + (last.is_null() ? "unreadable" : last.dump()) + ", not " + std::to_string(o.value),
              1);
}

int run_record(const CtlOptions& common, const RecordOptions& o) {
  std::optional<Clock::duration> duration;
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration);
    if (!d) return fail("record", "--duration: " + d.error().message(), 2);
    duration = d.value();
  }
  auto scale = Timescale::parse(o.resolution);
  if (!scale) return fail("record", "--resolution: " + scale.error().message(), 2);
  if (!o.lines.empty() && o.device.empty()) return fail("record", "lines need a DEVICE before them", 2);
  std::ofstream out(o.vcd);
  if (!out) return fail("record", "cannot write " + o.vcd + ": " + std::strerror(errno), 2);
  stop_on_signals();
  auto watched = watch(common, o.device);
  if (!watched) return fail("record", watched.error().message(), 2);
  auto& [client, snapshot] = watched.value();
  auto started = Clock::now();

  client::StreamRecorder recorder(out, scale.value());
  size_t lines = recorder.add_lines(snapshot, [&](const json& l) {
    bool wanted = o.lines.empty();
    for (const auto& key : o.lines) wanted |= same_line(l, key);
    return wanted;
  });
  if (lines == 0) return fail("record", "none of the lines named is on device " + o.device, 2);
  auto begun = recorder.begin(
      "vgpio ctl record; five signals per line: the level (z: not driven), .out "
      "(1 out, 0 in, z none) and the interrupt type as .irq_rising .irq_falling .irq_level");
  if (!begun) return fail("record", begun.error().message(), 2);
  std::fprintf(stderr, "vgpio ctl record: recording %zu lines into %s%s\n", lines, o.vcd.c_str(),
               duration ? "" : " until Ctrl-C");
  size_t changes = 0;
  int status = 0;
  while (!stop_requested()) {
    auto wait = std::chrono::milliseconds(-1);
    if (duration) {
      wait = std::chrono::duration_cast<std::chrono::milliseconds>(started + *duration - Clock::now());
      if (wait.count() <= 0) break;
    }
    auto e = client.next(wait);
    if (!e) {
      status = fail("record", e.error().message() + "; the file ends here", 1);
      break;
    }
    if (!e.value()) continue;  // a timeout or a signal: the loop decides
    if (!recorder.apply(*e.value())) continue;
    ++changes;
  }
  // Ctrl-C keeps what the daemon had already sent: the changes a harness made
  // just before it stopped the recording are in the file.
  while (status == 0) {
    auto e = client.next(std::chrono::milliseconds(0));
    if (!e || !e.value()) break;
    if (recorder.apply(*e.value())) ++changes;
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started);
  auto written = recorder.finish(uint64_t(elapsed.count()));
  if (!written) return fail("record", written.error().message() + ": " + o.vcd + " is not complete", 1);
  const auto& w = written.value();
  std::fprintf(stderr, "vgpio ctl record: %zu changes on %zu lines over %s written to %s, in units of %s of %s time\n",
               changes, lines, format_duration(elapsed).c_str(), o.vcd.c_str(), timescale_text(w.unit_ns).c_str(),
               recorder.clock());
  if (w.inexact > 0)
    std::fprintf(stderr, "vgpio ctl record: %zu changes rounded to the nearest %s (a finer --resolution keeps them)\n",
                 w.inexact, timescale_text(w.unit_ns).c_str());
  return status;
}

}  // namespace

void add_stream_commands(CLI::App& ctl, CtlOptions& common) {
  auto w = std::make_shared<WatchOptions>();
  CLI::App* watch = ctl.add_subcommand("watch", "print every change as it happens (of one device, or all)");
  watch->add_option("device", w->device, "only this device");
  watch->callback([&common, w] { common.run = [&common, w] { return run_watch(common, *w); }; });

  auto wt = std::make_shared<WaitOptions>();
  CLI::App* wait =
      ctl.add_subcommand("wait", "wait until a line has a value: exit 0 when it has, 1 on timeout, 2 on an error");
  wait->add_option("device", wt->device, "device name")->required();
  wait->add_option("line", wt->line, "line name or number")->required();
  wait->add_option("value", wt->value, "0 or 1")->required()->check(CLI::Range(0, 1));
  wait->add_option("--timeout", wt->timeout, "give up after this long")->capture_default_str();
  wait->callback([&common, wt] { common.run = [&common, wt] { return run_wait(common, *wt); }; });

  auto r = std::make_shared<RecordOptions>();
  CLI::App* record =
      ctl.add_subcommand("record",
                         "record lines into a VCD file (sigrok, PulseView, GTKWave) for --duration, or until Ctrl-C");
  record->add_option("device", r->device, "only this device (default: all)");
  record->add_option("lines", r->lines, "only these lines of it (names or numbers)");
  record->add_option("--vcd", r->vcd, "the file to write")->required();
  record->add_option("--duration", r->duration, "stop after this long, e.g. 10s");
  record
      ->add_option("--resolution", r->resolution,
                   "the file's time unit: 1ns ... 1s, or auto (the coarsest that keeps every change exact; "
                   "host-clock times to 1us)")
      ->capture_default_str();
  record->callback([&common, r] { common.run = [&common, r] { return run_record(common, *r); }; });
}

}  // namespace vgpio::client
