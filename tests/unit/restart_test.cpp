// A device that carries on from a previous vgpio process (gpio/saved_state.h,
// GpioDevice::resume): the guest's lines as it left them, and its eventq
// buffers as the previous process held them, with the rings QEMU hands back
// after a crash (each started at its used index).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "fake_guest.h"
#include "gpio/gpio_device.h"
#include "lines/sim_line.h"

namespace vgpio {
namespace {

using namespace gpio;
using testing::FakeGuest;
using testing::gpio_request;
using testing::SentChain;

const std::vector<std::string> kNames = {"relay", "door", "button", "spare"};

std::unique_ptr<gpio::GpioDevice> make_device() {
  std::vector<std::unique_ptr<lines::Line>> lines;
  for (const auto& n : kNames) lines.push_back(std::make_unique<lines::SimLine>(n));
  return gpio::GpioDevice::create("vm1", std::move(lines)).release_value();
}

// What a crash leaves: the memfd as it is at this instant, whatever the old
// process would still have done.
UniqueFd snapshot(const gpio::GpioDevice& device) {
  UniqueFd copy(memfd_create("snapshot", MFD_CLOEXEC));
  char buf[4096];
  ssize_t n = pread(device.saved_state_fd(), buf, sizeof buf, 0);
  EXPECT_GT(n, 0);
  EXPECT_EQ(pwrite(copy.get(), buf, static_cast<size_t>(n), 0), n);
  return copy;
}

class Restart : public ::testing::Test {
 protected:
  Restart() {
    before_ = make_device();
    before_->resume(gpio::SavedState::create("vm1", kNames).release_value(), false, "");
    guest_ = std::make_unique<FakeGuest>(*before_);
  }
  ~Restart() override { guest_.reset(); }

  // vgpio crashes and starts again; the frontend comes back to the new process.
  // `event_next_avail`: a crash before the eventq's progress was saved.
  void crash_and_restart(std::optional<uint16_t> event_next_avail = std::nullopt) {
    UniqueFd kept = snapshot(*before_);
    after_ = make_device();
    auto state = gpio::SavedState::open(std::move(kept), "vm1", kNames);
    ASSERT_TRUE(state.ok()) << state.error().message();
    if (event_next_avail) state.value()->set_event_next_avail(*event_next_avail);
    after_->resume(state.release_value(), true, "");
    guest_->switch_to(*after_);
  }
  SentChain unmask(uint16_t gpio) {
    auto sent = guest_->chain(kEventQueue).readable(gpio).writable(1).submit();
    guest_->kick(kEventQueue);
    return sent;
  }

  std::unique_ptr<gpio::GpioDevice> before_, after_;
  std::unique_ptr<FakeGuest> guest_;
};

TEST_F(Restart, TheGuestFindsItsLinesAsItLeftThem) {
  ASSERT_EQ(gpio_request(*guest_, kSetValue, 0, 1).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetDirection, 1, kDirectionIn).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetIrqType, 1, kIrqEdgeBoth).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetDirection, 2, kDirectionIn).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetIrqType, 2, kIrqLevelHigh).status, kStatusOk);
  crash_and_restart();

  EXPECT_TRUE(after_->output_level(0));
  EXPECT_EQ(after_->status(0).direction, kDirectionOut);
  EXPECT_EQ(after_->status(0).value, 1);
  EXPECT_EQ(after_->status(1).direction, kDirectionIn);
  EXPECT_EQ(after_->status(1).irq_type, kIrqEdgeBoth);
  EXPECT_EQ(after_->status(2).irq_type, kIrqLevelHigh);
  EXPECT_EQ(after_->status(3).direction, kDirectionNone);
  EXPECT_EQ(after_->restart_notes().front(), "restored: 4 of 4 lines as the guest left them");
  // And the guest carries on without setting anything up again.
  auto s = unmask(1);
  ASSERT_TRUE(after_->drive(1, true).ok());
  auto u = guest_->used(kEventQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, s.head);
  EXPECT_EQ(guest_->read(s.writable[0], 1)[0], kIrqStatusValid);
}

