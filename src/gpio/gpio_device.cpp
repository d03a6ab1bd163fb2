#include "gpio/gpio_device.h"

#include <cstring>
#include <unordered_set>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::gpio {

using namespace gpio;

Result<std::unique_ptr<GpioDevice>> GpioDevice::create(std::string name,
                                                       std::vector<std::unique_ptr<lines::Line>> lines,
                                                       Options options) {
  if (lines.empty()) return Error("device " + name + " has no lines (the driver rejects ngpio 0)");
  if (lines.size() > kMaxLines)
    return Error(
        strfmt("device %s has %zu lines; virtio-gpio allows at most %u", name.c_str(), lines.size(), kMaxLines));
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& n = lines[i]->name();
    for (unsigned char c : n) {
      if (c == 0 || c > 127)
        return Error(
            strfmt("device %s line %zu: name \"%s\" must be 7-bit ASCII without NUL", name.c_str(), i, n.c_str()));
    }
    if (!n.empty() && !seen.insert(n).second)
      return Error(
          strfmt("device %s line %zu: name \"%s\" is used twice; names must be unique", name.c_str(), i, n.c_str()));
  }
  return std::unique_ptr<GpioDevice>(new GpioDevice(std::move(name), std::move(lines), options));
}

GpioDevice::GpioDevice(std::string name, std::vector<std::unique_ptr<lines::Line>> lines, Options options)
    : virtio::VirtioDevice(options.offer_irq ? 2 : 1),
      name_(std::move(name)),
      options_(options),
      lines_(std::move(lines)),
      state_(lines_.size()) {
  bool any_name = false;
  for (size_t i = 0; i < lines_.size(); ++i) {
    state_[i].value = lines_[i]->policy().initial;
    lines_[i]->attach(this, i);
    const std::string& n = lines_[i]->name();
    any_name |= !n.empty();
    names_block_.insert(names_block_.end(), n.begin(), n.end());
    names_block_.push_back(0);
  }
  // §5.18.4: gpio_names_size is 0 when the device has no names.
  if (!any_name) names_block_.clear();
}

GpioDevice::~GpioDevice() { reset(); }

uint64_t GpioDevice::device_features() const { return options_.offer_irq ? kFeatureIrq : 0; }

std::vector<uint8_t> GpioDevice::config_space() const {
  std::vector<uint8_t> c(kConfigSize, 0);
  uint16_t ngpio = static_cast<uint16_t>(lines_.size());
  uint32_t names_size = static_cast<uint32_t>(names_block_.size());
  std::memcpy(&c[0], &ngpio, 2);       // le16 ngpio
  std::memcpy(&c[4], &names_size, 4);  // le32 gpio_names_size; padding stays 0
  return c;
}

bool GpioDevice::on_queue_kick(size_t i) {
  if (i == kRequestQueue) return drain_queue(i, [this](virtio::DescriptorChain c) { handle_request(std::move(c)); });
  return drain_queue(i, [this](virtio::DescriptorChain c) {
    // Saved as taken before it is answered or held: a crash in between loses
    // the buffer (its line waits for the driver to re-arm), where the other
    // order would have the next process answer it a second time.
    if (saved_) saved_->set_event_next_avail(queue(kEventQueue).next_avail());
    handle_irq_buffer(std::move(c));
  });
}

void GpioDevice::reset() {
  take_back_ = false;
  restored_ = false;
  if (saved_) saved_->clear_event_next_avail();
  for (size_t i = 0; i < lines_.size(); ++i) {
    GuestLine& s = state_[i];
    if (s.irq_buffer) s.irq_buffer->abandon();  // its ring is gone with the driver
    bool was_active = s.direction != kDirectionNone;
    idle_line(i);
    save(i);
    if (was_active) publish(i, LineChange::Field::Direction, kDirectionNone);
  }
}

void GpioDevice::idle_line(size_t i) {
  state_[i] = GuestLine{};
  state_[i].value = lines_[i]->policy().initial;
  lines_[i]->release();
}

void GpioDevice::save(size_t i) {
  if (!saved_) return;
  const GuestLine& s = state_[i];
  uint8_t flags = (s.edge_pending ? SavedState::kEdgePending : 0) | (s.irq_buffer ? SavedState::kHoldsBuffer : 0) |
                  (lines_[i]->driven_level() ? SavedState::kDrivenHigh : 0);
  saved_->line(i) = SavedState::Line{s.direction,
                                     static_cast<uint8_t>(s.value),
                                     s.irq_type,
                                     flags,
                                     s.irq_buffer ? s.irq_buffer->head() : uint16_t{0},
                                     0};
}

