// The device socket: listens, serves one frontend at a time (a second is
// refused with a log line while the first is connected), and goes back to
// listening when the frontend leaves. The device is reset in between.
#pragma once

#include <memory>
#include <string>

#include "base/event_loop.h"
#include "base/unix_socket.h"
#include "vhost_user/backend.h"

namespace vgpio::vhost {

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(EventLoop& loop, VirtioDevice& device, std::string device_name,
                                                std::string path, const SocketAccess& access);
  ~Server();  // closes the session and removes the socket file
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool connected() const { return connection_.valid(); }
  const std::string& path() const { return path_; }
  // Ends the current session, if any (as if the frontend had left).
  void disconnect(const char* why);

 private:
  Server(EventLoop& loop, VirtioDevice& device, std::string name, std::string path, UniqueFd listener);
  void on_accept();
  void on_message();

  EventLoop& loop_;
  VirtioDevice& device_;
  const std::string name_;
  const std::string path_;
  UniqueFd listener_;
  EventLoop::WatchId listen_watch_ = 0;
  UniqueFd connection_;
  EventLoop::WatchId connection_watch_ = 0;
  std::unique_ptr<Backend> backend_;
};

}  // namespace vgpio::vhost
