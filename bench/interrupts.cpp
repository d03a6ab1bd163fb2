#include "interrupts.h"

#include "base/process_stats.h"
#include "client/control_client.h"
#include "driver/gpio_driver.h"
#include "measure.h"

namespace vgpio::bench {

using namespace gpio;
using nlohmann::json;

namespace {

int64_t epoch_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr uint16_t kLine = 2;

// For a second: unmask, `ctl set` the line to the other level, take the
// interrupt. The rate, and with the daemon's pid its CPU per interrupt: all
// threads (the control thread's JSON included) and the device thread alone.
Result<json> sustained(driver::GpioDriver& d, client::ControlClient& ctl, const std::string& device, pid_t pid,
                       long& level) {
  std::vector<pid_t> tids = pid > 0 ? threads(pid) : std::vector<pid_t>{};
  if (pid > 0 && tids.size() != 2) return Error("expected the daemon to have two threads: control and one device");
  auto cpu = [&] { return pid > 0 ? std::pair{cpu_seconds(pid), cpu_seconds(pid, tids[1])} : std::pair{0.0, 0.0}; };
  auto [all0, device0] = cpu();
  long done = 0;
  auto t0 = Clock::now();
  while (since_ns(t0) < 1e9) {
    TRY(d.unmask(kLine));
    TRY(ctl.call({{"cmd", "set"}, {"device", device}, {"line", kLine}, {"value", ++level & 1}}));
    auto e = TRY(d.wait_event(std::chrono::seconds(5)));
    if (!e || e->status != kIrqStatusValid) return Error("interrupt lost");
    ++done;
  }
  json out = {{"sustained_per_s", done / (since_ns(t0) / 1e9)}};
  if (pid > 0) {
    auto [all1, device1] = cpu();
    out["daemon_cpu_us_per_interrupt"] = (all1 - all0) * 1e6 / done;
    out["device_thread_cpu_us_per_interrupt"] = (device1 - device0) * 1e6 / done;
  }
  return out;
}

}  // namespace

Result<json> measure_interrupts(const std::string& socket, const std::string& ctl_path, pid_t pid, int samples,
                                double floor_p50_us) {
  auto d = TRY(driver::GpioDriver::connect(socket));
  if (!d->has_irq()) return Error("the backend offers no interrupts");
  auto ctl = TRY(client::ControlClient::connect(ctl_path));
  auto watch = TRY(client::ControlClient::connect(ctl_path));
  json list = TRY(ctl.call({{"cmd", "list"}}));
  std::string device = list["devices"][0]["name"];
  TRY(watch.call({{"cmd", "watch"}, {"device", device}}));
  TRY(d->request(kSetDirection, kLine, kDirectionIn));
  TRY(d->request(kSetIrqType, kLine, kIrqEdgeBoth));
  std::vector<double> edge_to_eventq, ctl_to_eventq;
  long level = 0;
  for (int i = 0; i < samples; ++i) {
    TRY(d->unmask(kLine));
    auto t0 = Clock::now();
    // Wait for the interrupt first; the control reply can come after.
    TRY(ctl.send({{"cmd", "set"}, {"device", device}, {"line", kLine}, {"value", ++level & 1}}));
    auto e = TRY(d->wait_event(std::chrono::seconds(5)));
    int64_t seen_ns = epoch_now_ns();
    if (!e || e->status != kIrqStatusValid) return Error("interrupt lost");
    ctl_to_eventq.push_back(since_ns(t0));
    auto reply = TRY(ctl.next(std::chrono::seconds(5)));
    if (!reply || !reply->value("ok", false)) return Error("ctl set failed");
    for (;;) {  // the value change of this edge, stamped by the device
      auto ev = TRY(watch.next(std::chrono::seconds(5)));
      if (!ev) return Error("no watch event for the edge");
      if ((*ev)["field"] == "value" && (*ev)["line"] == kLine) {
        edge_to_eventq.push_back(double(seen_ns - (*ev)["ns"].get<int64_t>()));
        break;
      }
    }
  }
  json out = {{"latency", percentiles_json(percentiles(edge_to_eventq), floor_p50_us)},
              {"via_ctl_latency", percentiles_json(percentiles(ctl_to_eventq), floor_p50_us)}};
  watch = TRY(client::ControlClient::connect(ctl_path));  // nobody watches from here on
  out.update(TRY(sustained(*d, ctl, device, pid, level)));
  return out;
}

}  // namespace vgpio::bench
