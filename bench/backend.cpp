#include "backend.h"

#include <algorithm>

#include "base/process_stats.h"
#include "base/strings.h"
#include "driver/gpio_driver.h"
#include "measure.h"

namespace vgpio::bench {

using namespace gpio;
using nlohmann::json;

namespace {

Result<void> make_outputs(driver::GpioDriver& d, uint16_t lines) {
  for (uint16_t i = 0; i < lines; ++i) {
    for (auto [type, value] : {std::pair{kSetValue, 0u}, std::pair{kSetDirection, uint32_t(kDirectionOut)}}) {
      auto r = TRY(d.request(type, i, value));
      if (r.status != kStatusOk)
        return Error(
            strfmt("the backend answered ERR to %s of line %u; it does not follow virtio-gpio", message_name(type), i));
    }
  }
  return ok();
}

Result<json> measure_latency(driver::GpioDriver& d, const BackendOptions& o) {
  json out;
  for (auto [name, type] : {std::pair{"get_value", kGetValue}, std::pair{"set_value", kSetValue}}) {
    std::vector<double> s;
    s.reserve(o.samples);
    for (int i = 0; i < o.samples; ++i) {
      auto t0 = Clock::now();
      auto r = TRY(d.request(type, 1, type == kSetValue ? i & 1 : 0));
      s.push_back(since_ns(t0));
      if (r.status != kStatusOk)
        return Error(strfmt("the backend answered ERR to %s of an output", message_name(type)));
    }
    out[name] = percentiles_json(percentiles(s), o.floor_p50_us);
    out[name]["cdf"] = cdf_json(s);  // percentiles() left it sorted
  }
  return out;
}

Result<json> measure_throughput(driver::GpioDriver& d, uint16_t lines, const BackendOptions& o) {
  json out;
  std::vector<driver::GpioDriver::Ticket> tickets;
  for (int in_flight : kInFlightLevels) {
    tickets.resize(in_flight);
    long done = 0;
    double cpu0 = o.pid > 0 ? cpu_seconds(o.pid) : 0;
    long sleeps0 = o.pid > 0 ? voluntary_switches(o.pid) : 0;
    auto t0 = Clock::now();
    while (since_ns(t0) < o.seconds_per_level * 1e9) {
      for (int i = 0; i < in_flight; ++i) tickets[i] = TRY(d.submit(kGetValue, static_cast<uint16_t>(i % lines)));
      for (auto t : tickets)
        if (TRY(d.wait(t)).status != kStatusOk) return Error("the backend answered ERR to GET_VALUE of an output");
      done += in_flight;
    }
    double seconds = since_ns(t0) / 1e9;
    json level = {{"per_s", done / seconds}};
    if (o.pid > 0) {
      level["backend_cpu_us_per_request"] = (cpu_seconds(o.pid) - cpu0) * 1e6 / done;
      level["backend_wakeups_per_request"] = double(voluntary_switches(o.pid) - sleeps0) / done;
    }
    out[std::to_string(in_flight)] = level;
  }
  return out;
}

}  // namespace

Result<json> measure_backend(const std::string& socket, const BackendOptions& o) {
  driver::GpioDriver::Options options;
  options.queue_size = 256;  // room for 64 requests of two descriptors
  auto d = TRY(driver::GpioDriver::connect(socket, options));
  uint16_t lines = std::min<uint16_t>(d->config().ngpio, 64);
  TRY(make_outputs(*d, lines));
  json out = {{"requests_used", kRequestsUsed}, {"lines", lines}};
  out["latency"] = TRY(measure_latency(*d, o));
  out["throughput"] = TRY(measure_throughput(*d, lines, o));
  return out;
}

}  // namespace vgpio::bench
