#include "driver/driver_queue.h"

#include <atomic>
#include <cstring>

#include "base/strings.h"

namespace vgpio::driver {

using namespace virtio::ring;

namespace {
constexpr size_t kMaxIndirect = 16;

uint16_t load16(const uint8_t* p) {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)))
      .load(std::memory_order_relaxed);
}
void store16(uint8_t* p, uint16_t v) {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, std::memory_order_relaxed);
}
}  // namespace

Result<std::unique_ptr<DriverQueue>> DriverQueue::create(SharedMemory& memory, uint16_t size) {
  if (size == 0 || (size & (size - 1)) != 0) return Error(strfmt("queue size %u is not a power of two", size));
  uint64_t desc = TRY(memory.alloc(desc_table_size(size), kDescAlign));
  uint64_t avail = TRY(memory.alloc(avail_ring_size(size), kAvailAlign));
  uint64_t used = TRY(memory.alloc(used_ring_size(size), kUsedAlign));
  return std::unique_ptr<DriverQueue>(new DriverQueue(memory, size, desc, avail, used));
}

DriverQueue::DriverQueue(SharedMemory& memory, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
    : mem_(memory), size_(size), desc_(desc), avail_(avail), used_(used), chains_(size), indirect_tables_(size, 0) {
  for (int i = size - 1; i >= 0; --i) free_.push_back(static_cast<uint16_t>(i));
}

void DriverQueue::write_desc(uint16_t index, const Desc& d) {
  std::memcpy(mem_.at(desc_ + 16ull * index), &d, sizeof d);
}

void DriverQueue::write_avail_entry(uint16_t slot, uint16_t head) {
  store16(mem_.at(avail_ + kAvailRing + 2ull * (slot % size_)), head);
}

void DriverQueue::set_avail_idx(uint16_t idx) {
  // §2.7.13: ring entries must be visible before the index that publishes them.
  std::atomic_thread_fence(std::memory_order_release);
  avail_idx_ = idx;
  store16(mem_.at(avail_ + kAvailIdx), idx);
}

void DriverQueue::publish(uint16_t head) {
  write_avail_entry(avail_idx_, head);
  set_avail_idx(static_cast<uint16_t>(avail_idx_ + 1));
}

uint16_t DriverQueue::used_idx_in_ring() const { return load16(mem_.at(used_ + kUsedIdx)); }

Result<uint16_t> DriverQueue::add(std::span<const Buffer> buffers, bool indirect) {
  if (buffers.empty()) return Error("a chain needs at least one buffer");
  size_t needed = indirect ? 1 : buffers.size();
  if (free_.size() < needed) return Error("no free descriptors");
  if (indirect && buffers.size() > kMaxIndirect) return Error("indirect chain too long");
  uint16_t head = free_.back();
  std::vector<uint16_t>& ids = chains_[head];  // kept between uses: no allocation once warm
  ids.clear();
  for (size_t i = 0; i < needed; ++i) {
    ids.push_back(free_.back());
    free_.pop_back();
  }
  if (indirect) {
    if (!indirect_tables_[head]) indirect_tables_[head] = TRY(mem_.alloc(kMaxIndirect * sizeof(Desc), kDescAlign));
    uint64_t table = indirect_tables_[head];
    for (size_t i = 0; i < buffers.size(); ++i) {
      Desc d{buffers[i].gpa, buffers[i].len, static_cast<uint16_t>(buffers[i].writable ? kDescWrite : 0),
             static_cast<uint16_t>(i + 1)};
      if (i + 1 < buffers.size()) d.flags |= kDescNext;
      std::memcpy(mem_.at(table + i * sizeof(Desc)), &d, sizeof d);
    }
    write_desc(head, Desc{table, static_cast<uint32_t>(buffers.size() * sizeof(Desc)), kDescIndirect, 0});
  } else {
    for (size_t i = 0; i < buffers.size(); ++i) {
      Desc d{buffers[i].gpa, buffers[i].len, static_cast<uint16_t>(buffers[i].writable ? kDescWrite : 0), 0};
      if (i + 1 < buffers.size()) {
        d.flags |= kDescNext;
        d.next = ids[i + 1];
      }
      write_desc(ids[i], d);
    }
  }
  publish(head);
  return head;
}

std::optional<Used> DriverQueue::pop_used() {
  uint16_t used_idx = load16(mem_.at(used_ + kUsedIdx));
  if (used_idx == last_used_) return std::nullopt;
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint8_t* elem = mem_.at(used_ + kUsedRing + 8ull * (last_used_ % size_));
  Used u;
  uint32_t id;
  std::memcpy(&id, elem, 4);
  std::memcpy(&u.len, elem + 4, 4);
  u.id = static_cast<uint16_t>(id);
  ++last_used_;
  if (id < size_) {
    for (uint16_t d : chains_[id]) free_.push_back(d);
    chains_[id].clear();
  }
  return u;
}

void DriverQueue::reset() {
  std::memset(mem_.at(desc_), 0, desc_table_size(size_));
  std::memset(mem_.at(avail_), 0, avail_ring_size(size_));
  std::memset(mem_.at(used_), 0, used_ring_size(size_));
  avail_idx_ = last_used_ = kicked_avail_ = 0;
  free_.clear();
  for (int i = size_ - 1; i >= 0; --i) free_.push_back(static_cast<uint16_t>(i));
  for (auto& c : chains_) c.clear();
}

bool DriverQueue::kick_needed() {
  // The avail index must be visible before we read the device's wishes.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint16_t old = kicked_avail_;
  kicked_avail_ = avail_idx_;
  if (event_idx_) return need_event(load16(mem_.at(used_ + used_avail_event(size_))), avail_idx_, old);
  return !(load16(mem_.at(used_ + kUsedFlags)) & kUsedNoNotify);
}

bool DriverQueue::rearm_interrupts() {
  if (!event_idx_) return false;
  store16(mem_.at(avail_ + avail_used_event(size_)), last_used_);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return load16(mem_.at(used_ + kUsedIdx)) != last_used_;
}

}  // namespace vgpio::driver
