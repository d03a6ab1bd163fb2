// What the control commands act on: the daemon's devices, its wires, its
// device maker, and the connections they came on. Each command of the table
// (commands.h) is one handler over it (handlers.h). Main loop only.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/peer.h"
#include "control/connections.h"
#include "gpio/gpio_device.h"
#include "sim/device_sim.h"
#include "sim/wire_board.h"

namespace vgpio::control {

struct ControlledDevice {
  gpio::GpioDevice* device;
  EventLoop* loop;
  std::string socket_path;
  sim::DeviceSim* sim = nullptr;  // its stimuli and wire ends
  bool created = false;           // made at run time by a control client
};

// Makes and removes devices at run time (the daemon does). A device lives as
// long as the control connection that made it, unless made to persist.
class DeviceMaker {
 public:
  virtual ~DeviceMaker() = default;
  // `owner` names the connection, `maker` who is at its other end; the
  // answer describes the device. An error's code gives its kind (EUSERS a
  // limit, EEXIST or EBUSY a name or line in use, EOPNOTSUPP not offered,
  // ENODEV no such device, EACCES not its maker); without one, create's is
  // a bad request and destroy's a conflict.
  virtual Result<nlohmann::json> create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) = 0;
  // Only its maker's user, root or the daemon's own user may destroy a device.
  virtual Result<void> destroy_device(const std::string& name, const Peer& by) = 0;
  // The connection `owner` closed: its devices go.
  virtual void owner_gone(uint64_t owner) = 0;
};

struct CommandContext {
  explicit CommandContext(EventLoop& main_loop) : loop(main_loop) {}

  EventLoop& loop;  // the main loop
  Connections* connections = nullptr;
  std::vector<ControlledDevice> devices;
  sim::WireBoard* wires = nullptr;                             // null: no wires
  DeviceMaker* maker = nullptr;                                // null: no devices made at run time
  std::function<nlohmann::json()> status;                      // what "status" answers besides the devices
  std::function<nlohmann::json(const nlohmann::json&)> probe;  // "sandbox_probe", test builds only

  // The device a request names (or the only one); the line of it it names.
  Result<size_t> find_device(const nlohmann::json& request) const;
  Result<size_t> find_line(size_t device, const nlohmann::json& request) const;
  // The device and simulated line a request names; else the refusal.
  std::optional<nlohmann::json> find_sim_line(const nlohmann::json& request, const ControlledDevice*& device,
                                              size_t& line) const;
  // Gives this thread's CPU to whoever waits for it, at most once a wake-up.
  void let_guests_run();

 private:
  uint64_t guests_ran_at_ = 0;  // the loop's wake-up of the last let_guests_run()
};

Error not_answering(const ControlledDevice& d);

// A guest time a request names: "until" (ns since the guest's boot) or
// "for" (a duration from its time now); nullopt when it names neither.
struct GuestTime {
  std::optional<uint64_t> until;
  std::optional<sim::Nanos> after;
};
Result<GuestTime> guest_time_arg(const nlohmann::json& request);

// A request's duration field: "10ms", "250us", or a number of seconds (up
// to 1000); `fallback` when it is left out, else an error.
Result<sim::Nanos> duration_field(const nlohmann::json& request, const char* key,
                                  std::optional<sim::Nanos> fallback = {});

// Nanoseconds since the epoch, for watch events and recordings.
int64_t epoch_ns(std::chrono::system_clock::time_point time);
// An ISO 8601 UTC timestamp with microseconds, for watch events.
std::string format_timestamp(std::chrono::system_clock::time_point time);

}  // namespace vgpio::control
