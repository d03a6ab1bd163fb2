#include "vhost_user/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.h"

namespace vgpio::vhost {

Result<std::unique_ptr<Server>> Server::create(EventLoop& loop, virtio::VirtioDevice& device, std::string device_name,
                                               Listener listener, std::string path) {
  std::unique_ptr<Server> server(
      new Server(loop, device, std::move(device_name), std::move(path), std::move(listener.fd)));
  server->file_ = std::move(listener.file);
  TRY(server->make_watches());
  TRY(server->watch_listener());
  return server;
}

Result<void> Server::make_watches() {
  deadline_ = TRY(Timer::create(loop_, [this] {
    LOG_WARN_LIMITED("device %s: the frontend sent part of a message and nothing more for %lld ms; cutting it off",
                     name_.c_str(), static_cast<long long>(kMessageDeadline.count()));
    disconnect("it stalled in the middle of a message");
  }));
  fault_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fault_fd_) return Error::from_errno(errno, "eventfd");
  fault_watch_ = TRY(loop_.watch(fault_fd_.get(), EPOLLIN, [this](uint32_t) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(fault_fd_.get(), &count, sizeof count);
    if (!device_.memory().faulted()) return;
    LOG_WARN_LIMITED(
        "device %s: the frontend shrank the guest memory it shared (an access faulted); cutting it off. "
        "Give QEMU memory it cannot shrink, such as memory-backend-memfd.",
        name_.c_str());
    disconnect("it took its guest memory away");
  }));
  device_.memory().set_fault_notifier(fault_fd_.get());
  return ok();
}

Result<void> Server::watch_listener() {
  listen_watch_ = TRY(loop_.watch(listener_.get(), EPOLLIN, [this](uint32_t) { on_accept(); }));
  return ok();
}

Result<std::unique_ptr<Server>> Server::create_client(EventLoop& loop, virtio::VirtioDevice& device,
                                                      std::string device_name, std::string path) {
  std::unique_ptr<Server> server(new Server(loop, device, std::move(device_name), std::move(path), UniqueFd()));
  Server* s = server.get();
  TRY(s->make_watches());
  s->retry_ = TRY(Timer::create(loop, [s] { s->try_connect(); }));
  s->retry_->arm(std::chrono::milliseconds(0));
  return server;
}

Server::Server(EventLoop& loop, virtio::VirtioDevice& device, std::string name, std::string path, UniqueFd listener)
    : loop_(loop), device_(device), name_(std::move(name)), path_(std::move(path)), listener_(std::move(listener)) {}

Server::~Server() {
  frontend_observer_ = nullptr;  // whoever watches is going away too
  disconnect("the daemon is stopping");
  if (listen_watch_) loop_.unwatch(listen_watch_);
  if (fault_watch_) loop_.unwatch(fault_watch_);
  device_.memory().set_fault_notifier(-1);
  file_ = SocketFile();  // the socket file goes now, before anyone reuses the path
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
  UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  // A frontend that reconnects at once can arrive before we have read the
  // old connection's end: if the old peer hung up, end that session first.
  if (connected()) {
    pollfd p{connection_.get(), POLLRDHUP, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) disconnect("it closed the connection");
  }
  if (connected()) {
    LOG_WARN(
        "device %s: refused a second frontend on %s: one is already connected. Stop the first VM, or give "
        "each VM its own device.",
        name_.c_str(), path_.c_str());
    return;  // closing the fd tells the newcomer
  }
  begin_session(std::move(fd));
}

void Server::begin_session(UniqueFd fd) {
  // Non-blocking: a frontend that stops halfway through a message, or never
  // reads its replies, must not hold the device thread.
  if (auto r = set_nonblocking(fd.get()); !r) {
    LOG_ERROR("device %s: cannot make the frontend connection non-blocking: %s", name_.c_str(),
              r.error().message().c_str());
    if (retry_) retry_->arm(kRetry);
    return;
  }
  auto watch = loop_.watch(fd.get(), EPOLLIN, [this](uint32_t events) { on_ready(events); });
  if (!watch) {
    LOG_ERROR("device %s: cannot watch the frontend connection: %s", name_.c_str(), watch.error().message().c_str());
    if (retry_) retry_->arm(kRetry);
    return;
  }
  connection_ = std::move(fd);
  connection_watch_ = watch.value();
  backend_ = std::make_unique<Backend>(device_, loop_, name_, &call_observer_);
  backend_->set_serve_on_kick(serve_on_kick_);
  LOG_INFO("device %s: frontend connected on %s", name_.c_str(), path_.c_str());
  if (frontend_observer_) frontend_observer_(true);
}

void Server::on_ready(uint32_t events) {
  if (events & EPOLLOUT) flush_replies();
  if (connected() && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_message();
}

// One message per call: the loop is level-triggered, so the next one comes
// around again after other devices' events had their turn.
void Server::on_message() {
  bool was_in_message = reader_.in_message();
  auto progress = reader_.read_some(connection_.get());
  if (!progress) {
    LOG_WARN_LIMITED("device %s: closing the frontend connection: %s", name_.c_str(),
                     progress.error().message().c_str());
    disconnect("its stream could not be parsed");
    return;
  }
  switch (progress.value()) {
    case MessageReader::Progress::Closed: disconnect("it closed the connection"); return;
    case MessageReader::Progress::Partial:
      if (!was_in_message && reader_.in_message()) deadline_->arm(kMessageDeadline);
      return;
    case MessageReader::Progress::Complete: break;
  }
  deadline_->disarm();
  Message message = reader_.take();
  if (backend_->handle(message, outbox_) == Backend::Outcome::Close) {
    disconnect("its session cannot go on, see the line before");
    return;
  }
  flush_replies();
}

void Server::flush_replies() {
  if (auto r = outbox_.flush(connection_.get()); !r) {
    LOG_WARN_LIMITED("device %s: %s", name_.c_str(), r.error().message().c_str());
    disconnect("its connection broke");
    return;
  }
  bool want = !outbox_.empty();
  if (want != want_writable_) loop_.modify(connection_watch_, want ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
  want_writable_ = want;
}

void Server::set_serve_on_kick(bool serve) {
  serve_on_kick_ = serve;
  if (backend_) backend_->set_serve_on_kick(serve);
}

void Server::serve_all() {
  if (backend_) backend_->serve_all();
}

void Server::disconnect(const char* why) {
  if (!connected()) return;
  loop_.unwatch(connection_watch_);
  connection_watch_ = 0;
  backend_.reset();  // resets the device: lines back to their safe state
  connection_.reset();
  deadline_->disarm();
  reader_ = MessageReader();
  outbox_ = Outbox();
  want_writable_ = false;
  LOG_INFO("device %s: frontend left (%s); lines back to their safe state, waiting for the next one", name_.c_str(),
           why);
  if (retry_) retry_->arm(kRetry);
  if (frontend_observer_) frontend_observer_(false);
}

}  // namespace vgpio::vhost
