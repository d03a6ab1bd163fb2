#include "restart/carryover.h"

#include "base/log.h"
#include "base/strings.h"
#include "lines/line_request.h"

namespace vgpio::restart {
namespace {

constexpr std::string_view kLine = "line.", kState = "state.";

// "line.<safe>.<offset>.<chip path>"
bool parse_request_name(const std::string& name, lines::HostLineRef& ref, bool& safe_level) {
  if (name.rfind(kLine, 0) != 0 || name.size() < kLine.size() + 4) return false;
  size_t at = kLine.size();
  if ((name[at] != '0' && name[at] != '1') || name[at + 1] != '.') return false;
  safe_level = name[at] == '1';
  at += 2;
  size_t dot = name.find('.', at);
  if (dot == std::string::npos || dot == at) return false;
  char* end = nullptr;
  unsigned long offset = std::strtoul(name.c_str() + at, &end, 10);
  if (end != name.c_str() + dot || offset > 0xffff) return false;
  ref = lines::HostLineRef{name.substr(dot + 1), static_cast<unsigned>(offset)};
  return !ref.chip_path.empty() && ref.chip_path[0] == '/';
}

std::vector<std::string> line_names(const gpio::GpioDevice& device) {
  std::vector<std::string> names;
  for (size_t i = 0; i < device.line_count(); ++i) names.push_back(device.line_name(i));
  return names;
}

}  // namespace

std::vector<std::string> Carryover::kept_prefixes() { return {std::string(kLine), std::string(kState)}; }

std::string Carryover::request_name(const lines::HostLineRef& ref, bool safe_level) {
  return strfmt("line.%d.%u.%s", safe_level ? 1 : 0, ref.offset, ref.chip_path.c_str());
}

Carryover::Carryover(std::shared_ptr<service::FdStore> store, service::StoredFds kept) : store_(std::move(store)) {
  handed_over_ = kept.size();
  for (auto& [name, fd] : kept.leftovers()) {
    lines::HostLineRef ref;
    bool safe = false;
    if (parse_request_name(name, ref, safe)) {
      LineKey key{ref.chip_path, ref.offset};
      stored_[key] = name;
      // Checked now, while /proc is there to say what the fd is: whatever
      // the store holds, nothing is driven through a request for another line.
      auto checked = lines::check_request_is_for(fd.get(), ref);
      if (checked) requests_[key] = KeptRequest{name, std::move(fd), ""};
      else requests_[key] = KeptRequest{name, UniqueFd(), checked.error().message()};
    } else if (name.rfind(kState, 0) == 0) {
      kept_.add(name, std::move(fd));
    } else {
      LOG_WARN("the service manager handed over an fd named \"%s\", which is not vgpio's; closing it", name.c_str());
      (void)store_->drop(name);
    }
  }
  if (handed_over_ > 0)
    LOG_INFO("carrying on from the previous vgpio: %zu line requests and %zu device states kept", requests_.size(),
             kept_.size());
}

void Carryover::keep(const lines::HostLineRef& ref, bool safe_level, int fd) {
  std::string name = request_name(ref, safe_level);
  std::lock_guard lock(mutex_);
  auto& stored = stored_[{ref.chip_path, ref.offset}];
  if (stored == name) return;                       // adopted, and in the store already
  if (!stored.empty()) (void)store_->drop(stored);  // adopted, with another safe level now
  stored = name;
  if (auto r = store_->keep(name, fd); !r)
    LOG_WARN_LIMITED("%s line %u: not kept for a restart: %s; a restart of vgpio releases it", ref.chip_path.c_str(),
                     ref.offset, r.error().message().c_str());
}

void Carryover::drop(const lines::HostLineRef& ref) {
  std::lock_guard lock(mutex_);
  auto it = stored_.find({ref.chip_path, ref.offset});
  if (it == stored_.end()) return;
  (void)store_->drop(it->second);
  stored_.erase(it);
}

Result<UniqueFd> Carryover::adopt(const lines::HostLineRef& ref) {
  std::lock_guard lock(mutex_);
  auto it = requests_.find({ref.chip_path, ref.offset});
  if (it == requests_.end()) return UniqueFd();
  KeptRequest kept = std::move(it->second);
  requests_.erase(it);
  if (!kept.refused.empty()) return Error(kept.refused);
  return std::move(kept.fd);
}

void Carryover::resume_device(gpio::GpioDevice& device) {
  if (!enabled()) return;
  std::string name = std::string(kState) + device.name();
  std::unique_ptr<gpio::SavedState> state;
  bool restore = false;
  std::string why;
  UniqueFd kept;
  {
    std::lock_guard lock(mutex_);
    kept = kept_.take(name);
  }
  if (kept) {
    auto opened = gpio::SavedState::open(std::move(kept), device.name(), line_names(device));
    if (opened) state = opened.release_value(), restore = true;
    else why = opened.error().message();
    if (!opened) (void)store_->drop(name);
  } else if (handed_over_ > 0 && !settled_) {
    why = "the previous vgpio kept no state for it";
  }
  if (!state) {
    auto made = gpio::SavedState::create(device.name(), line_names(device));
    if (!made) {
      LOG_WARN("device %s: %s; a restart of vgpio resets its lines", device.name().c_str(),
               made.error().message().c_str());
      return;
    }
    state = made.release_value();
  }
  if (!restore)  // a restored state is in the store already
    if (auto r = store_->keep(name, state->fd()); !r)
      LOG_WARN("device %s: its state is not kept for a restart: %s", device.name().c_str(),
               r.error().message().c_str());
  device.resume(std::move(state), restore, why);
  std::lock_guard lock(mutex_);
  for (const auto& note : device.restart_notes()) report_.push_back("device " + device.name() + ": " + note);
}

void Carryover::forget_device(const std::string& device) {
  if (enabled()) (void)store_->drop(std::string(kState) + device);
}

void Carryover::settle_leftovers() {
  std::map<LineKey, KeptRequest> left;
  {
    std::lock_guard lock(mutex_);
    left = std::exchange(requests_, {});
    for (auto& [name, fd] : kept_.leftovers()) (void)store_->drop(name);
  }
  std::vector<std::string> settled;
  settled_ = true;
  for (auto& [key, kept] : left) {
    lines::HostLineRef ref;
    bool safe = false;
    parse_request_name(kept.name, ref, safe);
    std::string what = strfmt("%s line %u: no longer in the config; ", ref.chip_path.c_str(), ref.offset);
    {
      auto request = kept.refused.empty() ? lines::adopt_request(std::move(kept.fd))
                                          : Result<std::unique_ptr<lines::LineRequest>>(Error(kept.refused));
      auto is_output = lines::line_is_output(ref);  // unknown (gone, not ours to open): released as it is
      bool output = is_output && is_output.value();
      Result<void> set = output && request ? request.value()->set(safe) : Result<void>(ok());
      if (output && request && set) what += strfmt("set to its safe level %d and released", safe);
      else if (!request) what += "refused (" + request.error().message() + "); closed, nothing driven through it";
      else if (!set) what += "could not set its safe level (" + set.error().message() + "); released";
      else if (!is_output) what += "released as it is (" + is_output.error().message() + ")";
      else what += "released";
    }  // our copy closes here, before the store lets go of its own
    {
      std::lock_guard lock(mutex_);
      stored_.erase(key);
    }
    (void)store_->drop(kept.name);
    LOG_INFO("%s", what.c_str());
    settled.push_back(what);
  }
  std::lock_guard lock(mutex_);
  report_.insert(report_.end(), settled.begin(), settled.end());
}

std::vector<std::string> Carryover::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

}  // namespace vgpio::restart
