// The virtio-gpio device model against virtio 1.2 §5.18, message by message.
#include "gpio/gpio_device.h"

#include <gtest/gtest.h>

#include "fake_guest.h"
#include "lines/sim_line.h"

namespace vgpio {
namespace {

using namespace gpio;
using testing::FakeGuest;
using testing::gpio_request;

std::unique_ptr<gpio::GpioDevice> make_device(std::vector<std::string> names, bool irq = true) {
  std::vector<std::unique_ptr<lines::Line>> lines;
  for (auto& n : names) lines.push_back(std::make_unique<lines::SimLine>(n));
  return gpio::GpioDevice::create("test", std::move(lines), gpio::GpioDevice::Options{irq}).release_value();
}

TEST(GpioDevice, RefusesBadLineSets) {
  std::vector<std::unique_ptr<lines::Line>> none;
  EXPECT_FALSE(gpio::GpioDevice::create("d", std::move(none)).ok());
  std::vector<std::unique_ptr<lines::Line>> dup;
  dup.push_back(std::make_unique<lines::SimLine>("a"));
  dup.push_back(std::make_unique<lines::SimLine>("a"));
  EXPECT_FALSE(gpio::GpioDevice::create("d", std::move(dup)).ok());
  std::vector<std::unique_ptr<lines::Line>> utf8;
  utf8.push_back(std::make_unique<lines::SimLine>("caf\xc3\xa9"));
  EXPECT_FALSE(gpio::GpioDevice::create("d", std::move(utf8)).ok());
  std::vector<std::unique_ptr<lines::Line>> many;
  for (int i = 0; i < 65536; ++i) many.push_back(std::make_unique<lines::SimLine>(""));
  EXPECT_FALSE(gpio::GpioDevice::create("d", std::move(many)).ok());
}

TEST(GpioDevice, ConfigSpaceHonoursOffsetAndSize) {
  auto dev = make_device({"a", "", "ccc"});
  auto all = dev->read_config(0, 8).release_value();
  // le16 ngpio = 3; padding 0; le32 gpio_names_size = 2 + 1 + 4 = 7
  EXPECT_EQ(all, (std::vector<uint8_t>{3, 0, 0, 0, 7, 0, 0, 0}));
  EXPECT_EQ(dev->read_config(4, 4).release_value(), (std::vector<uint8_t>{7, 0, 0, 0}));
  EXPECT_EQ(dev->read_config(8, 0).release_value().size(), 0u);
  EXPECT_FALSE(dev->read_config(6, 4).ok());
  EXPECT_FALSE(dev->read_config(9, 0).ok());
  EXPECT_FALSE(dev->read_config(0xffffffff, 2).ok());
}

TEST(GpioDevice, NoNamesMeansNamesSizeZero) {
  auto dev = make_device({"", ""});
  EXPECT_EQ(dev->read_config(4, 4).release_value(), (std::vector<uint8_t>{0, 0, 0, 0}));
  FakeGuest guest(*dev);
  EXPECT_EQ(gpio_request(guest, kGetLineNames, 0).status, kStatusErr);
}

TEST(GpioDevice, LineNamesBlockAndExactUsedLength) {
  auto dev = make_device({"a", "", "ccc"});
  FakeGuest guest(*dev);
  Request req{kGetLineNames, 0, 0};
  auto sent = guest.chain(kRequestQueue).readable(req).writable(8).submit();
  guest.kick(kRequestQueue);
  auto used = guest.used(kRequestQueue);
  ASSERT_TRUE(used);
  EXPECT_EQ(used->len, 8u);  // 1 + gpio_names_size
  EXPECT_EQ(guest.read(sent.writable[0], 8), (std::vector<uint8_t>{kStatusOk, 'a', 0, 0, 'c', 'c', 'c', 0}));
}

TEST(GpioDevice, LineNamesErrors) {
  auto dev = make_device({"a", "b"});
  FakeGuest guest(*dev);
  Request bad_gpio{kGetLineNames, 1, 0}, bad_value{kGetLineNames, 0, 1}, good{kGetLineNames, 0, 0};
  for (auto* req : {&bad_gpio, &bad_value}) {
    auto sent = guest.chain(kRequestQueue).readable(*req).writable(5).submit();
    guest.kick(kRequestQueue);
    EXPECT_EQ(guest.read(sent.writable[0], 1)[0], kStatusErr);
    EXPECT_EQ(guest.used(kRequestQueue)->len, 2u);
  }
  // A response buffer too small for the names block.
  auto sent = guest.chain(kRequestQueue).readable(good).writable(3).submit();
  guest.kick(kRequestQueue);
  EXPECT_EQ(guest.read(sent.writable[0], 1)[0], kStatusErr);
  guest.used(kRequestQueue);
}

TEST(GpioDevice, IdleLinesReportInputAndDirectionsRoundTrip) {
  auto dev = make_device({"a", "b"});
  FakeGuest guest(*dev);
  EXPECT_EQ(gpio_request(guest, kGetDirection, 0).value, kDirectionIn);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  auto a = gpio_request(guest, kGetDirection, 0);
  EXPECT_EQ(a.status, kStatusOk);
  EXPECT_EQ(a.value, kDirectionOut);
  EXPECT_EQ(a.used_len, 2u);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionIn).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kGetDirection, 0).value, kDirectionIn);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionNone).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kGetDirection, 0).value, kDirectionIn);
  EXPECT_EQ(dev->status(0).direction, kDirectionNone);
}

