// One vhost-user session: the messages of one connected frontend applied to a
// VirtioDevice. Every message is checked for size and fd count before it is
// used. Lives on the device's event loop thread.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "vhost_user/message_io.h"
#include "vhost_user/outbox.h"
#include "virtio/device.h"

namespace vgpio::vhost {

class Backend {
 public:
  // Everything we implement. BACKEND_REQ and the log/inflight features are not offered.
  static constexpr uint64_t kProtocolFeatures =
      kProtoMq | kProtoReplyAck | kProtoConfig | kProtoResetDevice | kProtoConfigureMemSlots | kProtoStatus;

  // `call_observer` (null, or a function that may be empty and outlives this;
  // its owner may change it) hears of each call eventfd written, with the fd.
  // A pointer, so that a temporary cannot bind to it.
  Backend(virtio::VirtioDevice& device, EventLoop& loop, std::string device_name,
          const std::function<void(int)>* call_observer);
  // The frontend is gone: the device goes back to its initial state.
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  enum class Outcome { Continue, Close };
  // Applies one message and queues its reply, if any, in `out`.
  Outcome handle(const Message& message, Outbox& out);
  // Works on every running queue as a kick would (a guest-time hold: what the
  // guest asked before it is answered at it).
  void serve_all();
  // With false, a kick no longer makes the device work on its queue (a
  // device on guest time works at holds only, serve_all()).
  void set_serve_on_kick(bool serve) { serve_on_kick_ = serve; }

 private:
  struct Vring {
    UniqueFd kick;
    UniqueFd call;
    UniqueFd err;
    EventLoop::WatchId kick_watch = 0;
    bool enabled = false;
    bool addresses_set = false;
    bool served_before = false;  // started at least once on this connection
  };
  using Reply = std::optional<std::vector<uint8_t>>;

  Result<Reply> dispatch(const Message& m);
  Result<size_t> vring_index(uint64_t index) const;

  Result<Reply> set_features(const Message& m);
  Result<Reply> set_mem_table(const Message& m);
  Result<Reply> add_mem_reg(const Message& m);
  Result<Reply> rem_mem_reg(const Message& m);
  Result<Reply> set_vring_num(const Message& m);
  Result<Reply> set_vring_addr(const Message& m);
  Result<Reply> set_vring_base(const Message& m);
  Result<Reply> get_vring_base(const Message& m);
  Result<Reply> set_vring_fd(const Message& m);
  Result<Reply> set_vring_enable(const Message& m);
  Result<Reply> get_config(const Message& m);

  void remap_queues();
  void start_vring(size_t i);
  bool no_other_ring_started(size_t i) const;
  void stop_vring(size_t i);
  void on_kick(size_t i);
  // Lets the device work on queue i, and comes back later if it stopped with
  // work left (through its own kick fd, so other events go first).
  void serve(size_t i);
  void reset_device();

  virtio::VirtioDevice& device_;
  EventLoop& loop_;
  const std::string name_;
  const std::function<void(int)>* call_observer_;
  std::vector<Vring> vrings_;
  uint64_t protocol_features_ = 0;
  bool protocol_features_acked_ = false;  // virtio bit 30 accepted in SET_FEATURES
  bool owner_ = false;
  uint64_t status_ = 0;
  bool serve_on_kick_ = true;
};

}  // namespace vgpio::vhost
