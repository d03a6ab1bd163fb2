// The device socket. Either it listens and serves one frontend at a time (a
// second is refused with a log line while the first is connected), or it
// connects to a frontend that listens (QEMU's `-chardev socket,server=on`)
// and connects again whenever that goes away: the way to survive a restart of
// either side. The device is reset between frontends.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/event_loop.h"
#include "base/timer.h"
#include "base/unix_socket.h"
#include "vhost_user/backend.h"
#include "vhost_user/message_io.h"
#include "vhost_user/outbox.h"

namespace vgpio::vhost {

class Server {
 public:
  // Serves `listener` (its file, if any, goes with the server; a socket
  // handed over by systemd or --fd comes without one). `path` is for logs.
  static Result<std::unique_ptr<Server>> create(EventLoop& loop, virtio::VirtioDevice& device, std::string device_name,
                                                Listener listener, std::string path);
  // Connects to `path` instead of listening, retrying until it can.
  static Result<std::unique_ptr<Server>> create_client(EventLoop& loop, virtio::VirtioDevice& device,
                                                       std::string device_name, std::string path);
  ~Server();  // closes the session and removes the socket file (if it has one)
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool connected() const { return connection_.valid(); }
  // Called on the loop thread when a frontend arrives (true) or leaves.
  void set_frontend_observer(std::function<void(bool)> observer) { frontend_observer_ = std::move(observer); }
  const std::string& path() const { return path_; }
  // Works on every running queue as a kick would (see Backend::serve_all).
  void serve_all();
  // Whether kicks make the device work (see Backend::set_serve_on_kick), for
  // this session and the next.
  void set_serve_on_kick(bool serve);
  // Hears of each call eventfd written, with the fd; on the loop thread.
  void set_call_observer(std::function<void(int)> observer) { call_observer_ = std::move(observer); }
  // Ends the current session, if any (as if the frontend had left).
  void disconnect(const char* why);

 private:
  static constexpr std::chrono::milliseconds kRetry{250};
  // A message must arrive whole within this, however the frontend splits it.
  static constexpr std::chrono::milliseconds kMessageDeadline{1000};
  Server(EventLoop& loop, virtio::VirtioDevice& device, std::string name, std::string path, UniqueFd listener);
  Result<void> make_watches();
  Result<void> watch_listener();
  void on_accept();
  void try_connect();
  void begin_session(UniqueFd fd);
  void on_ready(uint32_t events);
  void on_message();
  // Sends queued replies; asks for EPOLLOUT while some remain.
  void flush_replies();

  EventLoop& loop_;
  virtio::VirtioDevice& device_;
  const std::string name_;
  const std::string path_;
  UniqueFd listener_;
  EventLoop::WatchId listen_watch_ = 0;
  UniqueFd connection_;
  EventLoop::WatchId connection_watch_ = 0;
  std::function<void(int)> call_observer_;  // before backend_, which refers to it
  bool serve_on_kick_ = true;
  std::unique_ptr<Backend> backend_;
  MessageReader reader_;
  Outbox outbox_;
  bool want_writable_ = false;
  std::unique_ptr<Timer> deadline_;  // a message that started arriving must end in time
  UniqueFd fault_fd_;                // the frontend shrank the guest memory (memory_fault.h)
  EventLoop::WatchId fault_watch_ = 0;
  SocketFile file_;               // removed with the server
  std::unique_ptr<Timer> retry_;  // client mode only
  std::function<void(bool)> frontend_observer_;
  bool waiting_logged_ = false;
};

}  // namespace vgpio::vhost
