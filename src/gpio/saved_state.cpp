#include "gpio/saved_state.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/strings.h"
#include "gpio/protocol.h"

namespace vgpio::gpio {

struct SavedState::Header {
  char magic[8];
  uint32_t version;
  uint32_t line_count;
  uint64_t lines_hash;  // the device's name and line names: a changed line set starts clean
  uint16_t event_next_avail;
  uint8_t event_next_avail_valid;
  uint8_t reserved[5];
};

namespace {
constexpr char kMagic[8] = {'v', 'g', 'p', 'i', 'o', 's', 't', '\n'};
constexpr uint32_t kVersion = 1;

uint64_t hash_of(const std::string& device, const std::vector<std::string>& names) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto add = [&h](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator no name holds
  };
  add(device);
  for (const auto& n : names) add(n);
  return h;
}

size_t size_for(size_t count) { return sizeof(SavedState::Line) * count + 64; }

bool line_is_valid(const SavedState::Line& l) {
  using namespace gpio;
  bool direction = l.direction == kDirectionNone || l.direction == kDirectionIn || l.direction == kDirectionOut;
  bool buffer_without_irq = (l.flags & SavedState::kHoldsBuffer) && l.irq_type == kIrqNone;
  return direction && l.value <= 1 && (l.irq_type == kIrqNone || is_valid_irq_type(l.irq_type)) &&
         (l.flags & ~(SavedState::kEdgePending | SavedState::kHoldsBuffer | SavedState::kDrivenHigh)) == 0 &&
         !buffer_without_irq && !(l.direction == kDirectionOut && l.irq_type != kIrqNone);
}
}  // namespace

SavedState::SavedState(UniqueFd fd, void* map, size_t size, size_t count)
    : fd_(std::move(fd)),
      map_(map),
      size_(size),
      count_(count),
      header_(static_cast<Header*>(map)),
      lines_(reinterpret_cast<Line*>(static_cast<char*>(map) + 64)) {
  static_assert(sizeof(Header) <= 64);
}

SavedState::~SavedState() { munmap(map_, size_); }

Result<std::unique_ptr<SavedState>> SavedState::create(const std::string& device,
                                                       const std::vector<std::string>& names) {
  UniqueFd fd(memfd_create(("vgpio-state-" + device).c_str(), MFD_CLOEXEC));
  if (!fd) return Error::from_errno(errno, "memfd_create for device " + device + "'s saved state");
  size_t size = size_for(names.size());
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return Error::from_errno(errno, "sizing device " + device + "'s saved state");
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) return Error::from_errno(errno, "mapping device " + device + "'s saved state");
  std::unique_ptr<SavedState> s(new SavedState(std::move(fd), map, size, names.size()));
  std::memcpy(s->header_->magic, kMagic, sizeof kMagic);
  s->header_->version = kVersion;
  s->header_->line_count = static_cast<uint32_t>(names.size());
  s->header_->lines_hash = hash_of(device, names);
  for (size_t i = 0; i < names.size(); ++i) s->lines_[i] = Line{gpio::kDirectionNone, 0, gpio::kIrqNone, 0, 0, 0};
  return s;
}

Result<std::unique_ptr<SavedState>> SavedState::open(UniqueFd fd, const std::string& device,
                                                     const std::vector<std::string>& names) {
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Error("the kept state is not a memfd");
  Header h{};
  if (pread(fd.get(), &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) ||
      std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion)
    return Error("the kept state is corrupt (no vgpio state of this version)");
  if (h.line_count != names.size() || h.lines_hash != hash_of(device, names))
    return Error("the device's lines changed since the state was kept");
  size_t size = size_for(names.size());
  if (static_cast<size_t>(st.st_size) != size)
    return Error(strfmt("the kept state is corrupt (%lld bytes, not the %zu of a device with %zu lines)",
                        static_cast<long long>(st.st_size), size, names.size()));
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) return Error::from_errno(errno, "mapping the kept state");
  std::unique_ptr<SavedState> s(new SavedState(std::move(fd), map, size, names.size()));
  for (size_t i = 0; i < names.size(); ++i)
    if (!line_is_valid(s->lines_[i])) return Error(strfmt("the kept state is corrupt (line %zu)", i));
  return s;
}

bool SavedState::has_event_next_avail() const { return header_->event_next_avail_valid == 1; }
uint16_t SavedState::event_next_avail() const { return header_->event_next_avail; }
void SavedState::set_event_next_avail(uint16_t index) {
  header_->event_next_avail = index;
  header_->event_next_avail_valid = 1;
}
void SavedState::clear_event_next_avail() { header_->event_next_avail_valid = 0; }

}  // namespace vgpio::gpio