TEST(GpioDevice, SetValueBeforeOutputIsLatched) {
  auto dev = make_device({"a"});
  FakeGuest guest(*dev);
  EXPECT_EQ(gpio_request(guest, kSetValue, 0, 1).status, kStatusOk);
  EXPECT_EQ(dev->status(0).value, 0);  // not driven yet
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  EXPECT_EQ(dev->status(0).value, 1);
  EXPECT_EQ(gpio_request(guest, kGetValue, 0).value, 1);
  EXPECT_EQ(gpio_request(guest, kSetValue, 0, 0).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kGetValue, 0).value, 0);
}

TEST(GpioDevice, DirectionNoneDiscardsState) {
  auto dev = make_device({"a"});
  FakeGuest guest(*dev);
  gpio_request(guest, kSetValue, 0, 1);
  gpio_request(guest, kSetDirection, 0, kDirectionOut);
  gpio_request(guest, kSetDirection, 0, kDirectionNone);
  EXPECT_EQ(dev->status(0).value, 0);  // the output went back to its safe level
  gpio_request(guest, kSetDirection, 0, kDirectionOut);
  EXPECT_EQ(gpio_request(guest, kGetValue, 0).value, 0);  // the old latch is gone
}

TEST(GpioDevice, InputsReadTheDrivenLevel) {
  auto dev = make_device({"a"});
  FakeGuest guest(*dev);
  gpio_request(guest, kSetDirection, 0, kDirectionIn);
  ASSERT_TRUE(dev->drive(0, true).ok());
  EXPECT_EQ(gpio_request(guest, kGetValue, 0).value, 1);
  ASSERT_TRUE(dev->drive(0, false).ok());
  EXPECT_EQ(gpio_request(guest, kGetValue, 0).value, 0);
}

TEST(GpioDevice, BadRequestsGetErr) {
  auto dev = make_device({"a", "b"});
  FakeGuest guest(*dev);
  struct Case {
    uint16_t type, gpio;
    uint32_t value;
  } cases[] = {
      {kGetDirection, 2, 0},
      {kGetValue, 0xffff, 0},
      {kSetDirection, 0, 3},
      {kSetDirection, 0, 0x100},
      {kSetValue, 0, 2},
      {kSetValue, 0, 0xffffffff},
      {kSetIrqType, 0, 5},
      {kSetIrqType, 0, 16},
      {kSetIrqType, 0, 12},
      {0, 0, 0},
      {7, 0, 0},
      {0xffff, 1, 0},
  };
  for (const auto& c : cases) {
    auto a = gpio_request(guest, c.type, c.gpio, c.value);
    EXPECT_EQ(a.status, kStatusErr) << c.type << " " << c.gpio << " " << c.value;
    EXPECT_EQ(a.used_len, 2u);
  }
}

