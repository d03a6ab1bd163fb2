// A device carrying on from a previous vgpio process (gpio_device.h,
// resume()): the guest's lines as that process left them, and its eventq
// buffers held again.
#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "gpio/gpio_device.h"

namespace vgpio::gpio {

using namespace gpio;

void GpioDevice::resume(std::unique_ptr<SavedState> state, bool restore, std::string why) {
  saved_ = std::move(state);
  // A line the guest used (or that is held) whose request did not come over
  // was released with the old process: its state is lost, and the guest's
  // view with it. The whole device starts clean then, and says so.
  for (size_t i = 0; restore && i < lines_.size(); ++i) {
    if (!lines_[i]->request_missed()) continue;
    if (saved_->line(i).direction == kDirectionNone && !lines_[i]->policy().hold_when_idle) continue;
    restore = false;
    std::string refused = lines_[i]->kept_request_refused();
    if (!refused.empty())  // the store had something else under its name
      why = strfmt(
          "line %zu (%s): what the service manager kept for it was refused (%s); every line starts idle, "
          "at its safe level",
          i, lines_[i]->name().c_str(), refused.c_str());
    else
      why = strfmt(
          "line %zu (%s) was not handed back by the service manager (FileDescriptorStoreMax= too small?) "
          "and was released in between; every line starts idle, at its safe level",
          i, lines_[i]->name().c_str());
  }
  held_before_.assign(lines_.size(), std::nullopt);
  size_t restored = 0;
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (restore && restore_line(i, saved_->line(i))) {
      ++restored;
    } else {
      idle_line(i);  // an adopted line settles here: to its safe level, or released
    }
    save(i);
  }
  take_back_ = restore;
  restored_ = restore;
  if (!restore) saved_->clear_event_next_avail();
  restart_notes_.clear();
  if (restore)
    restart_notes_.push_back(strfmt("restored: %zu of %zu lines as the guest left them", restored, lines_.size()));
  else if (!why.empty()) restart_notes_.push_back("reset: " + why);
  if (!restart_notes_.empty()) LOG_INFO("device %s: %s", name_.c_str(), restart_notes_.front().c_str());
  for (size_t i = 0; i < lines_.size(); ++i)
    if (!lines_[i]->adoption().empty())
      restart_notes_.push_back(
          strfmt("line %zu (%s): %s", i, lines_[i]->name().c_str(), lines_[i]->adoption().c_str()));
}

bool GpioDevice::restore_line(size_t i, const SavedState::Line& kept) {
  GuestLine& s = state_[i];
  lines::Line& line = *lines_[i];
  s = GuestLine{};
  s.value = kept.value != 0;
  if (line.simulated()) (void)line.drive(kept.flags & SavedState::kDrivenHigh);  // before the guest listens
  Result<void> r = ok();
  if (kept.direction == kDirectionOut)
    r = line.policy().may_output ? line.set_output(s.value) : Error("the config no longer allows an output");
  else if (kept.direction == kDirectionIn)
    r = line.policy().may_input ? line.set_input() : Error("the config no longer allows an input");
  else line.release();
  if (!r) {
    LOG_WARN("device %s line %zu (%s): not restored as the guest left it: %s; it starts idle", name_.c_str(), i,
             line.name().c_str(), r.error().message().c_str());
    return false;
  }
  s.direction = kept.direction;
  s.irq_type = options_.offer_irq ? kept.irq_type : kIrqNone;
  s.edge_pending = s.irq_type != kIrqNone && (kept.flags & SavedState::kEdgePending);
  if (s.irq_type != kIrqNone && (kept.flags & SavedState::kHoldsBuffer)) held_before_[i] = kept.irq_head;
  return true;
}

void GpioDevice::on_queue_started(size_t i) {
  if (i != kEventQueue || !saved_) return;
  if (take_back_) take_back_held_buffers();
  saved_->set_event_next_avail(queue(kEventQueue).next_avail());
}

// QEMU hands a backend that comes back the used index as where to start,
// which loses buffers held out of order and repeats buffers answered out of
// order. The previous process saved where it had taken buffers up to, and
// which it held: carry on from there instead, when the ring still agrees.
void GpioDevice::take_back_held_buffers() {
  take_back_ = false;
  virtio::SplitQueue& q = queue(kEventQueue);
  bool resumed = saved_->has_event_next_avail() && q.resume_at(saved_->event_next_avail());
  bool held_any = std::any_of(held_before_.begin(), held_before_.end(), [](const auto& h) { return h.has_value(); });
  if (!resumed && held_any)
    LOG_WARN(
        "device %s: the eventq does not agree with the kept state; interrupts carry on from the frontend's "
        "index (a line armed when vgpio stopped may need the guest to re-arm it)",
        name_.c_str());
  std::vector<bool> taken(q.size());
  for (size_t line = 0; line < lines_.size(); ++line) {
    std::optional<uint16_t> head = std::exchange(held_before_[line], std::nullopt);
    if (!resumed || !head || *head >= taken.size() || taken[*head]) continue;  // a head is held once
    auto chain = q.take_held(*head);
    if (!chain) continue;
    taken[*head] = true;
    // Never answered: answering a buffer that is not what it was could
    // answer a head the driver does not have out. The line waits for the
    // driver to re-arm it instead.
    if (chain->malformed()) {
      chain->abandon();
      continue;
    }
    hold_irq_buffer(line, std::move(*chain));
  }
  q.notify_if_needed();
}

}  // namespace vgpio::gpio
