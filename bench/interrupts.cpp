#include "interrupts.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/process_stats.h"
#include "base/unique_fd.h"
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

// Makes the next edge on kLine and says so; answer() waits for what the edge's
// maker said back (a `ctl set` is answered after the interrupt it makes).
class EdgeMaker {
 public:
  EdgeMaker(client::ControlClient& ctl, std::string device, std::string pull_file)
      : ctl_(ctl), device_(std::move(device)), pull_file_(std::move(pull_file)) {}
  const char* how() const { return pull_file_.empty() ? "ctl set" : "gpio-sim pull"; }
  // The next edge goes the other way from `level` (a pull may be left up by an earlier run).
  void start_from(bool level) { level_ = level ? 1 : 0; }

  Result<void> make() {
    ++level_;
    if (pull_file_.empty())
      return ctl_.send({{"cmd", "set"}, {"device", device_}, {"line", kLine}, {"value", level_ & 1}});
    // Opened once: a path lookup per edge would be timed with it.
    if (!pull_.valid()) pull_ = UniqueFd(::open(pull_file_.c_str(), O_WRONLY | O_CLOEXEC));
    std::string_view pull = level_ & 1 ? "pull-up" : "pull-down";
    if (!pull_.valid() || ::pwrite(pull_.get(), pull.data(), pull.size(), 0) != ssize_t(pull.size()))
      return Error::from_errno(errno, "writing " + std::string(pull) + " to " + pull_file_);
    return ok();
  }
  Result<void> answer() {
    if (!pull_file_.empty()) return ok();
    auto reply = TRY(ctl_.next(std::chrono::seconds(5)));
    if (!reply || !reply->value("ok", false)) return Error("ctl set failed");
    return ok();
  }

 private:
  client::ControlClient& ctl_;
  std::string device_, pull_file_;
  UniqueFd pull_;
  long level_ = 0;
};

// For a second: unmask, make an edge, take the interrupt. The rate, and with
// the daemon's pid its CPU per interrupt: all threads (the control thread's
// JSON included) and the device thread alone.
Result<json> sustained(driver::GpioDriver& d, EdgeMaker& edges, pid_t pid) {
  std::vector<pid_t> tids = pid > 0 ? threads(pid) : std::vector<pid_t>{};
  if (pid > 0 && tids.size() != 2) return Error("expected the daemon to have two threads: control and one device");
  auto cpu = [&] { return pid > 0 ? std::pair{cpu_seconds(pid), cpu_seconds(pid, tids[1])} : std::pair{0.0, 0.0}; };
  auto [all0, device0] = cpu();
  long done = 0;
  auto t0 = Clock::now();
  while (since_ns(t0) < 1e9) {
    TRY(d.unmask(kLine));
    TRY(edges.make());
    TRY(edges.answer());
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
                                double floor_p50_us, const std::string& pull_file) {
  auto d = TRY(driver::GpioDriver::connect(socket));
  if (!d->has_irq()) return Error("the backend offers no interrupts");
  auto ctl = TRY(client::ControlClient::connect(ctl_path));
  auto watch = TRY(client::ControlClient::connect(ctl_path));
  json list = TRY(ctl.call({{"cmd", "list"}}));
  std::string device = list["devices"][0]["name"];
  EdgeMaker edges(ctl, device, pull_file);
  TRY(watch.call({{"cmd", "watch"}, {"device", device}}));
  TRY(d->request(kSetDirection, kLine, kDirectionIn));
  TRY(d->request(kSetIrqType, kLine, kIrqEdgeBoth));
  edges.start_from(TRY(d->request(kGetValue, kLine)).value == 1);
  std::vector<double> edge_to_eventq, made_to_eventq;
  for (int i = 0; i < samples; ++i) {
    TRY(d->unmask(kLine));
    auto t0 = Clock::now();
    // Wait for the interrupt first; the control reply can come after.
    TRY(edges.make());
    auto e = TRY(d->wait_event(std::chrono::seconds(5)));
    int64_t seen_ns = epoch_now_ns();
    if (!e || e->status != kIrqStatusValid) return Error("interrupt lost");
    made_to_eventq.push_back(since_ns(t0));
    TRY(edges.answer());
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
              {"made_by", edges.how()},
              {"via_ctl_latency", percentiles_json(percentiles(made_to_eventq), floor_p50_us)}};
  watch = TRY(client::ControlClient::connect(ctl_path));  // nobody watches from here on
  out.update(TRY(sustained(*d, edges, pid)));
  return out;
}

}  // namespace vgpio::bench
