#include "vhost_user/backend.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strings.h"

namespace vgpio::vhost {
namespace {

template <typename T>
std::vector<uint8_t> bytes_of(const T& value) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

Result<void> expect_fds(const Message& m, size_t count) {
  if (m.fds.size() != count)
    return Error(strfmt("%s carries %zu fds, expected %zu", request_name(m.header.request), m.fds.size(), count));
  return ok();
}

Result<void> expect_empty(const Message& m) {
  TRY(expect_fds(m, 0));
  if (!m.payload.empty()) return m.size_error(0);
  return ok();
}

// Requests whose reply is part of the protocol, not a REPLY_ACK.
bool has_own_reply(uint32_t request) {
  switch (request) {
    case kGetFeatures:
    case kGetProtocolFeatures:
    case kGetVringBase:
    case kGetQueueNum:
    case kGetConfig:
    case kGetMaxMemSlots:
    case kGetStatus: return true;
  }
  return false;
}

virtio::MemoryRegionSpec to_spec(const MemoryRegion& r) { return {r.guest_addr, r.size, r.user_addr, r.mmap_offset}; }

// The frontend chooses what a kick, call or err fd is: an eventfd, or a pipe
// nobody reads. Ours is made non-blocking, so that a full one costs the
// frontend a notification, never the device thread a wait. (The flag lands on
// the frontend's open file too; QEMU's eventfds are non-blocking already.)
Result<UniqueFd> take_vring_fd(const UniqueFd& sent) {
  UniqueFd fd(fcntl(sent.get(), F_DUPFD_CLOEXEC, 3));
  if (!fd) return Error::from_errno(errno, "dup(vring fd)");
  TRY(set_nonblocking(fd.get()).error_context("vring fd"));
  return fd;
}

}  // namespace

Backend::Backend(virtio::VirtioDevice& device, EventLoop& loop, std::string device_name,
                 const std::function<void(int)>* call_observer)
    : device_(device),
      loop_(loop),
      name_(std::move(device_name)),
      call_observer_(call_observer),
      vrings_(device.queue_count()) {}

Backend::~Backend() {
  reset_device();
  device_.memory().clear();
}

Backend::Outcome Backend::handle(const Message& m, Outbox& out) {
  const uint32_t request = m.header.request;
  LOG_DEBUG("device %s: frontend sent %s (%u bytes, %zu fds)", name_.c_str(), request_name(request), m.header.size,
            m.fds.size());
  auto result = dispatch(m);
  bool ack = (m.header.flags & kFlagNeedReply) && (protocol_features_ & kProtoReplyAck) && !has_own_reply(request);
  auto reply = [&](const std::vector<uint8_t>& payload) {
    Header h{request, kVersion | kFlagReply, static_cast<uint32_t>(payload.size())};
    if (!out.push(h, payload)) {
      LOG_WARN("device %s: the frontend does not read its replies (%zu bytes wait unread); cutting it off",
               name_.c_str(), Outbox::kMaxBytes);
      return Outcome::Close;
    }
    return Outcome::Continue;
  };
  if (result) {
    if (result.value()) return reply(*result.value());
    if (ack) return reply(bytes_of<uint64_t>(0));
    return Outcome::Continue;
  }
  LOG_WARN_LIMITED("device %s: frontend message %s (%u) rejected: %s", name_.c_str(), request_name(request), request,
                   result.error().message().c_str());
  // vhost-user.rst: "back-end uses zero length of payload to indicate an error".
  if (request == kGetConfig) return reply({});
  // The frontend waits for an answer we cannot give: end the session.
  if (has_own_reply(request)) return Outcome::Close;
  if (ack) return reply(bytes_of<uint64_t>(1));
  return Outcome::Continue;
}

Result<size_t> Backend::vring_index(uint64_t index) const {
  if (index >= vrings_.size())
    return Error(strfmt("vring %llu does not exist (the device has %zu)", static_cast<unsigned long long>(index),
                        vrings_.size()));
  return static_cast<size_t>(index);
}

Result<Backend::Reply> Backend::dispatch(const Message& m) {
  switch (m.header.request) {
    case kGetFeatures:
      TRY(expect_empty(m));
      return Reply(bytes_of<uint64_t>(device_.offered_features() | kFeatureProtocolFeatures));
    case kSetFeatures: return set_features(m);
    case kSetOwner:
      TRY(expect_empty(m));
      owner_ = true;
      return Reply();
    case kResetOwner:
      TRY(expect_empty(m));
      reset_device();
      owner_ = false;
      return Reply();
    case kGetProtocolFeatures: TRY(expect_empty(m)); return Reply(bytes_of<uint64_t>(kProtocolFeatures));
    case kSetProtocolFeatures: {
      TRY(expect_fds(m, 0));
      uint64_t f = TRY(m.as<uint64_t>());
      if (f & ~kProtocolFeatures)
        return Error(strfmt("protocol features 0x%llx were not offered",
                            static_cast<unsigned long long>(f & ~kProtocolFeatures)));
      protocol_features_ = f;
      return Reply();
    }
    case kGetQueueNum: TRY(expect_empty(m)); return Reply(bytes_of<uint64_t>(vrings_.size()));
    case kGetMaxMemSlots: TRY(expect_empty(m)); return Reply(bytes_of<uint64_t>(virtio::GuestMemory::kMaxRegions));
    case kSetMemTable: return set_mem_table(m);
    case kAddMemReg: return add_mem_reg(m);
    case kRemMemReg: return rem_mem_reg(m);
    case kSetVringNum: return set_vring_num(m);
    case kSetVringAddr: return set_vring_addr(m);
    case kSetVringBase: return set_vring_base(m);
    case kGetVringBase: return get_vring_base(m);
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr: return set_vring_fd(m);
    case kSetVringEnable: return set_vring_enable(m);
    case kGetConfig: return get_config(m);
    case kSetConfig: return Error("the virtio-gpio config space is read-only");
    case kResetDevice:
      TRY(expect_empty(m));
      reset_device();
      return Reply();
    case kSetStatus: {
      TRY(expect_fds(m, 0));
      // Recorded only. QEMU sends SET_STATUS(0) on every stop, a VM pause
      // included, so it is no reason to drop the guest's lines.
      status_ = TRY(m.as<uint64_t>());
      return Reply();
    }
    case kGetStatus: TRY(expect_empty(m)); return Reply(bytes_of<uint64_t>(status_));
    case kSetLogBase:
    case kSetLogFd:
    case kSetBackendReqFd: return Error("not offered by this backend");
  }
  return Error("unknown request");
}

Result<Backend::Reply> Backend::set_features(const Message& m) {
  TRY(expect_fds(m, 0));
  uint64_t f = TRY(m.as<uint64_t>());
  TRY(device_.negotiate(f & ~kFeatureProtocolFeatures));
  protocol_features_acked_ = (f & kFeatureProtocolFeatures) != 0;
  return Reply();
}

void Backend::remap_queues() {
  for (size_t i = 0; i < vrings_.size(); ++i) {
    if (auto r = device_.queue(i).remap(); !r)
      LOG_ERROR("device %s: %s; the frontend must set the ring up again", name_.c_str(), r.error().message().c_str());
  }
}

Result<Backend::Reply> Backend::set_mem_table(const Message& m) {
  if (m.payload.size() < sizeof(MemoryTableHeader)) return m.size_error(sizeof(MemoryTableHeader));
  MemoryTableHeader h;
  std::memcpy(&h, m.payload.data(), sizeof h);
  if (h.num_regions == 0 || h.num_regions > kMaxMemTableRegions)
    return Error(strfmt("memory table with %u regions (1 to %u allowed)", h.num_regions, kMaxMemTableRegions));
  // QEMU sends the full 8-region array; accept that or exactly num_regions.
  size_t exact = sizeof h + h.num_regions * sizeof(MemoryRegion);
  size_t full = sizeof h + kMaxMemTableRegions * sizeof(MemoryRegion);
  if (m.payload.size() != exact && m.payload.size() != full) return m.size_error(exact);
  TRY(expect_fds(m, h.num_regions));
  // Build the new table aside, so a bad region leaves the old one intact.
  virtio::GuestMemory fresh;
  for (uint32_t i = 0; i < h.num_regions; ++i) {
    MemoryRegion r;
    std::memcpy(&r, m.payload.data() + sizeof h + i * sizeof r, sizeof r);
    UniqueFd fd(dup(m.fds[i].get()));
    if (!fd) return Error::from_errno(errno, "dup(memory fd)");
    TRY(fresh.add_region(to_spec(r), std::move(fd)).error_context(strfmt("region %u", i)));
  }
  device_.memory().swap_regions(fresh);
  remap_queues();
  return Reply();
}

Result<Backend::Reply> Backend::add_mem_reg(const Message& m) {
  TRY(expect_fds(m, 1));
  SingleRegion r = TRY(m.as<SingleRegion>());
  UniqueFd fd(dup(m.fds[0].get()));
  if (!fd) return Error::from_errno(errno, "dup(memory fd)");
  TRY(device_.memory().add_region(to_spec(r.region), std::move(fd)));
  remap_queues();
  return Reply();
}

Result<Backend::Reply> Backend::rem_mem_reg(const Message& m) {
  if (m.fds.size() > 1) TRY(expect_fds(m, 1));  // QEMU passes the region's fd along; it is not needed
  SingleRegion r = TRY(m.as<SingleRegion>());
  TRY(device_.memory().remove_region(to_spec(r.region)));
  remap_queues();
  return Reply();
}

Result<Backend::Reply> Backend::set_vring_num(const Message& m) {
  TRY(expect_fds(m, 0));
  VringState s = TRY(m.as<VringState>());
  size_t i = TRY(vring_index(s.index));
  TRY(device_.queue(i).set_size(s.num));
  return Reply();
}

Result<Backend::Reply> Backend::set_vring_addr(const Message& m) {
  TRY(expect_fds(m, 0));
  VringAddr a = TRY(m.as<VringAddr>());
  size_t i = TRY(vring_index(a.index));
  device_.queue(i).set_addresses({a.desc, a.avail, a.used});
  vrings_[i].addresses_set = true;
  TRY(device_.queue(i).remap());  // a started ring follows the new addresses
  return Reply();
}

Result<Backend::Reply> Backend::set_vring_base(const Message& m) {
  TRY(expect_fds(m, 0));
  VringState s = TRY(m.as<VringState>());
  size_t i = TRY(vring_index(s.index));
  if (s.num > 0xffff) return Error(strfmt("vring base %u does not fit 16 bits", s.num));
  if (device_.queue(i).started()) return Error(strfmt("vring %zu is running; stop it first", i));
  device_.queue(i).set_next_avail(static_cast<uint16_t>(s.num));
  return Reply();
}

Result<Backend::Reply> Backend::get_vring_base(const Message& m) {
  TRY(expect_fds(m, 0));
  VringState s = TRY(m.as<VringState>());
  size_t i = TRY(vring_index(s.index));
  stop_vring(i);
  // vhost-user.rst: GET_VRING_BASE stops the ring and returns the next avail index.
  return Reply(bytes_of(VringState{s.index, device_.queue(i).next_avail()}));
}

Result<Backend::Reply> Backend::set_vring_fd(const Message& m) {
  uint64_t v = TRY(m.as<uint64_t>());
  if (v & ~(kVringIndexMask | kVringNoFd))
    return Error(strfmt("unknown flag bits in 0x%llx", static_cast<unsigned long long>(v)));
  size_t i = TRY(vring_index(v & kVringIndexMask));
  bool no_fd = (v & kVringNoFd) != 0;
  TRY(expect_fds(m, no_fd ? 0 : 1));
  UniqueFd fd;
  if (!no_fd) fd = TRY(take_vring_fd(m.fds[0]));
  Vring& vr = vrings_[i];
  switch (m.header.request) {
    case kSetVringKick: {
      if (no_fd) return Error("polling mode (no kick fd) is not supported");
      if (vr.kick_watch) loop_.unwatch(vr.kick_watch);
      vr.kick = std::move(fd);
      // Edge-triggered: every write to an eventfd is a new edge, so a kick
      // needs no read() to clear it (one syscall less per request).
      vr.kick_watch = TRY(loop_.watch(vr.kick.get(), EPOLLIN | EPOLLET, [this, i](uint32_t) { on_kick(i); }));
      start_vring(i);
      break;
    }
    case kSetVringCall: {
      vr.call = std::move(fd);
      int call = vr.call.get();
      const std::function<void(int)>* observer = call_observer_;
      device_.queue(i).set_notifier(call < 0 ? std::function<void()>() : [call, observer] {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(call, &one, sizeof one);
        if (observer && *observer) (*observer)(call);
      });
      break;
    }
    default: vr.err = std::move(fd);
  }
  return Reply();
}

Result<Backend::Reply> Backend::set_vring_enable(const Message& m) {
  TRY(expect_fds(m, 0));
  VringState s = TRY(m.as<VringState>());
  size_t i = TRY(vring_index(s.index));
  if (s.num > 1) return Error(strfmt("SET_VRING_ENABLE with %u (0 or 1 expected)", s.num));
  vrings_[i].enabled = s.num == 1;
  // Buffers that came while the ring was disabled are served now.
  if (vrings_[i].enabled && device_.queue(i).started()) serve(i);
  return Reply();
}

Result<Backend::Reply> Backend::get_config(const Message& m) {
  TRY(expect_fds(m, 0));
  if (m.payload.size() < sizeof(ConfigHeader)) return m.size_error(sizeof(ConfigHeader));
  ConfigHeader h;
  std::memcpy(&h, m.payload.data(), sizeof h);
  if (h.size > kMaxConfigSize) return Error(strfmt("config read of %u bytes (at most %u)", h.size, kMaxConfigSize));
  if (m.payload.size() != sizeof h + h.size) return m.size_error(sizeof h + h.size);
  std::vector<uint8_t> data = TRY(device_.read_config(h.offset, h.size));
  std::vector<uint8_t> out = bytes_of(h);
  out.insert(out.end(), data.begin(), data.end());
  return Reply(std::move(out));
}

void Backend::start_vring(size_t i) {
  virtio::SplitQueue& q = device_.queue(i);
  Vring& vr = vrings_[i];
  // Without PROTOCOL_FEATURES a ring starts enabled (vhost-user.rst, "Ring states").
  if (!protocol_features_acked_) vr.enabled = true;
  if (!q.started()) {
    if (!vr.addresses_set) {
      LOG_WARN("device %s: vring %zu got a kick fd before its addresses; waiting for SET_VRING_ADDR", name_.c_str(), i);
      return;
    }
    if (auto r = q.start(); !r) {
      LOG_ERROR("device %s: cannot start vring %zu: %s", name_.c_str(), i, r.error().message().c_str());
      return;
    }
    if (vr.served_before && q.fresh() && no_other_ring_started(i)) {
      // The driver started over on new rings. A VM reset looks like this:
      // QEMU stops the rings (GET_VRING_BASE) and the rebooted guest sets
      // up fresh ones, with no RESET_DEVICE or SET_STATUS(0) in between. A
      // VM pause instead restarts the rings where they stopped. (A paused
      // ring whose indexes wrapped to exactly 0 looks fresh too: then the
      // lines go to their safe state early, never late.)
      LOG_INFO(
          "device %s: the driver started over on fresh rings (VM reset); what the old driver held goes "
          "back to its safe state",
          name_.c_str());
      device_.reset();
    }
    vr.served_before = true;
    device_.on_queue_started(i);
  }
  if (vr.enabled) serve(i);
}

bool Backend::no_other_ring_started(size_t i) const {
  for (size_t j = 0; j < vrings_.size(); ++j)
    if (j != i && device_.queue(j).started()) return false;
  return true;
}

void Backend::serve(size_t i) {
  if (!device_.on_queue_kick(i) || !vrings_[i].kick) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(vrings_[i].kick.get(), &one, sizeof one);
}

void Backend::serve_all() {
  for (size_t i = 0; i < vrings_.size(); ++i)
    if (device_.queue(i).started() && vrings_[i].enabled) serve(i);
}

void Backend::stop_vring(size_t i) {
  Vring& vr = vrings_[i];
  if (device_.queue(i).started()) device_.on_queue_stopping(i);
  device_.queue(i).stop();
  if (vr.kick_watch) loop_.unwatch(vr.kick_watch);
  vr.kick_watch = 0;
  vr.kick.reset();
}

void Backend::on_kick(size_t i) {
  virtio::SplitQueue& q = device_.queue(i);
  if (!q.started()) start_vring(i);  // vhost-user.rst: a kick starts the ring
  else if (vrings_[i].enabled && serve_on_kick_) serve(i);
  if (q.broken() && vrings_[i].err) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(vrings_[i].err.get(), &one, sizeof one);
  }
}

void Backend::reset_device() {
  device_.reset();
  for (size_t i = 0; i < vrings_.size(); ++i) {
    if (vrings_[i].kick_watch) loop_.unwatch(vrings_[i].kick_watch);
    device_.queue(i).stop();
    device_.queue(i).set_next_avail(0);
    device_.queue(i).set_notifier({});
    vrings_[i] = Vring{};
  }
  (void)device_.negotiate(0);
  status_ = 0;
}

}  // namespace vgpio::vhost
