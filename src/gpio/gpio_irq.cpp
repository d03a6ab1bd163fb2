// Interrupts, virtio 1.2 §5.18.6.6 and §5.18.7. Per line, "enabled" is the
// irq type set over the requestq and "unmasked" is the driver's eventq buffer
// held here. An event is only ever sent when both hold.
#include "base/log.h"
#include "gpio/gpio_device.h"

namespace vgpio::gpio {

using namespace gpio;

GpioDevice::Reply GpioDevice::set_irq_type(size_t i, uint32_t type) {
  GuestLine& s = state_[i];
  if (!has_feature(kFeatureIrq)) {
    LOG_WARN_LIMITED("device %s line %zu: SET_IRQ_TYPE without VIRTIO_GPIO_F_IRQ negotiated; answered ERR",
                     name_.c_str(), i);
    return {kStatusErr, 0};
  }
  if (!is_valid_irq_type(type)) {
    LOG_WARN_LIMITED("device %s line %zu: SET_IRQ_TYPE %u is not a virtio-gpio irq type; answered ERR", name_.c_str(),
                     i, type);
    return {kStatusErr, 0};
  }
  if (type == kIrqNone) {
    disable_irq(i);
    return {kStatusOk, 0};
  }
  // §5.18.6.6: "The driver MUST NOT send IRQ messages for a GPIO line configured for output."
  if (s.direction == kDirectionOut || !lines_[i]->policy().may_input) {
    LOG_WARN_LIMITED("device %s line %zu (%s): SET_IRQ_TYPE %s on an output or an output-only line; answered ERR",
                     name_.c_str(), i, lines_[i]->name().c_str(), irq_type_name(static_cast<uint8_t>(type)));
    return {kStatusErr, 0};
  }
  if (s.irq_type == type) return {kStatusOk, 0};  // the same type again is harmless
  // A change between two enabled types should go through NONE; accept it
  // anyway, starting the new type with nothing latched.
  s.edge_pending = false;
  s.irq_type = static_cast<uint8_t>(type);
  publish(i, LineChange::Field::IrqType, s.irq_type);
  fire_if_level_active(i);
  return {kStatusOk, 0};
}

void GpioDevice::disable_irq(size_t i) {
  GuestLine& s = state_[i];
  // §5.18.6.6: discard what is latched and return the buffer INVALID. This
  // happens before the SET_IRQ_TYPE(NONE) itself is answered, so a driver that
  // re-enables at once never finds its buffer still queued.
  s.edge_pending = false;
  if (s.irq_buffer) return_irq_buffer(i, kIrqStatusInvalid);
  if (s.irq_type != kIrqNone) {
    s.irq_type = kIrqNone;
    publish(i, LineChange::Field::IrqType, kIrqNone);
  }
}

void GpioDevice::handle_irq_buffer(virtio::DescriptorChain chain) {
  if (chain.malformed()) {
    LOG_WARN_LIMITED("device %s: eventq buffer %u is malformed (%s); returned empty", name_.c_str(), chain.head(),
                     chain.problem().c_str());
    chain.complete(0);
    return;
  }
  uint8_t invalid = kIrqStatusInvalid;
  uint16_t gpio = 0;
  if (chain.readable_length() < kIrqRequestSize || chain.writable_length() < kIrqResponseSize ||
      !chain.read(0, &gpio, sizeof gpio)) {
    LOG_WARN_LIMITED(
        "device %s: eventq buffer %u has %llu readable and %llu writable bytes (need 2 and 1); "
        "returned",
        name_.c_str(), chain.head(), static_cast<unsigned long long>(chain.readable_length()),
        static_cast<unsigned long long>(chain.writable_length()));
    chain.complete(chain.writable_length() >= 1 && chain.write(0, &invalid, 1) ? 1 : 0);
    return;
  }
  if (gpio >= lines_.size()) {
    LOG_WARN_LIMITED("device %s: eventq buffer for line %u, but the device has %zu lines; returned INVALID",
                     name_.c_str(), gpio, lines_.size());
    chain.complete(chain.write(0, &invalid, 1) ? 1 : 0);
    return;
  }
  GuestLine& s = state_[gpio];
  // §5.18.7: a buffer for a line whose interrupt is not enabled goes back INVALID.
  if (s.irq_type == kIrqNone) {
    chain.complete(chain.write(0, &invalid, 1) ? 1 : 0);
    return;
  }
  // The buffer held already, seen again: a restarted vgpio took it back
  // (gpio_resume.cpp) and the ring showed it once more. It is one buffer.
  if (s.irq_buffer && s.irq_buffer->head() == chain.head()) {
    chain.abandon();
    return;
  }
  // §5.18.7: "The driver MUST NOT add multiple pairs of buffers for the same GPIO line."
  if (s.irq_buffer) {
    LOG_WARN_LIMITED("device %s line %u: a second eventq buffer while one is held; returned INVALID", name_.c_str(),
                     gpio);
    chain.complete(chain.write(0, &invalid, 1) ? 1 : 0);
    return;
  }
  hold_irq_buffer(gpio, std::move(chain));
}

void GpioDevice::hold_irq_buffer(size_t i, virtio::DescriptorChain chain) {
  GuestLine& s = state_[i];
  LOG_DEBUG("device %s line %zu: eventq buffer %u held (unmasked)", name_.c_str(), i, chain.head());
  s.irq_buffer.emplace(std::move(chain));
  save(i);
  if (s.edge_pending) {  // an edge latched while masked is delivered at unmask
    s.edge_pending = false;
    return_irq_buffer(i, kIrqStatusValid);
    return;
  }
  fire_if_level_active(i);  // a level still active at unmask fires again
}

void GpioDevice::on_line_edge(size_t i, lines::Edge edge) {
  auto when = std::chrono::system_clock::now();
  GuestLine& s = state_[i];
  bool rising = edge == lines::Edge::Rising;
  uint8_t t = s.irq_type;
  bool interrupted = false;
  if (is_edge_type(t)) {
    bool wanted = t == kIrqEdgeBoth || (t == kIrqEdgeRising) == rising;
    if (wanted && s.irq_buffer) interrupted = return_irq_buffer(i, kIrqStatusValid);
    else if (wanted) s.edge_pending = true;  // §5.18.6.2: latch edges while masked
  } else if (is_level_type(t)) {
    // Levels are not latched while masked; unmask re-checks the line.
    if (s.irq_buffer && (t == kIrqLevelHigh) == rising) interrupted = return_irq_buffer(i, kIrqStatusValid);
  }
  save(i);  // what is latched, and a simulated line's new level
  // The guest first, watchers after, with the time of the edge itself.
  publish(i, LineChange::Field::Value, rising ? 1 : 0, when, interrupted);
}

void GpioDevice::fire_if_level_active(size_t i) {
  GuestLine& s = state_[i];
  if (!s.irq_buffer || !is_level_type(s.irq_type)) return;
  auto level = lines_[i]->get();
  if (!level) return;
  if (level.value() == (s.irq_type == kIrqLevelHigh)) return_irq_buffer(i, kIrqStatusValid);
}

bool GpioDevice::return_irq_buffer(size_t i, uint8_t status) {
  virtio::DescriptorChain chain = std::move(*state_[i].irq_buffer);
  state_[i].irq_buffer.reset();
  // Saved as not held before it is answered: a crash in between loses the
  // buffer (the line's interrupts wait for the guest to re-arm), where the
  // other order would answer it twice.
  save(i);
  // §5.18.7: used length is that of struct virtio_gpio_irq_response, 1.
  LOG_DEBUG("device %s line %zu: eventq buffer %u returned %s", name_.c_str(), i, chain.head(),
            status == kIrqStatusValid ? "VALID" : "INVALID");
  chain.complete(chain.write(0, &status, 1) ? 1 : 0);
  virtio::SplitQueue& q = queue(kEventQueue);
  if (!q.notify_if_needed()) return false;
  // The guest first: on a CPU it shares, it takes the interrupt now, before
  // we tell watchers (and before the control thread, which the watchers wake).
  let_the_driver_run_if_it_pays(kEventQueue, [&q] { return q.driver_took_every_used(); });
  return true;
}

void GpioDevice::on_queue_stopping(size_t i) {
  if (i != kEventQueue) return;
  // The ring is about to stop, and a held buffer could not be returned after
  // that. Hand each back INVALID: the Linux driver re-queues such a buffer
  // when the line is still enabled and unmasked, so interrupts resume when the
  // ring restarts, and latched edges wait here for it.
  for (size_t line = 0; line < state_.size(); ++line)
    if (state_[line].irq_buffer) return_irq_buffer(line, kIrqStatusInvalid);
}

}  // namespace vgpio::gpio
