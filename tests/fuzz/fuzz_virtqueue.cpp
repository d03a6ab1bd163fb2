// libFuzzer: the split virtqueue and virtio-gpio request handling over guest
// memory the fuzzer writes. Input: a 16-byte header, then the memory image.
//   u8 log2 queue size, u8 feature choice, u16 x3 desc/avail/used offsets
//   (eventq rings follow at +0x4000), u8 kicks, u8 edges, u8 resume, padding
// With resume & 1 the device first carries on from a kept state (a previous
// process's, gpio/saved_state.h): its 8 line records and the eventq's next
// avail index are the 66 bytes at 0x8000 of the image, read back through
// SavedState::open as a restarted vgpio reads them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/log.h"
#include "gpio/gpio_device.h"
#include "lines/sim_line.h"
#include "virtio/ring_layout.h"

using namespace vgpio;

namespace {
constexpr size_t kMemSize = 64 * 1024;
constexpr uint64_t kUserBase = 0x7f0000000000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int memfd = [] {
    set_log_level(LogLevel::Off);
    int fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
    return ftruncate(fd, kMemSize) == 0 ? fd : -1;
  }();
  static uint8_t* ram = static_cast<uint8_t*>(mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0));
  if (size < 16) return 0;
  std::memset(ram, 0, kMemSize);
  std::memcpy(ram, data + 16, std::min(size - 16, kMemSize));

  std::vector<std::unique_ptr<lines::Line>> lines;
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) {
    names.push_back(i == 3 ? "" : "l" + std::to_string(i));
    lines.push_back(std::make_unique<lines::SimLine>(names.back()));
  }
  auto dev = gpio::GpioDevice::create("fuzz", std::move(lines)).release_value();
  if (data[10] & 1) {
    auto kept = gpio::SavedState::create("fuzz", names).release_value();
    std::memcpy(&kept->line(0), ram + 0x8000, 8 * sizeof(gpio::SavedState::Line));
    uint16_t next;
    std::memcpy(&next, ram + 0x8040, 2);
    kept->set_event_next_avail(next);
    auto reopened = gpio::SavedState::open(UniqueFd(dup(kept->fd())), "fuzz", names);
    if (reopened) dev->resume(reopened.release_value(), true, "");
    else dev->resume(gpio::SavedState::create("fuzz", names).release_value(), false, reopened.error().message());
  }
  if (!dev->memory().add_region({0, kMemSize, kUserBase, 0}, UniqueFd(dup(memfd))).ok()) return 0;
  uint64_t features = virtio::ring::kFeatureVersion1 | gpio::kFeatureIrq;
  if (data[1] & 1) features |= virtio::ring::kFeatureEventIdx;
  if (data[1] & 2) features |= virtio::ring::kFeatureIndirectDesc;
  (void)dev->negotiate(features);
  uint32_t qsize = 1u << (data[0] % 16);
  uint16_t off[3];
  std::memcpy(off, data + 2, 6);
  for (size_t q = 0; q < dev->queue_count(); ++q) {
    virtio::SplitQueue& sq = dev->queue(q);
    uint64_t shift = q * 0x4000;
    (void)sq.set_size(qsize);
    sq.set_addresses({kUserBase + off[0] + shift, kUserBase + off[1] + shift, kUserBase + off[2] + shift});
    sq.set_notifier([] {});
    if (sq.start()) dev->on_queue_started(q);  // may refuse: rings outside memory, misaligned
  }
  for (int k = 0; k < 1 + data[8] % 4; ++k) {
    dev->on_queue_kick(0);
    dev->on_queue_kick(1);
    for (int e = 0; e < data[9] % 8; ++e) (void)dev->drive((e + k) % 8, (e + data[9]) & 1);
  }
  dev->on_queue_stopping(1);
  dev->reset();
  for (size_t q = 0; q < dev->queue_count(); ++q) dev->queue(q).stop();
  return 0;
}
