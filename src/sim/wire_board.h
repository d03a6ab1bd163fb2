// Every wire of the daemon, on its main thread: checks a wire before it is
// plugged (lines exist, the target is a simulated input with no other driver,
// no cycle) and plugs and unplugs both ends on their devices' loops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "gpio/gpio_device.h"
#include "sim/device_sim.h"
#include "sim/wire.h"

namespace vgpio::sim {

struct SimDevice {
  gpio::GpioDevice* device;
  EventLoop* loop;
  DeviceSim* sim;
};

class WireBoard {
 public:
  WireBoard() = default;
  ~WireBoard();
  WireBoard(const WireBoard&) = delete;
  WireBoard& operator=(const WireBoard&) = delete;

  void add_device(SimDevice device);
  // Unplugs every wire that touches the device and forgets it, while its
  // loop still runs; returns the wires it unplugged.
  std::vector<WireSpec> remove_device(const gpio::GpioDevice& device);

  // `from_config` wires are the config file's: a reload may take them away.
  Result<void> connect(WireSpec spec, bool from_config = false);
  Result<void> disconnect(const std::string& from, const std::string& to);
  struct Entry {
    WireSpec spec;
    bool from_config;
  };
  std::vector<Entry> list() const;
  // Makes the config's wires those of `specs`: unplugs config wires no longer
  // there, plugs the missing ones. Returns what could not be plugged.
  std::vector<Error> apply_config(const std::vector<WireSpec>& specs);

 private:
  struct End {
    SimDevice device;
    size_t line;
    bool operator==(const End& o) const { return device.device == o.device.device && line == o.line; }
  };
  struct Plugged {
    WireSpec spec;
    std::shared_ptr<Wire> wire;
    End from, to;
    bool from_config;
  };
  Result<End> resolve(const std::string& device, const std::string& line) const;
  bool reaches(const End& start, const End& goal) const;
  void unplug(Plugged& p);
  bool same_wire(const Plugged& p, const WireSpec& spec) const;

  std::vector<SimDevice> devices_;
  std::vector<Plugged> wires_;
};

}  // namespace vgpio::sim