LineStatus GpioDevice::status(size_t i) const {
  const lines::Line& line = *lines_.at(i);
  const GuestLine& s = state_[i];
  auto level = const_cast<lines::Line&>(line).get();
  return LineStatus{line.name(), line.describe(),          line.holder(), s.direction, level ? int(level.value()) : -1,
                    s.irq_type,  s.irq_buffer.has_value(), s.edge_pending};
}

Result<size_t> GpioDevice::find_line(const std::string& key) const {
  for (size_t i = 0; i < lines_.size(); ++i)
    if (lines_[i]->name() == key) return i;
  char* end = nullptr;
  unsigned long n = std::strtoul(key.c_str(), &end, 10);
  if (!key.empty() && end && *end == 0 && n < lines_.size()) return static_cast<size_t>(n);
  return Error(strfmt("device %s has no line \"%s\" (lines are 0..%zu or their names)", name_.c_str(), key.c_str(),
                      lines_.size() - 1));
}

Result<void> GpioDevice::drive(size_t i, bool level) {
  if (i >= lines_.size()) return Error(strfmt("device %s has no line %zu", name_.c_str(), i));
  return lines_[i]->drive(level);  // an edge comes back through on_line_edge()
}

void GpioDevice::publish(size_t line, LineChange::Field field, int value, std::chrono::system_clock::time_point time,
                         bool interrupted_guest) {
  if (observer_) {
    LineChange change{line, field, value, time};
    change.interrupted_guest = interrupted_guest;
    if (guest_time_) change.guest_ns = guest_time_();
    observer_(change);
  }
  if (output_observer_ && (field == LineChange::Field::Direction ||
                           (field == LineChange::Field::Value && state_[line].direction == kDirectionOut)))
    output_observer_(line, output_level(line));
}

void GpioDevice::handle_request(virtio::DescriptorChain chain) {
  if (chain.malformed()) {
    LOG_WARN_LIMITED("device %s: requestq buffer %u is malformed (%s); returned empty. The guest driver is broken.",
                     name_.c_str(), chain.head(), chain.problem().c_str());
    chain.complete(0);
    return;
  }
  Request req{};
  Reply reply{kStatusErr, 0};
  if (chain.writable_length() < kResponseSize) {
    // No room for the answer: do nothing the guest could not learn about.
    LOG_WARN_LIMITED("device %s: response buffer of %llu bytes, expected %u; answered ERR", name_.c_str(),
                     static_cast<unsigned long long>(chain.writable_length()), kResponseSize);
  } else if (chain.readable_length() < sizeof req) {
    LOG_WARN_LIMITED("device %s: request of %llu bytes, expected %zu; answered ERR", name_.c_str(),
                     static_cast<unsigned long long>(chain.readable_length()), sizeof req);
  } else if (auto r = chain.read(0, &req, sizeof req); !r) {
    LOG_WARN_LIMITED("device %s: cannot read request: %s", name_.c_str(), r.error().message().c_str());
  } else if (req.type == kGetLineNames) {
    answer_line_names(chain, req);
    return;
  } else {
    reply = execute(req);
    if (req.gpio < lines_.size()) save(req.gpio);  // before the answer: see saved_state.h
  }
  // §5.18.6: the response is { u8 status; u8 value; }, used length 2.
  uint8_t bytes[2] = {reply.status, reply.value};
  uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(chain.writable_length(), kResponseSize));
  if (!chain.write(0, bytes, len)) len = 0;
  chain.complete(len);
}

void GpioDevice::answer_line_names(virtio::DescriptorChain& chain, const Request& req) {
  // Response: { u8 status; u8 names[gpio_names_size]; }, used length 1 + size.
  uint64_t want = 1 + names_block_.size();
  if (names_block_.empty()) {
    LOG_WARN_LIMITED("device %s: GET_LINE_NAMES, but the device has no line names (gpio_names_size 0); answered ERR",
                     name_.c_str());
  } else if (req.gpio != 0 || req.value != 0 || chain.writable_length() < want) {
    LOG_WARN_LIMITED(
        "device %s: GET_LINE_NAMES with gpio %u, value %u and a %llu-byte buffer (need gpio 0, "
        "value 0, %llu bytes); answered ERR",
        name_.c_str(), req.gpio, req.value, static_cast<unsigned long long>(chain.writable_length()),
        static_cast<unsigned long long>(want));
  } else {
    uint8_t status = kStatusOk;
    bool written = chain.write(0, &status, 1) && chain.write(1, names_block_.data(), names_block_.size());
    chain.complete(written ? static_cast<uint32_t>(want) : 0);
    return;
  }
  uint8_t err[2] = {kStatusErr, 0};
  uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(chain.writable_length(), 2));
  chain.complete(chain.write(0, err, len) ? len : 0);
}

