// Faults: a frontend that dies at every step of the handshake, many frontends
// one after another, and a guest that floods the log.
#include <dirent.h>
#include <gtest/gtest.h>

#include "base/log.h"
#include "base/process_stats.h"
#include "daemon_fixture.h"

namespace vgpio {
namespace {

using namespace gpio;

size_t open_fds() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

class Faults : public testing::DaemonTest {
 protected:
  void SetUp() override { start({4}); }
  void wait_released(size_t line) {
    eventually([&] { return status(line).direction == kDirectionNone; });
    EXPECT_EQ(status(line).direction, kDirectionNone);
  }
};

TEST_F(Faults, FrontendGoesAwayAfterEveryHandshakeStep) {
  // A full handshake is about 25 messages; give up after each of them in turn.
  int completed_at = -1;
  for (int budget = 0; budget < 60 && completed_at < 0; ++budget) {
    {
      driver::GpioDriver::Options o;
      o.message_budget = budget;
      auto d = driver::GpioDriver::connect(socket(), o);
      if (d.ok()) {
        completed_at = budget;
        EXPECT_OK(d.value()->request(kSetDirection, 1, kDirectionOut));
      }
    }  // gone, at whatever step it stopped
    // Whatever happened, the next frontend is served from a clean state.
    auto next = connect();
    ASSERT_TRUE(next) << "after giving up at message " << budget;
    EXPECT_EQ(next->request(kGetDirection, 1).value().status, kStatusOk);
    next.reset();
    wait_released(1);
  }
  EXPECT_GT(completed_at, 10);  // the loop really walked through the handshake
}

TEST_F(Faults, TenThousandFrontendsLeaveNoFdsOrMemoryBehind) {
  auto cycle = [&](int n) {
    for (int i = 0; i < n; ++i) {
      driver::GpioDriver::Options o;
      o.queue_size = 16;
      auto d = driver::GpioDriver::connect(socket(), o);
      ASSERT_TRUE(d.ok()) << i << ": " << d.error().message();
      // An output, so that the session's end shows: line 0 is released.
      ASSERT_EQ(d.value()->request(kSetDirection, 0, kDirectionOut).value().status, kStatusOk);
      ASSERT_EQ(d.value()->request(kSetValue, i % 4, i & 1).value().status, kStatusOk);
    }
  };
  // The daemon ends a session on its own thread, in one step: once line 0
  // is released, the session's fds are closed too.
  cycle(200);  // warm up allocators and caches
  wait_released(0);
  size_t fds_before = open_fds();
  long rss_before = rss_kib();
  cycle(10000);
  wait_released(0);
  EXPECT_EQ(open_fds(), fds_before);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's RSS is mostly its own quarantine; LeakSanitizer checks leaks there.
  (void)rss_before;
#else
  EXPECT_LT(rss_kib() - rss_before, 4096) << "RSS grew from " << rss_before << " KiB";
#endif
}

TEST(RateLimit, AFloodIsCutToABurstAndCounted) {
  RateLimiter limiter(3, std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  uint64_t dropped = 0;
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += limiter.admit(&dropped, t0 + std::chrono::microseconds(i));
  EXPECT_EQ(admitted, 3);
  EXPECT_EQ(limiter.total_dropped(), 997u);
  EXPECT_FALSE(limiter.admit(&dropped, t0 + std::chrono::milliseconds(199)));  // the window has not ended
  ASSERT_TRUE(limiter.admit(&dropped, t0 + std::chrono::milliseconds(200)));
  EXPECT_EQ(dropped, 998u);  // reported with the next message let through
}

}  // namespace
}  // namespace vgpio
