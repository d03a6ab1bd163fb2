// The virtio-gpio device (virtio 1.2 §5.18) on the shared VirtioDevice base.
// requestq messages are answered in the order they arrive, so messages for one
// line are always answered in order (§5.18.6.2). Interrupt state per line is
// in gpio_irq.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpio/protocol.h"
#include "gpio/saved_state.h"
#include "lines/line.h"
#include "virtio/device.h"

namespace vgpio::gpio {

// A change someone watching the device wants to hear about.
struct LineChange {
  enum class Field { Direction, Value, IrqType };
  size_t line;
  Field field;
  int value;                                   // direction / level / irq type, in virtio numbering
  std::chrono::system_clock::time_point time;  // when it happened
  std::optional<uint64_t> guest_ns{};          // and in guest time, on a device on its guest's time
  bool interrupted_guest = false;              // an eventq buffer went back to the guest for it
};

struct LineStatus {
  std::string name;
  std::string kind;    // Line::describe()
  std::string holder;  // Line::holder()
  uint8_t direction;   // as the guest set it (gpio::kDirection*)
  int value;           // current level, or -1 when it cannot be read
  uint8_t irq_type;    // gpio::kIrq*
  bool irq_unmasked;   // the guest has an eventq buffer queued
  bool irq_pending;    // an edge is latched
};

class GpioDevice final : public virtio::VirtioDevice, private lines::LineListener {
 public:
  struct Options {
    bool offer_irq = true;
  };

  // Fails on a bad line set: none, more than 65535, or names that are not
  // unique 7-bit ASCII (§5.18.6.1).
  static Result<std::unique_ptr<GpioDevice>> create(std::string name, std::vector<std::unique_ptr<lines::Line>> lines,
                                                    Options options);
  static Result<std::unique_ptr<GpioDevice>> create(std::string name, std::vector<std::unique_ptr<lines::Line>> lines) {
    return create(std::move(name), std::move(lines), Options{});
  }
  ~GpioDevice() override;

  // The name, the lines and their names are fixed when the device is made:
  // these four may be called from any thread.
  const std::string& name() const { return name_; }
  size_t line_count() const { return lines_.size(); }
  const std::string& line_name(size_t line) const { return lines_.at(line)->name(); }
  // Accepts a line number or a line name.
  Result<size_t> find_line(const std::string& number_or_name) const;
  LineStatus status(size_t line) const;
  // Drives a simulated input, as a harness does; edges raise interrupts.
  Result<void> drive(size_t line, bool level);
  void set_observer(std::function<void(const LineChange&)> observer) { observer_ = std::move(observer); }
  // On a device on its guest's time (src/guest_clock): the guest time now,
  // given with each change. On the device's loop.
  void set_guest_time(std::function<uint64_t()> now) { guest_time_ = std::move(now); }
  const lines::Line& line(size_t i) const { return *lines_.at(i); }
  // What the guest drives on a line: its output level while it is an output,
  // else the line's safe level. Wires carry it to other lines.
  bool output_level(size_t i) const {
    return state_[i].direction == gpio::kDirectionOut ? state_[i].value : lines_[i]->policy().safe_level;
  }
  // Told each time output_level() may have changed (it may also be unchanged).
  void set_output_observer(std::function<void(size_t line, bool level)> observer) {
    output_observer_ = std::move(observer);
  }

  // Before the device is served, once: from here on every change the guest
  // makes is kept in `state`. With `restore`, `state` is what a previous vgpio
  // process kept, and the guest finds its lines as it left them: outputs
  // driven at its levels, inputs read, interrupts armed, its eventq buffers
  // held again when the frontend comes back. Without, every line starts idle
  // (a line adopted from that process goes to its safe level) and `why`
  // says why, for `vgpio ctl status`.
  void resume(std::unique_ptr<SavedState> state, bool restore, std::string why);
  // What resume() did: "restored ..." or "reset: why", then what became of
  // each line's request ("line 3 (relay): adopted ..."). Empty when nothing
  // was handed over.
  const std::vector<std::string>& restart_notes() const { return restart_notes_; }
  bool keeps_state() const { return saved_ != nullptr; }
  bool restored() const { return restored_; }
  int saved_state_fd() const { return saved_ ? saved_->fd() : -1; }

  bool on_queue_kick(size_t i) override;
  void on_queue_started(size_t i) override;
  void on_queue_stopping(size_t i) override;
  void reset() override;

 protected:
  uint64_t device_features() const override;
  std::vector<uint8_t> config_space() const override;

 private:
  // What the guest has set up on one line.
  struct GuestLine {
    uint8_t direction = gpio::kDirectionNone;
    bool value = false;  // SET_VALUE latch, applied when the line becomes OUT (§5.18.6.5)
    uint8_t irq_type = gpio::kIrqNone;
    bool edge_pending = false;                          // an edge latched while masked
    std::optional<virtio::DescriptorChain> irq_buffer;  // present = unmasked (§5.18.7)
  };
  struct Reply {
    uint8_t status;
    uint8_t value;
  };

  GpioDevice(std::string name, std::vector<std::unique_ptr<lines::Line>> lines, Options options);

  void handle_request(virtio::DescriptorChain chain);
  void answer_line_names(virtio::DescriptorChain& chain, const gpio::Request& req);
  Reply execute(const gpio::Request& req);
  Reply set_direction(size_t i, uint32_t direction);
  Reply get_value(size_t i);
  Reply set_value(size_t i, uint32_t value);
  // Forgets what the guest set on line i and releases the line (an output
  // goes to its safe level). Its eventq buffer must be gone already.
  void idle_line(size_t i);
  // Copies line i's state to the kept state (no system call).
  void save(size_t i);
  // Puts line i as the kept record says; false when it cannot.
  bool restore_line(size_t i, const SavedState::Line& kept);
  void publish(size_t line, LineChange::Field field, int value,
               std::chrono::system_clock::time_point time = std::chrono::system_clock::now(),
               bool interrupted_guest = false);

  // gpio_irq.cpp
  Reply set_irq_type(size_t i, uint32_t type);
  void handle_irq_buffer(virtio::DescriptorChain chain);
  void hold_irq_buffer(size_t i, virtio::DescriptorChain chain);
  // The eventq buffers the previous process held, taken again (on_queue_started).
  void take_back_held_buffers();
  void on_line_edge(size_t index, lines::Edge edge) override;
  void fire_if_level_active(size_t i);
  // True when the guest was notified (it may ask not to be, §2.7.10).
  bool return_irq_buffer(size_t i, uint8_t status);
  void disable_irq(size_t i);

  const std::string name_;
  const Options options_;
  std::vector<std::unique_ptr<lines::Line>> lines_;
  std::vector<GuestLine> state_;
  std::vector<uint8_t> names_block_;
  std::function<void(const LineChange&)> observer_;
  std::function<uint64_t()> guest_time_;
  std::function<void(size_t, bool)> output_observer_;
  std::unique_ptr<SavedState> saved_;
  std::vector<std::string> restart_notes_;
  std::vector<std::optional<uint16_t>> held_before_;  // eventq heads to take back, per line
  bool take_back_ = false;
  bool restored_ = false;
};

}  // namespace vgpio::gpio
