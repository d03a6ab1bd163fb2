// The chip monitor against a real inotify watch on a scratch folder: device
// nodes are stood in for by plain files with gpiochip names.
#include "lines/chip_monitor.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <vector>

namespace vgpio {
namespace {

struct Recorder : lines::ChipListener {
  std::vector<std::pair<std::string, bool>> seen;
  void on_chip_change(const std::string& path, bool present) override { seen.push_back({path, present}); }
};

class ChipMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vgpio-chips-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    loop_ = EventLoop::create().release_value();
    monitor_ = lines::ChipMonitor::create(*loop_, dir_).release_value();
  }
  void TearDown() override {
    monitor_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  // inotify events are queued by the time the file call returns.
  void dispatch() { loop_->run_once(0); }

  std::string dir_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<lines::ChipMonitor> monitor_;
};

TEST_F(ChipMonitorTest, ReportsChipsThatAppearAndVanishOnly) {
  Recorder r;
  monitor_->subscribe(&r);
  std::ofstream(dir_ + "/gpiochip7").put('x');
  std::ofstream(dir_ + "/ttyS0").put('x');
  dispatch();
  ASSERT_FALSE(r.seen.empty());
  for (const auto& [path, present] : r.seen) EXPECT_TRUE(path == dir_ + "/gpiochip7" && present) << path;
  r.seen.clear();
  ASSERT_EQ(::unlink((dir_ + "/gpiochip7").c_str()), 0);
  ASSERT_EQ(::unlink((dir_ + "/ttyS0").c_str()), 0);
  dispatch();
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0], std::make_pair(dir_ + "/gpiochip7", false));
}

TEST_F(ChipMonitorTest, AListenerThatLeavesHearsNoMore) {
  Recorder a, b;
  monitor_->subscribe(&a);
  monitor_->subscribe(&b);
  monitor_->unsubscribe(&a);
  std::ofstream(dir_ + "/gpiochip1").put('x');
  dispatch();
  EXPECT_TRUE(a.seen.empty());
  EXPECT_FALSE(b.seen.empty());
}

TEST(ChipMonitor, AMissingFolderIsAClearError) {
  auto loop = EventLoop::create().release_value();
  auto m = lines::ChipMonitor::create(*loop, "/nonexistent/vgpio");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("/nonexistent/vgpio"), std::string::npos);
}

}  // namespace
}  // namespace vgpio
