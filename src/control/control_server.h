// The control socket: JSON lines for people and test harnesses. One request
// per line, one answer per line; `watch` turns the connection into a stream
// of change events. Runs on the daemon's main loop and reaches each device
// through that device's own loop, so a busy device never blocks the others.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/event_loop.h"
#include "base/peer.h"
#include "base/unix_socket.h"
#include "control/commands.h"
#include "gpio/gpio_device.h"
#include "sim/device_sim.h"
#include "sim/wire_board.h"

namespace vgpio::control {

struct ControlledDevice {
  GpioDevice* device;
  EventLoop* loop;
  std::string socket_path;
  sim::DeviceSim* sim = nullptr;  // its stimuli and wire ends
  bool created = false;           // made at run time by a control client
};

// Makes and removes devices at run time (the daemon does). A device lives as
// long as the control connection that made it, unless made to persist.
class DeviceMaker {
 public:
  virtual ~DeviceMaker() = default;
  // `owner` names the connection, `maker` who is at its other end; the
  // answer describes the device. An error's code gives its kind (EUSERS a
  // limit, EEXIST or EBUSY a name or line in use, EOPNOTSUPP not offered,
  // ENODEV no such device, EACCES not its maker); without one, create's is
  // a bad request and destroy's a conflict.
  virtual Result<nlohmann::json> create_device(const nlohmann::json& request, uint64_t owner, const Peer& maker) = 0;
  // Only its maker's user, root or the daemon's own user may destroy a device.
  virtual Result<void> destroy_device(const std::string& name, const Peer& by) = 0;
  // The connection `owner` closed: its devices go.
  virtual void owner_gone(uint64_t owner) = 0;
};

// A guest time a request names: "until" (ns since the guest's boot) or
// "for" (a duration from its time now); nullopt when it names neither.
struct GuestTime {
  std::optional<uint64_t> until;
  std::optional<sim::Nanos> after;
};
Result<GuestTime> guest_time_arg(const nlohmann::json& request);

// A request's duration field: "10ms", "250us", or a number of seconds (up
// to 1000); `fallback` when it is left out, else an error.
Result<sim::Nanos> duration_field(const nlohmann::json& request, const char* key,
                                  std::optional<sim::Nanos> fallback = {});

class ControlServer {
 public:
  // Longer request lines are refused (the connection stays usable).
  static constexpr size_t kMaxLine = 64 * 1024;
  // A client with this much unread is not read from until it catches up; a
  // watcher that falls this far behind the events is dropped. One answer
  // may be larger (a list of 65,535 lines is about 13 MB).
  static constexpr size_t kMaxBacklog = 1 << 20;
  // Connections at once, in all and per user: beyond them, a new one is
  // answered with an error and closed.
  static constexpr size_t kMaxClients = 64;
  static constexpr size_t kMaxClientsPerUser = 16;

  static Result<std::unique_ptr<ControlServer>> create(EventLoop& loop, std::string path, const SocketAccess& access,
                                                       std::vector<ControlledDevice> devices);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Thread-safe: sends a change of `device` to its watchers; call it on the
  // device's loop. Costs nothing when nobody watches.
  void publish(const GpioDevice& device, const LineChange& change);
  // The devices change when the config is reloaded. Main loop only.
  void set_devices(std::vector<ControlledDevice> devices) { devices_ = std::move(devices); }
  // The wires between devices, for wire, unwire and wires. Main loop only.
  void set_wires(sim::WireBoard* wires) { wires_ = wires; }
  void set_device_maker(DeviceMaker* maker) { maker_ = maker; }
  // Who may do what, besides root and the daemon's own user (who may do
  // anything). Applies to every request from now on. Main loop only.
  void set_grants(Grant observe, Grant act) { observe_ = std::move(observe), act_ = std::move(act); }
  // What `peer` may do; nullopt: nothing.
  std::optional<Role> role_of(const Peer& peer) const;
  // Test builds: what "sandbox-probe" tries, on the device's thread (the app
  // registers it; the control layer knows nothing of the sandbox).
  void set_sandbox_probe(std::function<nlohmann::json(const nlohmann::json& request)> probe) {
    probe_ = std::move(probe);
  }
  // What "status" answers besides the devices (the daemon's sandbox). Main loop only.
  void set_status(std::function<nlohmann::json()> status) { status_ = std::move(status); }
  const std::string& path() const { return path_; }
  // Whether a command has a handler here (every one of the table must).
  static bool handles(const std::string& command) { return handlers().count(command) != 0; }

