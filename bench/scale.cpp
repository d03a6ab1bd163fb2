#include "scale.h"

#include <fstream>
#include <thread>

#include "base/process_stats.h"
#include "driver/gpio_driver.h"
#include "measure.h"

namespace vgpio::bench {

using namespace gpio;
using nlohmann::json;

namespace {

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

}  // namespace

Result<json> measure_memory_and_scale(const std::string& vgpio, const std::string& dir, bool quick) {
  json out;
  for (int devices : {1, 8, 64, 256}) {
    auto cfg = write_config(dir, devices, 8);
    auto p = TRY(DaemonProcess::start(vgpio, {"serve", "--config", cfg}, -1, dir + "/ctl.sock"));
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
    auto p = TRY(DaemonProcess::start(vgpio, {"serve", "--socket", dir + "/idle.sock"}, -1, dir + "/idle.sock.ctl"));
    auto d = TRY(driver::GpioDriver::connect(dir + "/idle.sock"));
    double before = cpu_seconds(p.pid());
    std::this_thread::sleep_for(std::chrono::seconds(quick ? 2 : 10));
    out["idle_cpu_seconds"] = cpu_seconds(p.pid()) - before;
    out["idle_seconds"] = quick ? 2 : 10;
  }
  // The largest device the protocol allows.
  for (int lines : {8, 4096, 65535}) {
    auto p = TRY(DaemonProcess::start(vgpio, {"serve", "--sim", std::to_string(lines), "--socket", dir + "/big.sock"},
                                      -1, dir + "/big.sock.ctl"));
    auto t0 = Clock::now();
    auto d = TRY(driver::GpioDriver::connect(dir + "/big.sock"));
    auto names = TRY(d->line_names());
    for (uint16_t i = 0; i < d->config().ngpio; ++i) TRY(d->request(kGetDirection, i));
    double probe_s = std::chrono::duration<double>(Clock::now() - t0).count();
    auto last = TRY(d->request(kSetDirection, static_cast<uint16_t>(lines - 1), kDirectionOut));
    if (last.status != kStatusOk || names.back() != "sim" + std::to_string(lines - 1))
      return Error("the last line does not work");
    out["lines"][std::to_string(lines)] = {{"probe_seconds", probe_s}, {"rss_kib", rss_kib(p.pid())}};
  }
  auto& l = out["lines"];
  out["bytes_per_line"] =
      (l["65535"]["rss_kib"].get<double>() - l["4096"]["rss_kib"].get<double>()) * 1024 / (65535 - 4096);
  return out;
}

}  // namespace vgpio::bench
