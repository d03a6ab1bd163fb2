// A virtio-gpio driver in user space over a real vhost-user socket: what QEMU
// plus the Linux gpio-virtio driver do, in one object. Used by the integration
// tests, `vgpio probe` and the benchmarks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/driver_queue.h"
#include "driver/frontend.h"
#include "driver/shared_memory.h"
#include "gpio/protocol.h"

namespace vgpio::driver {

struct GpioConfig {
  uint16_t ngpio = 0;
  uint32_t names_size = 0;
};

struct GpioResponse {
  uint8_t status;
  uint8_t value;
  uint32_t used_len;
};

struct IrqEvent {
  uint16_t gpio;
  uint8_t status;  // gpio::kIrqStatus*
  uint32_t used_len;
};

class GpioDriver {
 public:
  enum class Style {
    Qemu72,  // queues of 256, config read once, never negotiates interrupts
    Qemu10,  // queues of 64, GET_CONFIG on every config read, interrupts offered
  };
  struct Options {
    Style style = Style::Qemu10;
    uint16_t queue_size = 0;  // 0: the style's default
    bool event_idx = true;
    bool indirect = false;  // send requests as indirect chains
    std::chrono::milliseconds timeout{5000};
    bool mem_table = false;   // SET_MEM_TABLE even when ADD_MEM_REG is offered
    int message_budget = -1;  // fault tests: give up after this many vhost-user messages
  };

  static Result<std::unique_ptr<GpioDriver>> connect(const std::string& socket_path, Options options);
  static Result<std::unique_ptr<GpioDriver>> connect(const std::string& socket_path) {
    return connect(socket_path, Options{});
  }

  const GpioConfig& config() const { return config_; }
  bool has_irq() const { return irq_; }
  std::chrono::milliseconds timeout() const { return options_.timeout; }
  void set_timeout(std::chrono::milliseconds timeout) { options_.timeout = timeout; }
  // Used entries for a head with no request in flight: an answer given twice
  // (or to nothing the driver asked), which a driver must never see.
  uint64_t unexpected_answers() const { return unexpected_answers_; }
  uint64_t features() const { return features_; }
  Frontend& frontend() { return *frontend_; }
  SharedMemory& memory() { return *memory_; }
  DriverQueue& request_queue() { return *requestq_; }
  // Fault tests: a kick without touching the rings (a frontend could, whatever its memory holds).
  int kick_fd(size_t queue) const { return kick_[queue].get(); }

  // The config as the guest reads it now (Qemu10 asks the backend each time).
  Result<GpioConfig> read_config();
  Result<std::vector<std::string>> line_names();

  // One request, waiting for its answer.
  Result<GpioResponse> request(uint16_t type, uint16_t gpio, uint32_t value = 0);
  // Several requests at once: submit() them, then collect with wait(). A
  // ticket is never reused (descriptor heads are, as soon as they come back).
  using Ticket = uint64_t;
  Result<Ticket> submit(uint16_t type, uint16_t gpio, uint32_t value = 0);
  Result<GpioResponse> wait(Ticket ticket);

  // Stops both rings (GET_VRING_BASE) and starts them again where they were,
  // as QEMU does around a VM pause.
  Result<void> stop_and_restart_rings();
  // Stops both rings and starts over on zeroed ones, as a rebooted guest's
  // driver does after a VM reset (QEMU sends nothing else).
  Result<void> restart_as_new_driver();

  // The backend went away (vgpio crashed or restarted): connects again to
  // `path` once it listens (within the timeout) and carries on with the same
  // memory and rings, each started at its used index, as QEMU restarts a
  // ring whose backend broke. What a VMM that reconnects does; QEMU 10's
  // vhost-user-gpio cannot (see docs/restarts.md).
  Result<void> reconnect(const std::string& path);

  // Unmasks: queues the eventq buffer for `gpio`.
  Result<void> unmask(uint16_t gpio);
  // The next returned eventq buffer, or nullopt after `timeout`.
  Result<std::optional<IrqEvent>> wait_event(std::chrono::milliseconds timeout);

 private:
  GpioDriver() = default;
  Result<void> handshake(const std::string& path);
  // Connects and negotiates, as QEMU does when it realizes the device.
  Result<uint64_t> realize(const std::string& path);
  // The memory table, each ring from `bases`, then DRIVER_OK.
  Result<void> attach(const uint16_t bases[2]);
  Result<void> setup_queue(uint16_t index, uint16_t base);
  Result<uint16_t> stop_ring(uint32_t index);  // GET_VRING_BASE
  Result<void> enable_queues();
  Result<void> wait_call(int call_fd, std::chrono::milliseconds timeout, bool* fired);
  void collect_requests();
  void collect_events();

  Options options_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<SharedMemory> memory_;
  std::unique_ptr<DriverQueue> requestq_, eventq_;
  UniqueFd kick_[2], call_[2];
  GpioConfig config_;
  uint64_t features_ = 0;
  bool irq_ = false;
  uint64_t protocol_ = 0;
  uint64_t slots_ = 0;      // per request head: 8-byte request + response
  uint64_t irq_slots_ = 0;  // per event head: le16 gpio + u8 status
  uint64_t names_buffer_ = 0;
  Ticket next_ticket_ = 1;
  std::vector<Ticket> ticket_of_head_;  // for requests in flight
  uint64_t unexpected_answers_ = 0;
  std::vector<std::pair<Ticket, GpioResponse>> done_;  // answered, not yet collected: a few
  std::vector<IrqEvent> events_;
  std::vector<uint16_t> event_gpio_;  // gpio per eventq head
};

}  // namespace vgpio::driver
