#include "driver/gpio_driver.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/strings.h"
#include "virtio/ring_layout.h"

namespace vgpio::driver {

using namespace vhost;

namespace {
constexpr uint32_t kSlotSize = 16;                           // 8-byte request, then the 2-byte response
constexpr uint64_t kStatusDriverOk = 0x1 | 0x2 | 0x8 | 0x4;  // ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK
constexpr uint64_t kWantedProtocol =
    kProtoMq | kProtoReplyAck | kProtoConfig | kProtoConfigureMemSlots | kProtoStatus | kProtoResetDevice;

Result<UniqueFd> make_eventfd() {
  UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return Error::from_errno(errno, "eventfd");
  return fd;
}

void signal(int fd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
}
}  // namespace

Result<std::unique_ptr<GpioDriver>> GpioDriver::connect(const std::string& socket_path, Options options) {
  std::unique_ptr<GpioDriver> d(new GpioDriver());
  d->options_ = options;
  if (d->options_.queue_size == 0) d->options_.queue_size = options.style == Style::Qemu72 ? 256 : 64;
  TRY(d->handshake(socket_path));
  return d;
}

Result<GpioConfig> GpioDriver::read_config() {
  auto bytes = TRY(frontend_->get_config(0, gpio::kConfigSize));
  GpioConfig c;
  std::memcpy(&c.ngpio, &bytes[0], 2);
  std::memcpy(&c.names_size, &bytes[4], 4);
  return c;
}

Result<uint64_t> GpioDriver::realize(const std::string& path) {
  frontend_ = TRY(Frontend::connect(path, options_.timeout));
  frontend_->set_message_budget(options_.message_budget);
  uint64_t offered = TRY(frontend_->get_u64(kGetFeatures));
  if (!(offered & kFeatureProtocolFeatures))
    return Error("backend does not offer VHOST_USER_F_PROTOCOL_FEATURES, which QEMU requires");
  uint64_t proto = TRY(frontend_->get_u64(kGetProtocolFeatures));
  if (!(proto & kProtoConfig)) return Error("backend does not offer the CONFIG protocol feature, which QEMU requires");
  proto &= kWantedProtocol;
  protocol_ = proto;
  TRY(frontend_->send_u64(kSetProtocolFeatures, proto));
  frontend_->set_reply_ack(proto & kProtoReplyAck);
  if (proto & kProtoMq) {
    uint64_t queues = TRY(frontend_->get_u64(kGetQueueNum));
    if (queues < 1) return Error("backend reports no queues");
  }
  if (proto & kProtoConfigureMemSlots) TRY(frontend_->get_u64(kGetMaxMemSlots));
  TRY(frontend_->send(kSetOwner));
  config_ = TRY(read_config());
  if (config_.ngpio == 0) return Error("backend reports ngpio 0 (the Linux driver rejects that)");
  return offered;
}

Result<void> GpioDriver::handshake(const std::string& path) {
  uint64_t offered = TRY(realize(path));
  // Start: what QEMU does when the guest driver sets DRIVER_OK.
  bool style10 = options_.style == Style::Qemu10;
  uint64_t want = virtio::ring::kFeatureVersion1 | kFeatureProtocolFeatures;
  if (style10) want |= gpio::kFeatureIrq;
  if (options_.event_idx) want |= virtio::ring::kFeatureEventIdx;
  if (options_.indirect) want |= virtio::ring::kFeatureIndirectDesc;
  features_ = want & (offered | kFeatureProtocolFeatures);
  if (!(features_ & virtio::ring::kFeatureVersion1)) return Error("backend does not offer VIRTIO_F_VERSION_1");
  irq_ = (features_ & gpio::kFeatureIrq) != 0;

  uint16_t qsize = options_.queue_size;
  size_t ram = 2 * (16 + 8 + 8) * size_t(qsize) + 2 * kSlotSize * size_t(qsize) + config_.names_size + (1 << 16);
  memory_ = TRY(SharedMemory::create((ram + 4095) / 4096 * 4096));
  requestq_ = TRY(DriverQueue::create(*memory_, qsize));
  eventq_ = TRY(DriverQueue::create(*memory_, qsize));
  requestq_->set_event_idx(features_ & virtio::ring::kFeatureEventIdx);
  eventq_->set_event_idx(features_ & virtio::ring::kFeatureEventIdx);
  slots_ = TRY(memory_->alloc(size_t(kSlotSize) * qsize, 16));
  irq_slots_ = TRY(memory_->alloc(size_t(kSlotSize) * qsize, 16));
  names_buffer_ = TRY(memory_->alloc(1 + size_t(config_.names_size), 8));
  event_gpio_.assign(qsize, 0);
  ticket_of_head_.assign(qsize, 0);
  // QEMU 7.2 starts both queues even though the guest never gets interrupts.
  for (uint16_t q = 0; q < 2; ++q) {
    kick_[q] = TRY(make_eventfd());
    call_[q] = TRY(make_eventfd());
  }
  const uint16_t fresh[2] = {0, 0};
  TRY(attach(fresh));
  // The Linux driver reads the config at probe: every read is a GET_CONFIG on QEMU 10.
  if (style10) config_ = TRY(read_config());
  return ok();
}

Result<void> GpioDriver::attach(const uint16_t bases[2]) {
  TRY(frontend_->send_u64(kSetFeatures, features_));
  MemoryRegion region{0, memory_->size(), memory_->user_addr(0), 0};
  int memfd = memory_->fd();
  if ((protocol_ & kProtoConfigureMemSlots) && !options_.mem_table) {
    SingleRegion single{0, region};
    TRY(frontend_->send(kAddMemReg, std::span(reinterpret_cast<const uint8_t*>(&single), sizeof single),
                        std::span(&memfd, 1)));
  } else {
    std::vector<uint8_t> table(sizeof(MemoryTableHeader) + sizeof region);
    MemoryTableHeader h{1, 0};
    std::memcpy(table.data(), &h, sizeof h);
    std::memcpy(table.data() + sizeof h, &region, sizeof region);
    TRY(frontend_->send(kSetMemTable, table, std::span(&memfd, 1)));
  }
  for (uint16_t q = 0; q < 2; ++q) TRY(setup_queue(q, bases[q]));
  TRY(enable_queues());
  if (protocol_ & kProtoStatus) TRY(frontend_->send_u64(kSetStatus, kStatusDriverOk));
  return ok();
}

Result<void> GpioDriver::reconnect(const std::string& path) {
  auto until = std::chrono::steady_clock::now() + options_.timeout;
  for (;;) {
    auto r = realize(path);
    if (r) break;
    if (std::chrono::steady_clock::now() > until) return r.release_error().with_context("reconnecting");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // hw/virtio/vhost.c, vhost_virtqueue_stop: with the backend gone, the
  // ring's last avail index becomes its used index.
  uint16_t bases[2] = {requestq_->used_idx_in_ring(), eventq_->used_idx_in_ring()};
  return attach(bases);
}

Result<void> GpioDriver::setup_queue(uint16_t index, uint16_t base) {
  DriverQueue& q = index == 0 ? *requestq_ : *eventq_;
  int kick = kick_[index].get(), call = call_[index].get();
  auto send_struct = [&](uint32_t request, const auto& body) {
    return frontend_->send(request, std::span(reinterpret_cast<const uint8_t*>(&body), sizeof body));
  };
  TRY(send_struct(kSetVringNum, VringState{index, q.size()}));
  TRY(send_struct(kSetVringBase, VringState{index, base}));
  TRY(send_struct(kSetVringAddr, VringAddr{index, 0, memory_->user_addr(q.desc_gpa()), memory_->user_addr(q.used_gpa()),
                                           memory_->user_addr(q.avail_gpa()), 0}));
  TRY(frontend_->send_u64(kSetVringKick, index, std::span(&kick, 1)));
  TRY(frontend_->send_u64(kSetVringCall, index, std::span(&call, 1)));
  return ok();
}

Result<void> GpioDriver::enable_queues() {
  for (uint32_t q = 0; q < 2; ++q) {
    VringState enable{q, 1};
    TRY(frontend_->send(kSetVringEnable, std::span(reinterpret_cast<const uint8_t*>(&enable), sizeof enable)));
  }
  return ok();
}

Result<uint16_t> GpioDriver::stop_ring(uint32_t q) {
  VringState s{q, 0};
  auto reply = TRY(frontend_->call(kGetVringBase, std::span(reinterpret_cast<const uint8_t*>(&s), sizeof s)));
  if (reply.size() != sizeof s) return Error("GET_VRING_BASE reply has the wrong size");
  std::memcpy(&s, reply.data(), sizeof s);
  if (s.index != q) return Error("GET_VRING_BASE answered for another ring");
  return static_cast<uint16_t>(s.num);
}

Result<void> GpioDriver::restart_as_new_driver() {
  for (uint32_t q = 0; q < 2; ++q) TRY(stop_ring(q));
  requestq_->reset();
  eventq_->reset();
  std::fill(ticket_of_head_.begin(), ticket_of_head_.end(), 0);
  done_.clear();
  events_.clear();
  for (uint16_t q = 0; q < 2; ++q) TRY(setup_queue(q, 0));
  return enable_queues();
}

Result<void> GpioDriver::stop_and_restart_rings() {
  uint16_t bases[2];
  for (uint32_t q = 0; q < 2; ++q) bases[q] = TRY(stop_ring(q));
  if (protocol_ & kProtoStatus) TRY(frontend_->send_u64(kSetStatus, 0));
  for (uint16_t q = 0; q < 2; ++q) TRY(setup_queue(q, bases[q]));
  TRY(enable_queues());
  if (protocol_ & kProtoStatus) TRY(frontend_->send_u64(kSetStatus, kStatusDriverOk));
  return ok();
}

Result<std::vector<std::string>> GpioDriver::line_names() {
  if (config_.names_size == 0) return std::vector<std::string>(config_.ngpio);
  Ticket ticket = TRY(submit(gpio::kGetLineNames, 0, 0));
  GpioResponse r = TRY(wait(ticket));
  if (r.status != gpio::kStatusOk) return Error("backend answered GET_LINE_NAMES with ERR");
  if (r.used_len != 1 + config_.names_size)
    return Error(strfmt("GET_LINE_NAMES used length %u, expected %u", r.used_len, 1 + config_.names_size));
  const char* p = reinterpret_cast<const char*>(memory_->at(names_buffer_ + 1));
  const char* end = p + config_.names_size;
  std::vector<std::string> names;
  while (names.size() < config_.ngpio) {
    const char* nul = static_cast<const char*>(std::memchr(p, 0, end - p));
    if (!nul) return Error(strfmt("names block ends after %zu of %u names", names.size(), config_.ngpio));
    names.emplace_back(p, nul);
    p = nul + 1;
  }
  return names;
}

Result<GpioDriver::Ticket> GpioDriver::submit(uint16_t type, uint16_t gpio, uint32_t value) {
  collect_requests();
  if (requestq_->free_descriptors() < (options_.indirect ? 1u : 2u)) return Error("request queue is full");
  // Each in-flight head owns one slot: fill it before the chain is published.
  uint16_t head = requestq_->next_head();
  uint64_t slot = slots_ + uint64_t(head) * kSlotSize;
  gpio::Request req{type, gpio, value};
  std::memcpy(memory_->at(slot), &req, sizeof req);
  std::memset(memory_->at(slot + 8), 0xff, 2);  // so a response never written shows
  bool names = type == gpio::kGetLineNames;
  Buffer chain[2] = {{slot, 8, false}, {names ? names_buffer_ : slot + 8, names ? 1 + config_.names_size : 2, true}};
  TRY(requestq_->add(chain, options_.indirect));
  Ticket ticket = next_ticket_++;
  ticket_of_head_[head] = ticket;
  if (requestq_->kick_needed()) signal(kick_[0].get());
  return ticket;
}

Result<void> GpioDriver::wait_call(int call_fd, std::chrono::milliseconds timeout, bool* fired) {
  pollfd p{call_fd, POLLIN, 0};
  int n = poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) return Error::from_errno(errno, "poll(call fd)");
  *fired = n > 0;
  if (*fired) {
    uint64_t count;
    [[maybe_unused]] ssize_t r = ::read(call_fd, &count, sizeof count);
  }
  return ok();
}

void GpioDriver::collect_requests() {
  do {
    while (auto u = requestq_->pop_used()) {
      uint64_t slot = slots_ + uint64_t(u->id) * kSlotSize;
      const uint8_t* resp = memory_->at(slot + 8);
      const gpio::Request* req = reinterpret_cast<const gpio::Request*>(memory_->at(slot));
      if (req->type == gpio::kGetLineNames) resp = memory_->at(names_buffer_);
      if (u->id >= ticket_of_head_.size() || ticket_of_head_[u->id] == 0) {  // not ours: counted, ignored
        ++unexpected_answers_;
        continue;
      }
      done_.push_back({ticket_of_head_[u->id], GpioResponse{resp[0], resp[1], u->len}});
      ticket_of_head_[u->id] = 0;
    }
  } while (requestq_->rearm_interrupts());
}

Result<GpioResponse> GpioDriver::wait(Ticket ticket) {
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  for (;;) {
    collect_requests();
    for (size_t i = 0; i < done_.size(); ++i) {
      if (done_[i].first != ticket) continue;
      GpioResponse r = done_[i].second;
      done_[i] = done_.back();
      done_.pop_back();
      return r;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return Error(strfmt("no answer to request %llu within %lld ms", static_cast<unsigned long long>(ticket),
                          static_cast<long long>(options_.timeout.count())));
    bool fired;
    TRY(wait_call(call_[0].get(), left, &fired));
  }
}

Result<GpioResponse> GpioDriver::request(uint16_t type, uint16_t gpio, uint32_t value) {
  Ticket ticket = TRY(submit(type, gpio, value));
  return wait(ticket);
}

Result<void> GpioDriver::unmask(uint16_t gpio) {
  collect_events();
  if (eventq_->free_descriptors() < 2) return Error("event queue is full");
  uint16_t head = eventq_->next_head();
  uint64_t slot = irq_slots_ + uint64_t(head) * kSlotSize;
  std::memcpy(memory_->at(slot), &gpio, 2);  // struct virtio_gpio_irq_request { le16 gpio; }
  memory_->at(slot + 8)[0] = 0xff;
  event_gpio_[head] = gpio;
  Buffer chain[2] = {{slot, 2, false}, {slot + 8, 1, true}};
  TRY(eventq_->add(chain));
  if (eventq_->kick_needed()) signal(kick_[1].get());
  return ok();
}

void GpioDriver::collect_events() {
  do {
    while (auto u = eventq_->pop_used()) {
      uint64_t slot = irq_slots_ + uint64_t(u->id) * kSlotSize;
      events_.push_back(IrqEvent{event_gpio_[u->id], memory_->at(slot + 8)[0], u->len});
    }
  } while (eventq_->rearm_interrupts());
}

Result<std::optional<IrqEvent>> GpioDriver::wait_event(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    collect_events();
    if (!events_.empty()) {
      IrqEvent e = events_.front();
      events_.erase(events_.begin());
      return std::optional<IrqEvent>(e);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<IrqEvent>();
    bool fired;
    TRY(wait_call(call_[1].get(), left, &fired));
  }
}

}  // namespace vgpio::driver