TEST(GpioDevice, WrongDescriptorShapes) {
  auto dev = make_device({"a"});
  FakeGuest guest(*dev);
  Request req{kGetValue, 0, 0};
  uint8_t short_req[4] = {kGetValue, 0, 0, 0};
  // Request too short: ERR.
  auto s1 = guest.chain(kRequestQueue).readable(short_req).writable(2).submit();
  // No response buffer at all: returned with length 0.
  guest.chain(kRequestQueue).readable(req).submit();
  // Response buffer of 1 byte: ERR status, length 1.
  auto s3 = guest.chain(kRequestQueue).readable(req).writable(1).submit();
  // Request in a writable buffer only.
  guest.chain(kRequestQueue).writable(8).writable(2).submit();
  // Split request and response over several descriptors: fine.
  auto s5 = guest.chain(kRequestQueue).readable(short_req).readable(short_req).writable(1).writable(1).submit();
  guest.kick(kRequestQueue);
  std::vector<uint32_t> lens;
  while (auto u = guest.used(kRequestQueue)) lens.push_back(u->len);
  EXPECT_EQ(lens, (std::vector<uint32_t>{2, 0, 1, 2, 2}));
  EXPECT_EQ(guest.read(s1.writable[0], 1)[0], kStatusErr);
  EXPECT_EQ(guest.read(s3.writable[0], 1)[0], kStatusErr);
  // {GET_VALUE=4, 0, 0, 0} twice reads as type 4, gpio 0, value 0x00000004: not a bad value for GET.
  EXPECT_EQ(guest.read(s5.writable[0], 1)[0], kStatusOk);
}

TEST(GpioDevice, ResponsesComeInRequestOrder) {
  auto dev = make_device({"a", "b"});
  FakeGuest guest(*dev);
  std::vector<uint16_t> heads;
  for (uint32_t v : {1u, 0u, 1u, 1u, 0u}) {
    Request r{kSetValue, 0, v};
    heads.push_back(guest.chain(kRequestQueue).readable(r).writable(2).submit().head);
    Request g{kGetValue, 1, 0};
    heads.push_back(guest.chain(kRequestQueue).readable(g).writable(2).submit().head);
  }
  guest.kick(kRequestQueue);
  for (uint16_t h : heads) {
    auto u = guest.used(kRequestQueue);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->id, h);
  }
}

TEST(GpioDevice, FeaturesAndQueues) {
  auto with_irq = make_device({"a"}, true);
  EXPECT_EQ(with_irq->queue_count(), 2u);
  EXPECT_TRUE(with_irq->offered_features() & kFeatureIrq);
  auto without = make_device({"a"}, false);
  EXPECT_EQ(without->queue_count(), 1u);
  EXPECT_FALSE(without->offered_features() & kFeatureIrq);
  EXPECT_FALSE(without->negotiate(kFeatureIrq).ok());  // never offered
}

}  // namespace
}  // namespace vgpio

namespace vgpio {
namespace {

using namespace gpio;
using testing::FakeGuest;
using testing::gpio_request;

TEST(GpioPolicy, DirectionsOutsideThePolicyGetErr) {
  std::vector<std::unique_ptr<lines::Line>> lines;
  lines.push_back(std::make_unique<lines::SimLine>("in", lines::LinePolicy{.may_input = true, .may_output = false}));
  lines.push_back(std::make_unique<lines::SimLine>("out", lines::LinePolicy{.may_input = false, .may_output = true}));
  auto dev = gpio::GpioDevice::create("p", std::move(lines)).release_value();
  FakeGuest guest(*dev);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionOut).status, kStatusErr);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionIn).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kSetIrqType, 0, kIrqEdgeBoth).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 1, kDirectionIn).status, kStatusErr);
  EXPECT_EQ(gpio_request(guest, kSetIrqType, 1, kIrqEdgeBoth).status, kStatusErr);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 1, kDirectionOut).status, kStatusOk);
  EXPECT_EQ(dev->status(0).direction, kDirectionIn);
  EXPECT_EQ(dev->status(1).direction, kDirectionOut);
}

TEST(GpioPolicy, InitialAndSafeLevels) {
  std::vector<std::unique_ptr<lines::Line>> lines;
  auto owned = std::make_unique<lines::SimLine>("relay", lines::LinePolicy{.safe_level = true, .initial = true});
  lines::SimLine* relay = owned.get();
  lines.push_back(std::move(owned));
  auto dev = gpio::GpioDevice::create("p", std::move(lines)).release_value();
  FakeGuest guest(*dev);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  EXPECT_EQ(dev->status(0).value, 1);  // initial level, no SET_VALUE sent
  EXPECT_EQ(gpio_request(guest, kSetValue, 0, 0).status, kStatusOk);
  EXPECT_EQ(dev->status(0).value, 0);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionNone).status, kStatusOk);
  EXPECT_TRUE(relay->output_level());  // back to the safe level
  EXPECT_EQ(gpio_request(guest, kSetValue, 0, 0).status, kStatusOk);
  EXPECT_EQ(gpio_request(guest, kSetDirection, 0, kDirectionOut).status, kStatusOk);
  EXPECT_EQ(dev->status(0).value, 0);
  dev->reset();  // the guest went away
  EXPECT_TRUE(relay->output_level());
}

}  // namespace
}  // namespace vgpio