 private:
  struct Client {
    uint64_t id = 0;  // owns the devices it creates
    Peer peer;        // as the kernel saw it connect
    UniqueFd fd;
    EventLoop::WatchId watch = 0;
    uint32_t events = EPOLLIN;
    std::string in;
    std::string out;
    size_t sent = 0;  // of out
    bool watching = false;
    std::optional<std::string> watch_device;  // nullopt: all devices
    std::set<std::string> guest_waits;        // devices whose clocks hold an alarm of this client
    bool closing = false;
    bool skipping = false;     // inside a request line that was too long
    bool read_closed = false;  // it sends no more; closed once answered
    bool paused() const { return read_closed || out.size() - sent > kMaxBacklog; }
  };
  // A command's handler: the request has passed check_request() already.
  using Handler = nlohmann::json (ControlServer::*)(Client&, const std::string& cmd, const nlohmann::json& request);
  static const std::unordered_map<std::string, Handler>& handlers();

  ControlServer(EventLoop& loop, std::string path, UniqueFd listener, std::vector<ControlledDevice> devices);
  void on_accept();
  // Answers a connection that may not stay, then closes it.
  void turn_away(UniqueFd fd, const Peer& peer, ErrorKind kind, const std::string& why);
  void on_readable(Client& client);
  void serve_requests(Client& client);
  void refuse_long_line(Client& client);
  void on_writable(Client& client);
  void update_watch(Client& client);
  void send(Client& client, const nlohmann::json& message, bool event = false);
  void close(Client& client, const char* why);
  // Gives this thread's CPU to whoever waits for it, at most once a wake-up.
  void let_guests_run();
  static nlohmann::json change_event(const std::string& device, const std::string& line_name,
                                     const LineChange& change);
  nlohmann::json answer(Client& client, const std::string& line);
  nlohmann::json execute(Client& client, const nlohmann::json& request);
  // {"ok": false, "error": ..., "error_kind": ...}: the answer to a request
  // that failed. The kind is the one its code names (see kind_of in
  // control_server.cpp), else `otherwise`.
  static nlohmann::json refusal(ErrorKind otherwise, const Error& e);
  static Error not_answering(const ControlledDevice& d);

  // device_commands.cpp: devices and their lines.
  Result<size_t> find_device(const nlohmann::json& request) const;
  Result<size_t> find_line(size_t device, const nlohmann::json& request) const;
  // Every device (or one), one call to each device's loop, all at once; a
  // device that does not answer in time is shown as not answering.
  nlohmann::json devices_json(std::optional<size_t> only = {}) const;
  nlohmann::json list(Client&, const std::string&, const nlohmann::json&);
  nlohmann::json status(Client&, const std::string&, const nlohmann::json&);
  nlohmann::json get_or_set(Client&, const std::string& cmd, const nlohmann::json& request);
  nlohmann::json watch(Client& client, const std::string&, const nlohmann::json& request);
  nlohmann::json create_or_destroy(Client& client, const std::string& cmd, const nlohmann::json& request);
  nlohmann::json sandbox_probe(Client&, const std::string&, const nlohmann::json& request);
  // sim_commands.cpp: stimuli and wires.
  nlohmann::json start_stimulus(Client&, const std::string& cmd, const nlohmann::json& request);
  nlohmann::json execute_wire(Client&, const std::string& cmd, const nlohmann::json& request);
  // time_commands.cpp: a device's guest time, stepped and waited for.
  nlohmann::json run_guest(Client&, const std::string&, const nlohmann::json& request);
  // A watch's "until": the client gets a "time" event once guest time reaches it.
  Result<void> wait_for_guest_time(Client& client, size_t device, GuestTime when);
  void forget_guest_waits(const Client& client);

  EventLoop& loop_;
  const std::string path_;
  UniqueFd listener_;
  SocketFile file_;  // removed with the server
  EventLoop::WatchId listen_watch_ = 0;
  std::vector<ControlledDevice> devices_;
  sim::WireBoard* wires_ = nullptr;
  DeviceMaker* maker_ = nullptr;
  std::function<nlohmann::json()> status_;
  std::function<nlohmann::json(const nlohmann::json&)> probe_;
  Grant observe_, act_;
  uint64_t next_client_id_ = 1;
  std::vector<std::unique_ptr<Client>> clients_;
  std::atomic<int> watchers_{0};  // read by device threads in publish()
  uint64_t guests_ran_at_ = 0;     // the loop's wake-up of the last let_guests_run()
};

// Nanoseconds since the epoch, for watch events and recordings.
int64_t epoch_ns(std::chrono::system_clock::time_point time);
// An ISO 8601 UTC timestamp with microseconds, for watch events.
std::string format_timestamp(std::chrono::system_clock::time_point time);

}  // namespace vgpio::control
