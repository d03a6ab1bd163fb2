// Serving the guest allocates nothing once warm: not per request, not per
// interrupt, and not for the change events when nobody watches. The device
// is wired as the daemon wires it (control server observer, simulation).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "control/control_server.h"
#include "counting_allocator.h"
#include "fake_guest.h"
#include "gpio/gpio_device.h"
#include "lines/sim_line.h"
#include "sim/device_sim.h"

namespace vgpio {
namespace {

using namespace gpio;
using testing::CountAllocations;
using testing::FakeGuest;
using testing::SentChain;

TEST(CountingAllocator, SeesEveryKindOfAllocation) {
  CountAllocations counting;
  auto boxed = std::make_unique<int>(1);
  std::string text(100, 'x');
  void* raw = std::malloc(10);
  asm volatile("" : : "r"(raw) : "memory");  // so the compiler keeps the call
  std::free(raw);
  EXPECT_EQ(counting.count(), 3);
}

constexpr uint16_t kOutputs = 4;  // lines 0..3 outputs, 4..7 inputs
constexpr uint16_t kIrqLine = 4;

class NoAllocation : public ::testing::Test {
 protected:
  NoAllocation() {
    std::vector<std::unique_ptr<lines::Line>> lines;
    for (int i = 0; i < 8; ++i) lines.push_back(std::make_unique<lines::SimLine>("line" + std::to_string(i)));
    device_ = gpio::GpioDevice::create("d", std::move(lines)).release_value();
    loop_ = EventLoop::create().release_value();
    sim_ = sim::DeviceSim::create(*loop_, *device_).release_value();
    socket_ = ::testing::TempDir() + "no_allocation_" + std::to_string(getpid()) + ".ctl";
    control_ =
        control::ControlServer::create(*loop_, socket_, SocketAccess{}, {{device_.get(), loop_.get(), "", sim_.get()}})
            .release_value();
    control::ControlServer* control = control_.get();
    gpio::GpioDevice* device = device_.get();
    device_->set_observer([control, device](const gpio::LineChange& c) { control->publish(*device, c); });
    guest_ = std::make_unique<FakeGuest>(*device_);
    for (uint16_t i = 0; i < kOutputs; ++i) request_ok(kSetDirection, i, kDirectionOut);
    for (uint16_t i = kOutputs; i < 8; ++i) request_ok(kSetDirection, i, kDirectionIn);
  }
  ~NoAllocation() override {
    guest_.reset();
    std::filesystem::remove(socket_);
  }

  void request_ok(uint16_t type, uint16_t gpio, uint32_t value) {
    ASSERT_EQ(testing::gpio_request(*guest_, type, gpio, value).status, kStatusOk);
  }

  std::unique_ptr<gpio::GpioDevice> device_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<sim::DeviceSim> sim_;
  std::string socket_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<FakeGuest> guest_;
};

// Every kind of request the guest makes in normal use, valid ones only.
Request request_number(int n) {
  auto out = static_cast<uint16_t>(n % kOutputs);
  auto in = static_cast<uint16_t>(kOutputs + n % 4);
  switch (n % 7) {
    case 0: return {kGetValue, out, 0};
    case 1: return {kSetValue, out, uint32_t(n / 7 % 2)};  // toggles: a change to publish
    case 2: return {kGetDirection, in, 0};
    case 3: return {kGetValue, in, 0};
    case 4: return {kSetDirection, out, kDirectionOut};
    case 5: return {kSetIrqType, in, (n / 7 % 2) ? uint32_t(kIrqEdgeBoth) : uint32_t(kIrqNone)};
    default: return {kGetLineNames, 0, 0};
  }
}

TEST_F(NoAllocation, TenThousandRequests) {
  constexpr int kBatch = 16, kRequests = 10000;
  const uint32_t names_size = static_cast<uint32_t>(8 * std::string("lineN").size() + 8);
  long allocations = 0;
  for (int n = -2 * kBatch; n < kRequests; n += kBatch) {  // two warm-up batches first
    std::vector<SentChain> sent;
    for (int k = 0; k < kBatch; ++k) {
      Request req = request_number(n + k + 2 * kBatch);
      sent.push_back(
          guest_->chain(kRequestQueue).readable(req).writable(req.type == kGetLineNames ? 1 + names_size : 2).submit());
    }
    {
      CountAllocations counting;
      guest_->kick(kRequestQueue);
      if (n >= 0) allocations += counting.count();
    }
    for (const auto& s : sent) {
      auto used = guest_->used(kRequestQueue);
      ASSERT_TRUE(used);
      ASSERT_EQ(guest_->read(s.writable[0], 1)[0], kStatusOk) << "request " << n;
    }
  }
  EXPECT_EQ(allocations, 0) << "heap allocations while serving " << kRequests << " requests";
}

TEST_F(NoAllocation, TenThousandInterrupts) {
  constexpr int kInterrupts = 10000;
  request_ok(kSetIrqType, kIrqLine, kIrqEdgeBoth);
  long allocations = 0;
  for (int n = -10; n < kInterrupts; ++n) {  // ten warm-up rounds first
    SentChain sent = guest_->chain(kEventQueue).readable(kIrqLine).writable(1).submit();
    {
      CountAllocations counting;
      guest_->kick(kEventQueue);                            // unmask: the device holds the buffer
      ASSERT_TRUE(sim_->set(kIrqLine, (n & 1) == 0).ok());  // the edge, as `ctl set` makes it
      if (n >= 0) allocations += counting.count();
    }
    auto used = guest_->used(kEventQueue);
    ASSERT_TRUE(used);
    ASSERT_EQ(used->id, sent.head);
    ASSERT_EQ(guest_->read(sent.writable[0], 1)[0], kIrqStatusValid) << "interrupt " << n;
  }
  EXPECT_EQ(allocations, 0) << "heap allocations while delivering " << kInterrupts << " interrupts";
}

}  // namespace
}  // namespace vgpio
