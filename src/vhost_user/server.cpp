#include "vhost_user/server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"

namespace vgpio::vhost {

Result<std::unique_ptr<Server>> Server::create(EventLoop& loop, VirtioDevice& device, std::string device_name,
                                               std::string path, const SocketAccess& access) {
  UniqueFd listener = TRY(listen_unix(path, access));
  std::unique_ptr<Server> server(
      new Server(loop, device, std::move(device_name), std::move(path), std::move(listener)));
  server->owns_path_ = true;
  TRY(server->watch_listener());
  return server;
}

Result<std::unique_ptr<Server>> Server::create_adopted(EventLoop& loop, VirtioDevice& device,
                                                       std::string device_name, UniqueFd listener, std::string path) {
  std::unique_ptr<Server> server(
      new Server(loop, device, std::move(device_name), std::move(path), std::move(listener)));
  TRY(server->watch_listener());
  return server;
}

Result<void> Server::watch_listener() {
  listen_watch_ = TRY(loop_.watch(listener_.get(), EPOLLIN, [this](uint32_t) { on_accept(); }));
  return ok();
}

Result<std::unique_ptr<Server>> Server::create_client(EventLoop& loop, VirtioDevice& device,
                                                      std::string device_name, std::string path) {
  std::unique_ptr<Server> server(new Server(loop, device, std::move(device_name), std::move(path), UniqueFd()));
  Server* s = server.get();
  s->retry_ = TRY(Timer::create(loop, [s] { s->try_connect(); }));
  s->retry_->arm(std::chrono::milliseconds(0));
  return server;
}

Server::Server(EventLoop& loop, VirtioDevice& device, std::string name, std::string path, UniqueFd listener)
    : loop_(loop), device_(device), name_(std::move(name)), path_(std::move(path)), listener_(std::move(listener)) {}

Server::~Server() {
  frontend_observer_ = nullptr;  // whoever watches is going away too
  disconnect("the daemon is stopping");
  if (listen_watch_) loop_.unwatch(listen_watch_);
  if (owns_path_) unlink(path_.c_str());
}

void Server::try_connect() {
  auto fd = connect_unix(path_);
  if (!fd) {
    if (!waiting_logged_)
      LOG_INFO("device %s: waiting for a frontend to listen on %s (%s); retrying every %lld ms", name_.c_str(),
               path_.c_str(), fd.error().message().c_str(), static_cast<long long>(kRetry.count()));
    waiting_logged_ = true;
    retry_->arm(kRetry);
    return;
  }
  waiting_logged_ = false;
  begin_session(fd.release_value());
}

void Server::on_accept() {
  UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) return;
  // A frontend that reconnects at once can arrive before we have read the
  // old connection's end: if the old peer hung up, end that session first.
  if (connected()) {
    pollfd p{connection_.get(), POLLRDHUP, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) disconnect("it closed the connection");
  }
  if (connected()) {
    LOG_WARN("device %s: refused a second frontend on %s: one is already connected. Stop the first VM, or give "
             "each VM its own device.",
             name_.c_str(), path_.c_str());
    return;  // closing the fd tells the newcomer
  }
  begin_session(std::move(fd));
}

void Server::begin_session(UniqueFd fd) {
  // A frontend that stops halfway through a message must not hang the device.
  timeval timeout{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this](uint32_t) { on_message(); });
  if (!watch) {
    LOG_ERROR("device %s: cannot watch the frontend connection: %s", name_.c_str(), watch.error().message().c_str());
    if (retry_) retry_->arm(kRetry);
    return;
  }
  connection_ = std::move(fd);
  connection_watch_ = watch.value();
  backend_ = std::make_unique<Backend>(device_, loop_, name_);
  LOG_INFO("device %s: frontend connected on %s", name_.c_str(), path_.c_str());
  if (frontend_observer_) frontend_observer_(true);
}

void Server::on_message() {
  auto message = read_message(connection_.get());
  if (!message) {
    LOG_WARN("device %s: closing the frontend connection: %s", name_.c_str(), message.error().message().c_str());
    disconnect("its stream could not be parsed");
    return;
  }
  if (!message.value()) {
    disconnect("it closed the connection");
    return;
  }
  if (backend_->handle(*message.value(), connection_.get()) == Backend::Outcome::Close)
    disconnect("it sent a message that cannot be answered");
}

void Server::disconnect(const char* why) {
  if (!connected()) return;
  loop_.unwatch(connection_watch_);
  connection_watch_ = 0;
  backend_.reset();  // resets the device: lines back to their safe state
  connection_.reset();
  LOG_INFO("device %s: frontend left (%s); lines back to their safe state, waiting for the next one", name_.c_str(), why);
  if (retry_) retry_->arm(kRetry);
  if (frontend_observer_) frontend_observer_(false);
}

}  // namespace vgpio::vhost
