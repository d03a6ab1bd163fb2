#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "driver/gpio_driver.h"

namespace vgpio::app {

int probe(const ProbeOptions& o) {
  driver::GpioDriver::Options options;
  options.style = o.qemu72 ? driver::GpioDriver::Style::Qemu72 : driver::GpioDriver::Style::Qemu10;
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "vgpio probe: %s\n", e.message().c_str());
    return 1;
  };
  auto d = driver::GpioDriver::connect(o.socket, options);
  if (!d) return fail(d.error());
  auto& drv = *d.value();
  auto names = drv.line_names();
  if (!names) return fail(names.error());
  nlohmann::json lines = nlohmann::json::array();
  for (uint16_t i = 0; i < drv.config().ngpio; ++i) {
    auto r = drv.request(gpio::kGetDirection, i);
    if (!r) return fail(r.error());
    const char* dir = r.value().status != gpio::kStatusOk ? "error" : gpio::direction_name(r.value().value);
    lines.push_back({{"line", i}, {"name", names.value()[i]}, {"direction", dir}});
  }
  if (o.json) {
    nlohmann::json out = {{"ngpio", drv.config().ngpio},
                          {"gpio_names_size", drv.config().names_size},
                          {"interrupts", drv.has_irq()},
                          {"lines", lines}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%s: virtio-gpio, %u lines, names block %u bytes, interrupts %s\n", o.socket.c_str(), drv.config().ngpio,
              drv.config().names_size, drv.has_irq() ? "yes" : "no");
  for (const auto& l : lines)
    std::printf("  line %5u  %-24s %s\n", l["line"].get<unsigned>(), l["name"].get<std::string>().c_str(),
                l["direction"].get<std::string>().c_str());
  return 0;
}

}  // namespace vgpio::app
