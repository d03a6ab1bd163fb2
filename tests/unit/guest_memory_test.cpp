#include "virtio/guest_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

namespace vgpio {
namespace {

UniqueFd memfd(size_t size) {
  UniqueFd fd(memfd_create("test", MFD_CLOEXEC));
  EXPECT_EQ(ftruncate(fd.get(), static_cast<off_t>(size)), 0);
  return fd;
}

TEST(GuestMemory, TranslatesOnlyWholeRangesInsideOneRegion) {
  virtio::GuestMemory mem;
  ASSERT_TRUE(mem.add_region({0x1000, 0x2000, 0x7000'0000, 0}, memfd(0x2000)).ok());
  EXPECT_TRUE(mem.translate(0x1000, 0x2000).ok());
  EXPECT_TRUE(mem.translate(0x2fff, 1).ok());
  EXPECT_FALSE(mem.translate(0x2fff, 2).ok());
  EXPECT_FALSE(mem.translate(0xfff, 1).ok());
  EXPECT_TRUE(mem.translate(0x3000, 0).ok());  // zero length at the very end
  EXPECT_FALSE(mem.translate(0x1000, ~0ull).ok());
  EXPECT_FALSE(mem.translate(~0ull, 2).ok());  // would wrap
  EXPECT_TRUE(mem.translate_user(0x7000'0000, 0x2000).ok());
  EXPECT_FALSE(mem.translate_user(0x7000'0001, 0x2000).ok());
}

TEST(GuestMemory, ReadAndWriteGoThroughTheMapping) {
  virtio::GuestMemory mem;
  ASSERT_TRUE(mem.add_region({0, 4096, 0, 0}, memfd(4096)).ok());
  uint32_t v = 0xdeadbeef, back = 0;
  ASSERT_TRUE(mem.write(100, &v, 4).ok());
  ASSERT_TRUE(mem.read(100, &back, 4).ok());
  EXPECT_EQ(back, v);
  EXPECT_FALSE(mem.write(4094, &v, 4).ok());
}

TEST(GuestMemory, RefusesBadRegions) {
  virtio::GuestMemory mem;
  EXPECT_FALSE(mem.add_region({0, 0, 0, 0}, memfd(4096)).ok());              // empty
  EXPECT_FALSE(mem.add_region({~0ull - 10, 4096, 0, 0}, memfd(4096)).ok());  // wraps
  EXPECT_FALSE(mem.add_region({0, 8192, 0, 0}, memfd(4096)).ok());           // fd too short: would SIGBUS
  EXPECT_FALSE(mem.add_region({0, 4096, 0, ~0ull}, memfd(4096)).ok());       // offset overflows
  ASSERT_TRUE(mem.add_region({0, 4096, 0, 0}, memfd(4096)).ok());
  EXPECT_FALSE(mem.add_region({2048, 4096, 0x10000, 0}, memfd(4096)).ok());  // overlaps
  EXPECT_EQ(mem.region_count(), 1u);
}

TEST(GuestMemory, UnalignedMmapOffsetWorks) {
  virtio::GuestMemory mem;
  UniqueFd fd = memfd(8192);
  uint8_t* direct = static_cast<uint8_t*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  direct[100 + 5] = 42;
  ASSERT_TRUE(mem.add_region({0x5000, 4000, 0, 100}, std::move(fd)).ok());
  uint8_t b = 0;
  ASSERT_TRUE(mem.read(0x5005, &b, 1).ok());
  EXPECT_EQ(b, 42);
  munmap(direct, 8192);
}

TEST(GuestMemory, RemoveRegionAndLimits) {
  virtio::GuestMemory mem;
  for (size_t i = 0; i < virtio::GuestMemory::kMaxRegions; ++i)
    ASSERT_TRUE(mem.add_region({i * 4096, 4096, i * 4096, 0}, memfd(4096)).ok());
  EXPECT_FALSE(mem.add_region({1 << 30, 4096, 1 << 30, 0}, memfd(4096)).ok());
  EXPECT_TRUE(mem.remove_region({4096, 4096, 0, 0}).ok());
  EXPECT_FALSE(mem.remove_region({4096, 4096, 0, 0}).ok());
  EXPECT_FALSE(mem.translate(4096, 1).ok());
}

}  // namespace
}  // namespace vgpio
