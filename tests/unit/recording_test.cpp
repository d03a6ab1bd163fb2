// VCD output: the header, one-bit signals only, changes in time order, and
// how a line's level, direction and interrupt type are encoded.
#include <gtest/gtest.h>

#include <sstream>

#include "gpio/protocol.h"
#include "client/line_recorder.h"
#include "client/vcd_writer.h"

namespace vgpio::client {
namespace {

TEST(VcdWriter, HeaderDumpvarsAndChanges) {
  std::ostringstream out;
  VcdWriter vcd(out);
  size_t a = vcd.add_signal("dev0.led", '0');
  size_t b = vcd.add_signal("dev0.odd name!", 'z');
  vcd.begin("test");
  vcd.change(1000, a, '1');
  vcd.change(1000, b, '0');
  vcd.change(2000, a, '1');  // no change: nothing written
  vcd.change(500, a, '0');   // late: written at the last time
  vcd.finish(3000);
  std::string want =
      "$comment\n  test\n$end\n$timescale 1 ns $end\n$scope module vgpio $end\n"
      "$var wire 1 ! dev0.led $end\n$var wire 1 \" dev0.odd_name_ $end\n$upscope $end\n$enddefinitions $end\n"
      "#0\n$dumpvars\n0!\nz\"\n$end\n#1000\n1!\n0\"\n0!\n#3000\n";
  EXPECT_EQ(out.str(), want);
}

TEST(VcdWriter, IdentifiersStayPrintableAndUnique) {
  std::ostringstream out;
  VcdWriter vcd(out);
  for (int i = 0; i < 10000; ++i) vcd.add_signal("s" + std::to_string(i), '0');
  vcd.begin("many");
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

TEST(LineRecorder, LevelIsZUntilTheGuestSetsADirection) {
  std::ostringstream out;
  LineRecorder r(out);
  size_t k = r.add_line("d", "btn", {1, gpio::kDirectionNone, gpio::kIrqNone});
  r.begin(1'000'000'000, "t");
  r.level(k, false, 1'000'000'100);                     // still z: no event written
  r.direction(k, gpio::kDirectionIn, 1'000'000'200);    // now the level shows
  r.irq_type(k, gpio::kIrqLevelLow, 1'000'000'300);
  r.level(k, true, 1'000'000'400);
  r.finish(1'000'000'500);
  std::string s = out.str();
  EXPECT_NE(s.find("$dumpvars\nz!\nz\"\n0#\n0$\n0%\n$end\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#200\n0\"\n0!\n#300\n1$\n1%\n#400\n1!\n#500\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace vgpio::client
