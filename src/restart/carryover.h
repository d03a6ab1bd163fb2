// What one vgpio process hands the next across a restart, through the
// service manager's fd store (service/fd_store.h):
// - "line.<safe level>.<offset>.<chip path>": a line request, so the line is
//   never released (see lines/request_keeper.h);
// - "state.<device>": a device's saved guest state (gpio/saved_state.h).
// A started process takes what the previous one kept: each host line adopts
// its request, each device restores its state before it is served, and what
// the new config no longer has goes to its safe level and is released.
// Thread-safe: device threads keep and drop requests as guests use lines.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpio/gpio_device.h"
#include "lines/request_keeper.h"
#include "service/fd_store.h"

namespace vgpio::restart {

class Carryover final : public lines::RequestKeeper {
 public:
  // `kept`: what the manager handed over at start-up (may be empty).
  Carryover(std::shared_ptr<service::FdStore> store, service::StoredFds kept);

  bool enabled() const { return store_->enabled(); }

  // RequestKeeper
  void keep(const lines::HostLineRef& ref, bool safe_level, int fd) override;
  void drop(const lines::HostLineRef& ref) override;
  Result<UniqueFd> adopt(const lines::HostLineRef& ref) override;

  // Before `device` is served: restores what the previous process kept of
  // it, or starts it clean (saying why), and keeps its state from now on.
  void resume_device(gpio::GpioDevice& device);
  // The device is stopped for good (not by a restart): its state goes.
  void forget_device(const std::string& device);
  // Once every device of the config is made: kept requests nobody adopted
  // (lines the config no longer has) go to their safe level and are
  // released, each logged and reported.
  void settle_leftovers();
  // What happened at start-up, for `vgpio ctl status`.
  std::vector<std::string> report() const;

  static std::string request_name(const lines::HostLineRef& ref, bool safe_level);
  // The names this class gives what it keeps, for service::take_listen_fds.
  static std::vector<std::string> kept_prefixes();

 private:
  std::shared_ptr<service::FdStore> store_;
  mutable std::mutex mutex_;
  struct KeptRequest {
    std::string name;
    UniqueFd fd;
    std::string refused;  // why it is not the request its name says (then no fd)
  };
  using LineKey = std::pair<std::string, unsigned>;  // chip path, offset
  std::map<LineKey, KeptRequest> requests_;          // handed over, not adopted yet
  std::map<LineKey, std::string> stored_;            // in the store now, by name
  service::StoredFds kept_;                          // the rest: device states
  std::vector<std::string> report_;
  size_t handed_over_ = 0;
  bool settled_ = false;  // start-up is over: devices made later start clean, quietly
};

}  // namespace vgpio::restart
