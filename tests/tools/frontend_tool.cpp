// vgpio-frontend: a scripted virtio-gpio driver for tests that run where no
// guest kernel can (inside the test VM, beside gpio-sim). Each step prints
// one line "@ <step>: <result>".
//
//   vgpio-frontend SOCKET STEP...
//   steps: names | dir L in|out|none | set L 0|1 | get L | irq L none|rising|falling|both|high|low
//          unmask L | event MS | write PATH TEXT | read PATH | sleep MS
//          reset (VHOST_USER_RESET_DEVICE, as QEMU sends on a VM reset)
//          reconnect (the backend went away: connect again, rings and memory kept)
//          stay PATH (until the file exists, keep the session: reconnect each
//                     time the backend goes away; says how many times)
//          storm PATH (until the file exists, SET_VALUE 1 and GET_VALUE on line 0,
//                      8 in flight, reconnecting whenever the backend goes away;
//                      then says how many were sent, answered, answered ERR, and
//                      answered to nothing in flight)
//          await PATH (until the file exists: the test says when to go on)
//          stall (sends the first byte of a message, and never the rest)
//          flood N (sends N requests that want a reply, as fast as the socket
//                   takes them, and never reads a reply)
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "driver/gpio_driver.h"

using namespace vgpio;
using namespace vgpio::gpio;