// Two lines armed; the second fires first, so the used ring is out of the
// avail ring's order. QEMU restarts the eventq at its used index, where the
// new process would find the buffer already answered and miss the one still
// held: it carries on from where the old one stopped instead.
TEST_F(Restart, HeldEventBuffersAreHeldAgainAndNoneIsAnsweredTwice) {
  for (uint16_t line : {1, 2}) {
    ASSERT_EQ(gpio_request(*guest_, kSetDirection, line, kDirectionIn).status, kStatusOk);
    ASSERT_EQ(gpio_request(*guest_, kSetIrqType, line, kIrqEdgeBoth).status, kStatusOk);
  }
  SentChain first = unmask(1), second = unmask(2);
  ASSERT_TRUE(before_->drive(2, true).ok());
  auto u = guest_->used(kEventQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, second.head);
  crash_and_restart();

  EXPECT_TRUE(after_->status(1).irq_unmasked);
  EXPECT_FALSE(after_->status(2).irq_unmasked);
  EXPECT_FALSE(guest_->used(kEventQueue)) << "a buffer was answered again";
  ASSERT_TRUE(after_->drive(1, true).ok());
  u = guest_->used(kEventQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, first.head);
  EXPECT_EQ(guest_->read(first.writable[0], 1)[0], kIrqStatusValid);
  // Line 2's driver re-arms as usual; its edges come again.
  SentChain again = unmask(2);
  ASSERT_TRUE(after_->drive(2, false).ok());
  u = guest_->used(kEventQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, again.head);
}

// A crash after a buffer was saved as held, before the eventq's progress
// was: the new process holds it again, and meets it once more in the ring.
// It is one buffer, answered once.
TEST_F(Restart, ABufferHeldAndSeenAgainIsAnsweredOnce) {
  ASSERT_EQ(gpio_request(*guest_, kSetDirection, 1, kDirectionIn).status, kStatusOk);
  ASSERT_EQ(gpio_request(*guest_, kSetIrqType, 1, kIrqEdgeBoth).status, kStatusOk);
  SentChain held = unmask(1);
  crash_and_restart(0);  // as if the old process had not taken it yet
  guest_->kick(kEventQueue);
  EXPECT_TRUE(after_->status(1).irq_unmasked);
  EXPECT_FALSE(guest_->used(kEventQueue)) << "the buffer was answered as a second one";
  ASSERT_TRUE(after_->drive(1, true).ok());
  auto u = guest_->used(kEventQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, held.head);
  EXPECT_EQ(guest_->read(held.writable[0], 1)[0], kIrqStatusValid);
  EXPECT_FALSE(guest_->used(kEventQueue));
}

// A request the old process never answered is in the avail ring past the
// used index: the new process answers it, as if it were new.
TEST_F(Restart, ARequestInFlightIsAnsweredByTheNextProcess) {
  ASSERT_EQ(gpio_request(*guest_, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  Request req{kSetValue, 0, 1};
  SentChain sent = guest_->chain(kRequestQueue).readable(req).writable(2).submit();  // no kick: in flight
  crash_and_restart();
  EXPECT_FALSE(after_->output_level(0));
  guest_->kick(kRequestQueue);
  auto u = guest_->used(kRequestQueue);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, sent.head);
  EXPECT_EQ(guest_->read(sent.writable[0], 1)[0], kStatusOk);
  EXPECT_TRUE(after_->output_level(0));
}

TEST(SavedState, RefusesWhatItDidNotWrite) {
  auto fresh = [] { return gpio::SavedState::create("vm1", kNames).release_value(); };
  auto reopen = [](gpio::SavedState& s, const std::vector<std::string>& names = kNames) {
    return gpio::SavedState::open(UniqueFd(dup(s.fd())), "vm1", names);
  };
  auto ok = fresh();
  EXPECT_TRUE(reopen(*ok).ok());
  auto renamed = reopen(*ok, {"relay", "door", "button", "other"});
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().message(), "the device's lines changed since the state was kept");
  EXPECT_FALSE(reopen(*ok, {"relay"}).ok());

  auto bad_direction = fresh();
  bad_direction->line(2).direction = 7;
  auto r = reopen(*bad_direction);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "the kept state is corrupt (line 2)");

  auto output_with_irq = fresh();
  output_with_irq->line(1) = gpio::SavedState::Line{kDirectionOut, 1, kIrqEdgeBoth, 0, 0, 0};
  EXPECT_FALSE(reopen(*output_with_irq).ok());

  auto scribbled = fresh();
  ASSERT_EQ(pwrite(scribbled->fd(), "garbage!", 8, 0), 8);
  r = reopen(*scribbled);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "the kept state is corrupt (no vgpio state of this version)");

  UniqueFd not_a_memfd(memfd_create("short", MFD_CLOEXEC));
  ASSERT_EQ(ftruncate(not_a_memfd.get(), 3), 0);
  EXPECT_FALSE(gpio::SavedState::open(std::move(not_a_memfd), "vm1", kNames).ok());
}

}  // namespace
}  // namespace vgpio
