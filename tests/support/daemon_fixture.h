// A real daemon in this process (device threads, main loop, sockets in a
// temporary folder), for tests that talk to it through its sockets.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "app/commands.h"
#include "app/host_setup.h"
#include "client/control_client.h"
#include "daemon/daemon.h"
#include "driver/gpio_driver.h"

// Checks a Result and shows its error when it failed.
#define EXPECT_OK(expr)                                                         \
  do {                                                                          \
    auto expect_ok_result_ = (expr);                                            \
    EXPECT_TRUE(expect_ok_result_.ok()) << expect_ok_result_.error().message(); \
  } while (0)

namespace vgpio::testing {

class DaemonTest : public ::testing::Test {
 protected:
  // Starts a daemon with one device per entry of `line_counts`.
  // `adjust` may change the config first (another kind of line, say).
  void start(std::vector<unsigned> line_counts = {8}, std::vector<sim::WireSpec> wires = {},
             const std::function<void(daemon::DaemonConfig&)>& adjust = {}) {
    char tmpl[] = "/tmp/vgpio-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    daemon::DaemonConfig config;
    for (size_t i = 0; i < line_counts.size(); ++i) {
      daemon::DeviceConfig device;
      device.name = "dev" + std::to_string(i);
      device.socket = socket(i);
      device.lines = app::simulated_lines(line_counts[i], {}).release_value();
      config.devices.push_back(std::move(device));
    }
    config.settings.control = control_path();
    config.wires = std::move(wires);
    // As `vgpio serve` without a file: devices made at run time, simulated lines only.
    config.make_device = [](const nlohmann::json& r) { return app::created_device_config(r, config::ConfigSpec{}); };
    if (adjust) adjust(config);
    auto d = daemon::Daemon::create(std::move(config));
    ASSERT_TRUE(d.ok()) << d.error().message();
    daemon_ = d.release_value();
    auto started = daemon_->start();
    ASSERT_TRUE(started.ok()) << started.error().message();
    main_thread_ = std::thread([this] { daemon_->run(); });
  }
  void TearDown() override {
    if (daemon_) {
      daemon_->stop();
      main_thread_.join();
      daemon_.reset();
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string socket(size_t i = 0) const { return dir_ + "/dev" + std::to_string(i) + ".sock"; }
  std::string control_path() const { return dir_ + "/control.sock"; }

  std::unique_ptr<driver::GpioDriver> connect(driver::GpioDriver::Options options = {}, size_t device = 0) {
    auto d = driver::GpioDriver::connect(socket(device), options);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message());
    return d.ok() ? d.release_value() : nullptr;
  }
  client::ControlClient control() { return client::ControlClient::connect(control_path()).release_value(); }
  // The "error_kind" the daemon answers `request` with, on a new connection;
  // "" when it did not refuse. Tests decide on this, not on the sentence.
  std::string refusal_kind(const nlohmann::json& request) {
    auto answer = control().exchange(request);
    EXPECT_TRUE(answer.ok()) << request.dump() << ": " << (answer.ok() ? "" : answer.error().message());
    if (!answer.ok() || answer.value().value("ok", false)) return "";
    return answer.value().value("error_kind", "(none)");
  }
  // Drives a simulated input from the harness side.
  void drive(size_t line, bool level, size_t device = 0) {
    Result<void> r;
    ASSERT_TRUE(daemon_->device_loop(device).run_sync([&] { r = daemon_->device(device).drive(line, level); }, kHang));
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  // Longer than any wait a slow machine makes: only a hang reaches it. The
  // package build for another architecture runs these tests under
  // qemu-user, beside other builds: the largest device's 13 MB answer took
  // more than 60 s there.
  static constexpr std::chrono::seconds kHang{300};
  // Polls until `done` holds. The bound is one only a hang reaches: a slow
  // machine waits longer, never fails. The caller's EXPECT says what was due.
  template <typename F>
  static void eventually(F done) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  gpio::LineStatus status(size_t line, size_t device = 0) {
    gpio::LineStatus s{};
    EXPECT_TRUE(daemon_->device_loop(device).run_sync([&] { s = daemon_->device(device).status(line); }, kHang));
    return s;
  }

  std::string dir_;
  std::unique_ptr<daemon::Daemon> daemon_;
  std::thread main_thread_;
};

}  // namespace vgpio::testing