namespace {
const std::map<std::string, uint32_t> kDirections = {{"none", kDirectionNone},
                                                     {"out", kDirectionOut},
                                                     {"in", kDirectionIn}};
const std::map<std::string, uint32_t> kIrq = {{"none", kIrqNone},           {"rising", kIrqEdgeRising},
                                              {"falling", kIrqEdgeFalling}, {"both", kIrqEdgeBoth},
                                              {"high", kIrqLevelHigh},      {"low", kIrqLevelLow}};

std::string answer(const Result<driver::GpioResponse>& r, bool value) {
  if (!r) return "failed: " + r.error().message();
  if (r.value().status != kStatusOk) return "err";
  return value ? std::to_string(r.value().value) : "ok";
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: vgpio-frontend SOCKET STEP...\n");
    return 2;
  }
  // How long an answer is waited for (VGPIO_FRONTEND_TIMEOUT_MS, 5 s unless
  // set). A frontend that gives up on a slow backend closes the connection,
  // and the backend rightly takes the guest as gone: tests that stay through
  // restarts in a loaded guest wait as long as a VMM would.
  driver::GpioDriver::Options options;
  if (const char* ms = std::getenv("VGPIO_FRONTEND_TIMEOUT_MS"))
    options.timeout = std::chrono::milliseconds(std::stoul(ms));
  auto d = driver::GpioDriver::connect(argv[1], options);
  if (!d) {
    std::printf("@ connect: failed: %s\n", d.error().message().c_str());
    return 1;
  }
  driver::GpioDriver& drv = *d.value();
  std::printf("@ connect: %u lines\n", drv.config().ngpio);
  for (int i = 2; i < argc;) {
    std::string step = argv[i++];
    auto arg = [&]() -> std::string { return i < argc ? argv[i++] : ""; };
    std::string result;
    if (step == "names") {
      auto n = drv.line_names();
      if (n) {
        for (const auto& s : n.value()) result += (result.empty() ? "" : ",") + s;
      } else {
        result = "failed: " + n.error().message();
      }
    } else if (step == "dir" || step == "set" || step == "get" || step == "irq" || step == "unmask") {
      uint16_t line = static_cast<uint16_t>(std::stoul(arg()));
      step += " " + std::to_string(line);
      if (step.rfind("dir", 0) == 0) result = answer(drv.request(kSetDirection, line, kDirections.at(arg())), false);
      else if (step.rfind("set", 0) == 0) result = answer(drv.request(kSetValue, line, std::stoul(arg())), false);
      else if (step.rfind("get", 0) == 0) result = answer(drv.request(kGetValue, line), true);
      else if (step.rfind("irq", 0) == 0) result = answer(drv.request(kSetIrqType, line, kIrq.at(arg())), false);
      else result = drv.unmask(line) ? "ok" : "failed";
    } else if (step == "event") {
      auto e = drv.wait_event(std::chrono::milliseconds(std::stoul(arg())));
      if (!e) result = "failed: " + e.error().message();
      else if (!e.value()) result = "none";
      else result = std::to_string(e.value()->gpio) + (e.value()->status == kIrqStatusValid ? " valid" : " invalid");
    } else if (step == "write") {
      std::string path = arg(), text = arg();
      std::ofstream(path) << text;
      step += " " + path;
      result = "ok";
    } else if (step == "read") {
      std::string path = arg();
      std::ifstream in(path);
      std::getline(in, result);
      step += " " + path;
    } else if (step == "reset") {
      auto r = drv.frontend().send(vhost::kResetDevice);
      result = r ? "ok" : "failed: " + r.error().message();
    } else if (step == "await") {
      std::string path = arg();
      while (access(path.c_str(), F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      step += " " + path;
      result = "ok";
    } else if (step == "stall") {
      uint8_t first = vhost::kGetFeatures;
      result = ::send(drv.frontend().socket(), &first, 1, MSG_NOSIGNAL) == 1 ? "ok" : "failed";
    } else if (step == "flood") {
      // As fast as the backend takes them, until it stops taking them (it
      // cut us off) or N are sent; a backend that stops reading for 60 s
      // ends the flood too.
      unsigned long n = std::stoul(arg()), sent = 0;
      vhost::Header h{vhost::kGetFeatures, vhost::kVersion, 0};
      for (; sent < n; ++sent) {
        pollfd p{drv.frontend().socket(), POLLOUT, 0};
        if (poll(&p, 1, 60000) != 1 || (p.revents & (POLLERR | POLLHUP))) break;
        if (::send(drv.frontend().socket(), &h, sizeof h, MSG_NOSIGNAL) != sizeof h) break;
      }
      result = "sent " + std::to_string(sent);
    } else if (step == "reconnect") {
      auto r = drv.reconnect(argv[1]);
      result = r ? "ok" : "failed: " + r.error().message();
    } else if (step == "storm") {
      std::string path = arg();
      step += " " + path;
      auto gone = [&] {
        pollfd p{drv.frontend().socket(), POLLIN | POLLRDHUP, 0};
        char byte;
        return poll(&p, 1, 0) == 1 &&
               ((p.revents & (POLLHUP | POLLRDHUP | POLLERR)) || ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0);
      };
      std::deque<driver::GpioDriver::Ticket> in_flight;
      const std::chrono::milliseconds patience = drv.timeout();
      unsigned long sent = 0, answered = 0, refused = 0, reconnects = 0, timeouts = 0, silent = 0;
      while (access(path.c_str(), F_OK) != 0 || !in_flight.empty()) {
        while (in_flight.size() < 8 && access(path.c_str(), F_OK) != 0) {
          auto t = sent % 2 ? drv.submit(kGetValue, 0) : drv.submit(kSetValue, 0, 1);
          if (!t) break;
          in_flight.push_back(t.value());
          ++sent;
        }
        if (gone()) {  // what the old backend took and did not answer goes to the next (rings at their used index)
          drv.set_timeout(patience);
          while (!drv.reconnect(argv[1])) {}
          ++reconnects;
          continue;
        }
        if (in_flight.empty()) continue;
        drv.set_timeout(std::chrono::milliseconds(1000));  // looks at the connection every second
        auto r = drv.wait(in_flight.front());
        if (!r) {  // no answer yet: waited for again, as long as the driver's time-out at most
          ++timeouts;
          if (static_cast<long>(++silent) * 1000 > patience.count()) break;
          continue;
        }
        silent = 0;
        in_flight.pop_front();
        ++answered;
        if (r.value().status != kStatusOk) ++refused;
      }
      result = "sent " + std::to_string(sent) + " answered " + std::to_string(answered) + " err " +
               std::to_string(refused) + " unexpected " + std::to_string(drv.unexpected_answers()) + " reconnects " +
               std::to_string(reconnects) + " timeouts " + std::to_string(timeouts) + " lost " +
               std::to_string(in_flight.size());
    } else if (step == "stay") {
      std::string path = arg();
      step += " " + path;
      unsigned reconnects = 0, failed = 0;
      bool connected = true;
      while (access(path.c_str(), F_OK) != 0) {
        if (connected) {
          pollfd p{drv.frontend().socket(), POLLIN | POLLRDHUP, 0};
          if (poll(&p, 1, 20) != 1) continue;
          char byte;
          if (!(p.revents & (POLLHUP | POLLRDHUP | POLLERR)) && ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 0)
            continue;  // (a backend sends nothing unasked: only its end wakes us)
        }
        // A backend slow to come back (a package upgrade in a busy guest)
        // is waited for as long as the test stays.
        auto r = drv.reconnect(argv[1]);
        connected = bool(r);
        if (connected) ++reconnects;
        else ++failed;
        std::printf("@ %s: %s\n", connected ? "reconnected" : "reconnecting",
                    connected ? std::to_string(reconnects).c_str() : r.error().message().c_str());
        std::fflush(stdout);
      }
      result = "reconnects " + std::to_string(reconnects) + " failed attempts " + std::to_string(failed);
    } else if (step == "sleep") {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoul(arg())));
      result = "ok";
    } else {
      std::fprintf(stderr, "vgpio-frontend: unknown step \"%s\"\n", step.c_str());
      return 2;
    }
    std::printf("@ %s: %s\n", step.c_str(), result.c_str());
    std::fflush(stdout);
  }
  return 0;
}