GpioDevice::Reply GpioDevice::execute(const Request& req) {
  if (req.gpio >= lines_.size()) {
    LOG_WARN_LIMITED("device %s: %s for line %u, but the device has %zu lines; answered ERR", name_.c_str(),
                     message_name(req.type), req.gpio, lines_.size());
    return {kStatusErr, 0};
  }
  size_t i = req.gpio;
  switch (req.type) {
    case kGetDirection: {
      // An idle line reports IN: Linux turns NONE into an error and a warning.
      uint8_t d = state_[i].direction;
      return {kStatusOk, d == kDirectionNone ? kDirectionIn : d};
    }
    case kSetDirection: return set_direction(i, req.value);
    case kGetValue: return get_value(i);
    case kSetValue: return set_value(i, req.value);
    case kSetIrqType: return set_irq_type(i, req.value);
  }
  LOG_WARN_LIMITED("device %s: unknown request type %u for line %zu; answered ERR", name_.c_str(), req.type, i);
  return {kStatusErr, 0};
}

GpioDevice::Reply GpioDevice::set_direction(size_t i, uint32_t direction) {
  GuestLine& s = state_[i];
  lines::Line& line = *lines_[i];
  switch (direction) {
    case kDirectionNone:
      // §5.18.6.3: NONE discards all state of the line.
      disable_irq(i);
      idle_line(i);
      break;
    case kDirectionIn:
      if (!line.policy().may_input) {
        LOG_WARN_LIMITED(
            "device %s line %zu (%s): the guest asked for an input, but the config allows only "
            "output; answered ERR",
            name_.c_str(), i, line.name().c_str());
        return {kStatusErr, 0};
      }
      if (auto r = line.set_input(); !r) {
        LOG_WARN_LIMITED("device %s line %zu (%s): cannot make it an input: %s", name_.c_str(), i, line.name().c_str(),
                         r.error().message().c_str());
        return {kStatusErr, 0};
      }
      s.direction = kDirectionIn;
      break;
    case kDirectionOut:
      if (!line.policy().may_output) {
        LOG_WARN_LIMITED(
            "device %s line %zu (%s): the guest asked for an output, but the config allows only "
            "input; answered ERR",
            name_.c_str(), i, line.name().c_str());
        return {kStatusErr, 0};
      }
      if (s.irq_type != kIrqNone) disable_irq(i);  // outputs carry no interrupts (§5.18.6.6)
      if (auto r = line.set_output(s.value); !r) {
        LOG_WARN_LIMITED("device %s line %zu (%s): cannot make it an output: %s", name_.c_str(), i, line.name().c_str(),
                         r.error().message().c_str());
        return {kStatusErr, 0};
      }
      s.direction = kDirectionOut;
      publish(i, LineChange::Field::Value, s.value);
      break;
    default:
      LOG_WARN_LIMITED("device %s line %zu: SET_DIRECTION %u is not NONE, OUT or IN; answered ERR", name_.c_str(), i,
                       direction);
      return {kStatusErr, 0};
  }
  publish(i, LineChange::Field::Direction, s.direction);
  return {kStatusOk, 0};
}

GpioDevice::Reply GpioDevice::get_value(size_t i) {
  auto level = lines_[i]->get();
  if (!level) {
    LOG_WARN_LIMITED("device %s line %zu (%s): cannot read: %s", name_.c_str(), i, lines_[i]->name().c_str(),
                     level.error().message().c_str());
    return {kStatusErr, 0};
  }
  return {kStatusOk, static_cast<uint8_t>(level.value())};
}

GpioDevice::Reply GpioDevice::set_value(size_t i, uint32_t value) {
  if (value > 1) {
    LOG_WARN_LIMITED("device %s line %zu: SET_VALUE %u is not 0 or 1; answered ERR", name_.c_str(), i, value);
    return {kStatusErr, 0};
  }
  GuestLine& s = state_[i];
  // §5.18.6.5: a value set before the line is an output is used once it is.
  if (s.direction == kDirectionOut) {
    if (auto r = lines_[i]->set(value != 0); !r) {
      LOG_WARN_LIMITED("device %s line %zu (%s): cannot set: %s", name_.c_str(), i, lines_[i]->name().c_str(),
                       r.error().message().c_str());
      return {kStatusErr, 0};
    }
  }
  bool changed = s.value != (value != 0);
  s.value = value != 0;
  if (changed && s.direction == kDirectionOut) publish(i, LineChange::Field::Value, int(value));
  return {kStatusOk, 0};
}

}  // namespace vgpio::gpio
