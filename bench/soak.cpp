// vgpio-soak: pushes many requests and interrupts through the driver-side
// library into a daemon in this process, and prints memory as it goes.
// Memory must stay flat. A program that prints figures, not a timed test.
//
//   vgpio-soak [--requests N] [--interrupts N]     (defaults 1,000,000 and 100,000)
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "app/commands.h"
#include "base/log.h"
#include "base/process_stats.h"
#include "daemon/daemon.h"
#include "driver/gpio_driver.h"

using namespace vgpio;
using namespace vgpio::gpio;
using Clock = std::chrono::steady_clock;

namespace {
void report(const char* phase, long count, Clock::time_point start) {
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-22s %10ld in %7.2f s  %10.0f /s   RSS %6ld KiB\n", phase, count, s, count / s, rss_kib());
  std::fflush(stdout);
}

int fail(const Error& e) {
  std::fprintf(stderr, "vgpio-soak: %s\n", e.message().c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  long requests = 1000000, interrupts = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--requests")) requests = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--interrupts")) interrupts = std::atol(argv[i + 1]);
  }
  set_log_level(LogLevel::Warn);
  char tmpl[] = "/tmp/vgpio-soak-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  daemon::DaemonConfig config;
  daemon::DeviceConfig device;
  device.name = "soak";
  device.socket = dir + "/soak.sock";
  device.lines = app::simulated_lines(8, {}).release_value();
  config.devices.push_back(std::move(device));
  auto made = daemon::Daemon::create(std::move(config));
  if (!made) return fail(made.error());
  if (auto started = made.value()->start(); !started) return fail(started.error());
  auto d = driver::GpioDriver::connect(dir + "/soak.sock");
  if (!d) return fail(d.error());
  driver::GpioDriver& drv = *d.value();

  auto run_requests = [&](long n) -> Result<void> {
    // Eight in flight, one per line, as eight guest threads would.
    driver::GpioDriver::Ticket tickets[8];
    for (long i = 0; i < n; i += 8) {
      for (uint16_t l = 0; l < 8; ++l) tickets[l] = TRY(drv.submit(i & 8 ? kGetValue : kSetValue, l, (i >> 4) & 1));
      for (auto t : tickets)
        if (TRY(drv.wait(t)).status != kStatusOk) return Error("a request failed");
    }
    return ok();
  };
  for (uint16_t l = 0; l < 7; ++l)
    if (auto r = drv.request(kSetDirection, l, kDirectionOut); !r) return fail(r.error());
  std::printf("vgpio-soak: %ld requests, %ld interrupts, one device of 8 simulated lines\n", requests, interrupts);
  auto t0 = Clock::now();
  if (auto r = run_requests(10000); !r) return fail(r.error());
  report("warm-up requests", 10000, t0);
  long rss_start = rss_kib();

  t0 = Clock::now();
  if (auto r = run_requests(requests); !r) return fail(r.error());
  report("requests", requests, t0);

  if (auto r = drv.request(kSetIrqType, 7, kIrqEdgeBoth); !r || r.value().status != kStatusOk)
    return fail(Error("cannot enable the interrupt"));
  t0 = Clock::now();
  for (long i = 0; i < interrupts; ++i) {
    if (auto r = drv.unmask(7); !r) return fail(r.error());
    Result<void> driven;
    if (!made.value()->device_loop(0).run_sync([&] { driven = made.value()->device(0).drive(7, i % 2 == 0); }))
      return fail(Error("the device did not answer"));
    if (!driven) return fail(driven.error());
    auto e = drv.wait_event(std::chrono::seconds(10));
    if (!e || !e.value() || e.value()->status != kIrqStatusValid) return fail(Error("an interrupt was lost"));
  }
  report("interrupts", interrupts, t0);
  long rss_end = rss_kib();
  std::printf("RSS after warm-up %ld KiB, at the end %ld KiB: %+ld KiB\n", rss_start, rss_end, rss_end - rss_start);
  d.value().reset();
  made.value().reset();
  std::filesystem::remove_all(dir);
  return 0;
}
