// VCD output: the header, one-bit signals only, changes in time order, and
// how a line's level, direction and interrupt type are encoded.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "client/line_recorder.h"
#include "client/vcd_writer.h"
#include "gpio/protocol.h"

namespace vgpio::client {
namespace {

TEST(VcdWriter, HeaderDumpvarsAndChanges) {
  std::ostringstream out;
  VcdWriter vcd(out, Timescale{1});
  size_t a = vcd.add_signal("dev0.led", '0');
  size_t b = vcd.add_signal("dev0.odd name!", 'z');
  ASSERT_TRUE(vcd.begin("test"));
  vcd.change(1000, a, '1');
  vcd.change(1000, b, '0');
  vcd.change(2000, a, '1');  // no change: nothing written
  vcd.change(500, a, '0');   // late: written at the last time
  auto s = vcd.finish(3000);
  ASSERT_TRUE(s);
  std::string want =
      "$comment\n  test\n$end\n$timescale 1 ns $end\n$scope module vgpio $end\n"
      "$var wire 1 ! dev0.led $end\n$var wire 1 \" dev0.odd_name_ $end\n$upscope $end\n$enddefinitions $end\n"
      "#0\n$dumpvars\n0!\nz\"\n$end\n#1000\n1!\n0\"\n0!\n#3000\n";
  EXPECT_EQ(out.str(), want);
  EXPECT_EQ(s.value().changes, 3u);
  EXPECT_EQ(s.value().inexact, 0u);
}

std::string body(const std::string& vcd) { return vcd.substr(vcd.find("$end\n", vcd.find("$dumpvars")) + 5); }

// The unit is the coarsest that keeps every change exact, so that readers
// which make a sample per unit (sigrok) load a long recording quickly.
TEST(VcdWriter, AutoPicksTheCoarsestExactUnit) {
  std::ostringstream out;
  VcdWriter vcd(out);
  size_t a = vcd.add_signal("a", '0');
  ASSERT_TRUE(vcd.begin("t"));
  vcd.change(200'000'000, a, '1');
  vcd.change(300'000'000, a, '0');
  vcd.change(1'500'000'000, a, '1');
  auto s = vcd.finish(10'000'000'001);  // the end is rounded up, not taken into the unit
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().unit_ns, 100'000'000u);
  EXPECT_NE(out.str().find("$timescale 100 ms $end"), std::string::npos);
  EXPECT_EQ(body(out.str()), "#2\n1!\n#3\n0!\n#15\n1!\n#101\n");
}

TEST(VcdWriter, AutoIsNeverFinerThanThePrecision) {
  std::ostringstream out;
  VcdWriter vcd(out);
  size_t a = vcd.add_signal("a", '0');
  ASSERT_TRUE(vcd.begin("t", 1000));
  vcd.change(1'000'400, a, '1');  // 1000.4 us: 1000 us
  vcd.change(1'002'600, a, '0');  // 1002.6 us: 1003 us
  auto s = vcd.finish(2'000'000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().unit_ns, 1000u);
  EXPECT_EQ(body(out.str()), "#1000\n1!\n#1003\n0!\n#2000\n");
}

TEST(VcdWriter, AGivenUnitRoundsAndCountsWhatItRounded) {
  std::ostringstream out;
  VcdWriter vcd(out, Timescale::parse("1ms").value());
  size_t a = vcd.add_signal("a", '0');
  ASSERT_TRUE(vcd.begin("t"));
  vcd.change(5'000'000, a, '1');  // exact
  vcd.change(7'400'000, a, '0');  // 7 ms
  vcd.change(7'600'000, a, '1');  // 8 ms
  auto s = vcd.finish(9'000'000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().unit_ns, 1'000'000u);
  EXPECT_EQ(s.value().inexact, 2u);
  EXPECT_EQ(body(out.str()), "#5\n1!\n#7\n0!\n#8\n1!\n#9\n");
}

TEST(Timescale, ParsesVcdUnitsOnly) {
  EXPECT_EQ(Timescale::parse("auto").value().unit_ns, 0u);
  EXPECT_EQ(Timescale::parse("1ns").value().unit_ns, 1u);
  EXPECT_EQ(Timescale::parse("100us").value().unit_ns, 100'000u);
  EXPECT_EQ(Timescale::parse("1s").value().unit_ns, 1'000'000'000u);
  for (const char* bad : {"", "2us", "10s", "1 us", "1000ns", "1ps", "us"}) EXPECT_FALSE(Timescale::parse(bad)) << bad;
  EXPECT_EQ(timescale_text(10'000), "10 us");
}

TEST(VcdWriter, IdentifiersStayPrintableAndUnique) {
  std::ostringstream out;
  VcdWriter vcd(out);
  for (int i = 0; i < 10000; ++i) vcd.add_signal("s" + std::to_string(i), '0');
  ASSERT_TRUE(vcd.begin("many"));
  ASSERT_TRUE(vcd.finish(1));
  std::set<std::string> ids;
  std::istringstream in(out.str());
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("$var", 0) == 0) {
      std::istringstream words(line);
      std::string var, type, width, id;
      words >> var >> type >> width >> id;
      for (char c : id) EXPECT_TRUE(c >= '!' && c <= '~');
      ids.insert(id);
    }
  EXPECT_EQ(ids.size(), 10000u);
}

// A harness drives a pin before the firmware configures it: its level is
// recorded whatever the direction.
TEST(LineRecorder, ADrivenLevelIsRecordedBeforeTheGuestSetsADirection) {
  std::ostringstream out;
  LineRecorder r(out, Timescale{1});
  size_t k = r.add_line("d", "btn", {1, gpio::kDirectionNone, gpio::kIrqNone});
  ASSERT_TRUE(r.begin(1'000'000'000, "t"));
  r.level(k, false, 1'000'000'100);
  r.direction(k, gpio::kDirectionIn, 1'000'000'200);
  r.irq_type(k, gpio::kIrqLevelLow, 1'000'000'300);
  r.level(k, true, 1'000'000'400);
  ASSERT_TRUE(r.finish(1'000'000'500));
  std::string s = out.str();
  EXPECT_NE(s.find("$dumpvars\n1!\nz\"\n0#\n0$\n0%\n$end\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#100\n0!\n#200\n0\"\n#300\n1$\n1%\n#400\n1!\n#500\n"), std::string::npos) << s;
}

// z only where nothing drives the line: no direction and no level known (a
// host line nobody has requested); an unknown level with a direction is x.
TEST(LineRecorder, AnUndrivenLineIsZAndAnUnknownLevelX) {
  std::ostringstream out;
  LineRecorder r(out, Timescale{1});
  size_t k = r.add_line("d", "host", {-1, gpio::kDirectionNone, gpio::kIrqNone});
  ASSERT_TRUE(r.begin(1'000'000'000, "t"));
  r.direction(k, gpio::kDirectionOut, 1'000'000'100);
  r.level(k, true, 1'000'000'200);
  ASSERT_TRUE(r.finish(1'000'000'300));
  std::string s = out.str();
  EXPECT_NE(s.find("$dumpvars\nz!\nz\"\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#100\n1\"\nx!\n#200\n1!\n#300\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace vgpio::client
