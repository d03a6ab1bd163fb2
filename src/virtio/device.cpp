#include "virtio/device.h"

#include <algorithm>

#include "base/strings.h"
#include "virtio/ring_layout.h"

namespace vgpio::virtio {

VirtioDevice::VirtioDevice(size_t num_queues) {
  for (size_t i = 0; i < num_queues; ++i) queues_.push_back(std::make_unique<SplitQueue>(memory_, i));
  yield_habits_.resize(num_queues);
}

uint64_t VirtioDevice::offered_features() const {
  return device_features() | ring::kFeatureVersion1 | ring::kFeatureIndirectDesc | ring::kFeatureEventIdx;
}

Result<void> VirtioDevice::negotiate(uint64_t features) {
  uint64_t unknown = features & ~offered_features();
  if (unknown != 0)
    return Error(
        strfmt("driver accepted features 0x%llx that were not offered", static_cast<unsigned long long>(unknown)));
  features_ = features;
  for (auto& q : queues_) {
    q->set_event_idx(has_feature(ring::kFeatureEventIdx));
    q->set_indirect(has_feature(ring::kFeatureIndirectDesc));
  }
  return ok();
}

Result<std::vector<uint8_t>> VirtioDevice::read_config(uint32_t offset, uint32_t size) const {
  std::vector<uint8_t> space = config_space();
  if (offset > space.size() || size > space.size() - offset)
    return Error(
        strfmt("config read of %u bytes at offset %u is beyond the %zu-byte config space", size, offset, space.size()));
  return std::vector<uint8_t>(space.begin() + offset, space.begin() + offset + size);
}

}  // namespace vgpio::virtio
