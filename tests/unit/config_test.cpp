// The config file: what it accepts, and that every error names file and line.
#include "config/config.h"

#include <gtest/gtest.h>

#include "config/create_request.h"

namespace vgpio::config {
namespace {

std::string error_of(const std::string& text) {
  auto r = parse(text, "test.toml");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().message();
}

TEST(Config, TheExampleParses) {
  auto r = load(std::string(VGPIO_SOURCE_DIR) + "/examples/vgpio.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const ConfigSpec& c = r.value();
  EXPECT_EQ(c.root.control, "/run/vgpio/control.sock");
  EXPECT_EQ(c.root.access.mode, 0660u);
  ASSERT_EQ(c.devices.size(), 1u);
  const DeviceSpec& d = c.devices[0];
  EXPECT_EQ(d.name, "plc1");
  ASSERT_EQ(d.lines.size(), 4u);
  EXPECT_EQ(d.lines[0].chip, "gpiochip0");
  EXPECT_EQ(d.lines[0].offset, 4u);
  EXPECT_FALSE(d.lines[0].policy.may_output);
  EXPECT_EQ(d.lines[0].bias, lines::Bias::PullUp);
  EXPECT_TRUE(d.lines[0].active_low);
  EXPECT_EQ(d.lines[0].debounce, std::chrono::milliseconds(5));
  EXPECT_EQ(d.lines[1].host_name, "ESTOP_IN");
  EXPECT_FALSE(d.lines[2].policy.may_input);
  EXPECT_FALSE(d.lines[2].policy.safe_level);
  EXPECT_TRUE(d.lines[3].simulated);
  EXPECT_TRUE(d.lines[3].policy.may_input && d.lines[3].policy.may_output);
}

TEST(Config, Defaults) {
  auto r = parse("[[device]]\nsocket = \"a.sock\"\n[[device.line]]\nsimulated = true\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r.value().devices[0].name, "vgpio0");
  EXPECT_EQ(r.value().root.access.mode, 0600u);
  EXPECT_FALSE(r.value().devices[0].connect);
}

TEST(Config, SafeLevelIsTheDefaultInitialLevel) {
  auto r = parse("[[device]]\nsocket = \"a\"\n[[device.line]]\nsimulated = true\nsafe_level = \"high\"\n", "t");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().devices[0].lines[0].policy.safe_level);
  EXPECT_TRUE(r.value().devices[0].lines[0].policy.initial);
}

TEST(Config, ErrorsNameTheFileAndLine) {
  const std::string head = "[[device]]\nname = \"vm\"\nsocket = \"a.sock\"\n";  // lines 1-3
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"[[device]]\nsocket = \"a\"\n[[device.line]]\nchip = \"gpiochip0\"\nofset = 3\n", "test.toml:5: "},
      {head + "[[device.line]]\nsimulated = true\nchip = \"x\"\noffset = 1\n",
       "test.toml:4: device \"vm\" line 0: a line is exactly one of"},
      {head + "[[device.line]]\nchip = \"gpiochip0\"\n",
       "test.toml:4: device \"vm\" line 0: a host line by chip needs both"},
      {head + "[[device.line]]\nsimulated = true\ndirection = \"sideways\"\n",
       "test.toml:6: device \"vm\" line 0: \"direction\""},
      {head + "[[device.line]]\nsimulated = true\ndirection = \"input\"\nsafe_level = 1\n",
       "test.toml:7: device \"vm\" line 0: an input-only line"},
      {head + "[[device.line]]\nchip = \"c\"\noffset = 1\ndirection = \"output\"\nbias = \"pull-up\"\n",
       "test.toml:8: "},
      {head + "[[device.line]]\nchip = \"c\"\noffset = 70000\n", "test.toml:6: device \"vm\" line 0: \"offset\""},
      {head + "[[device.line]]\nchip = \"c\"\noffset = 1\ndebounce = \"soon\"\n", "test.toml:7: "},
      {head + "[[device.line]]\nsimulated = true\nsafe_level = 2\n", "test.toml:6: "},
      {head + "[[device.line]]\nname = \"a\"\nsimulated = true\n[[device.line]]\nname = \"a\"\nsimulated = true\n",
       "test.toml:7: device \"vm\" line 1: name \"a\" is used twice"},
      {head + "[[device.line]]\nname = \"caf\xc3\xa9\"\nsimulated = true\n", "test.toml:5: "},
      {"[[device]]\nname = \"vm\"\n[[device.line]]\nsimulated = true\n", "test.toml:1: device \"vm\": \"socket\""},
      {head, "test.toml:1: device \"vm\": a device needs at least one"},
      {"control = \"c\"\n", "test.toml:1: no [[device]]"},
      {"[[device]\nsocket = 1\n", "test.toml:1: "},
      {"socket_mode = \"999\"\n" + head + "[[device.line]]\nsimulated = true\n", "test.toml:1: \"socket_mode\""},
      {"socket_group = \"no-such-group-here\"\n" + head + "[[device.line]]\nsimulated = true\n",
       "test.toml:1: no group"},
      {head + "[[device.line]]\nsimulated = true\n[[device]]\nname = \"vm\"\nsocket = "
              "\"b\"\n[[device.line]]\nsimulated = true\n",
       "test.toml:6: device name \"vm\" is used twice"},
      {head + "[[device.line]]\nsimulated = true\n[[device]]\nname = \"vm2\"\nsocket = "
              "\"a.sock\"\n[[device.line]]\nsimulated = true\n",
       "test.toml:6: socket \"a.sock\" is used by two devices"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.text);
    EXPECT_EQ(e.rfind(c.expect, 0), 0u) << "got: " << e << "\nfor:\n" << c.text;
  }
}

TEST(Config, NamesAreCheckedForDevicesAndLines) {
  const std::string line = "[[device.line]]\nsimulated = true\n";
  for (std::string bad : {std::string("a\\nSTOPPING=1"), std::string("a/b"), std::string(".."), std::string("x..y"),
                          std::string(200, 'n'), std::string(".hidden"), std::string("sp ace")}) {
    std::string device = error_of("[[device]]\nname = \"" + bad + "\"\nsocket = \"a\"\n" + line);
    EXPECT_EQ(device.rfind("test.toml:2: \"name\": ", 0), 0u) << device;
    EXPECT_NE(device.find("a name is 1 to 64 of"), std::string::npos) << device;
    std::string in_line =
        error_of("[[device]]\nsocket = \"a\"\n[[device.line]]\nname = \"" + bad + "\"\nsimulated = true\n");
    EXPECT_EQ(in_line.rfind("test.toml:4: device \"vgpio0\" line 0: \"name\": ", 0), 0u) << in_line;
  }
  EXPECT_NE(error_of("[[device]]\nname = \"a\\nb\"\nsocket = \"a\"\n" + line).find("the byte 0x0a"), std::string::npos);
  EXPECT_TRUE(parse("[[device]]\nname = \"vm-1_a.b+c\"\nsocket = \"a\"\n" + line, "t").ok());
  EXPECT_NE(error_of("[[device]]\nname = \"\"\nsocket = \"a\"\n" + line).find("it is empty"), std::string::npos);
  auto unnamed = parse("[[device]]\nsocket = \"a\"\n[[device.line]]\nname = \"\"\nsimulated = true\n", "t");
  ASSERT_TRUE(unnamed.ok()) << unnamed.error().message();  // a line may have no name
  EXPECT_TRUE(check_name(std::string(64, 'a')));
  EXPECT_FALSE(check_name(std::string(65, 'a')));
  EXPECT_FALSE(parse_line_option("a/b=sim"));
}

TEST(Config, TheControlSocketHasItsOwnAccess) {
  const std::string device = "[[device]]\nsocket = \"a\"\n[[device.line]]\nsimulated = true\n";
  auto plain = parse("socket_mode = \"0666\"\n" + device, "t");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.value().root.access.mode, 0666u);
  EXPECT_EQ(plain.value().root.control_access.mode, 0600u);  // the device sockets' mode is not the control socket's
  auto granted = parse(
      "control_mode = \"0660\"\ncontrol_group = \"root\"\ncontrol_observe = [\"root\", \"@root\"]\n"
      "control_act = [\"@root\"]\ncreate_dir = \"/run/vgpio\"\n" +
          device,
      "t");
  ASSERT_TRUE(granted.ok()) << granted.error().message();
  EXPECT_EQ(granted.value().root.control_access.mode, 0660u);
  EXPECT_EQ(granted.value().root.control_access.group, 0u);
  EXPECT_EQ(granted.value().root.control_observe.users, std::vector<uid_t>{0});
  EXPECT_EQ(granted.value().root.control_observe.groups, std::vector<gid_t>{0});
  EXPECT_EQ(granted.value().root.control_act.groups, std::vector<gid_t>{0});
  EXPECT_EQ(granted.value().root.create_dir, "/run/vgpio");
  EXPECT_NE(error_of("control_act = [\"no-such-user-here\"]\n" + device).find("no user"), std::string::npos);
  EXPECT_NE(error_of("control_observe = \"root\"\n" + device).find("must be a list"), std::string::npos);
  EXPECT_NE(error_of("create_dir = \"relative\"\n" + device).find("absolute path"), std::string::npos);
}

// A reload keeps a device whose entry is equal, and replaces one that is not:
// equality is the compiler's (every field), except where the entry sits.
TEST(Config, EntriesAreEqualWhenEveryFieldIsExceptWhereTheySit) {
  const std::string device = "[[device]]\nname = \"vm\"\nsocket = \"a\"\n[[device.line]]\nname = \"x\"\n";
  auto base = parse(device + "chip = \"c\"\noffset = 1\ndirection = \"output\"\n", "t");
  auto moved = parse("\n\n# moved down\n" + device + "chip = \"c\"\noffset = 1\ndirection = \"output\"\n", "t");
  ASSERT_TRUE(base.ok() && moved.ok());
  EXPECT_EQ(base.value().devices[0], moved.value().devices[0]);
  for (const std::string change :
       {"chip = \"c\"\noffset = 2\ndirection = \"output\"\n", "chip = \"d\"\noffset = 1\ndirection = \"output\"\n",
        "chip = \"c\"\noffset = 1\ndirection = \"output\"\nsafe_level = 1\n",
        "chip = \"c\"\noffset = 1\ndirection = \"output\"\nactive_low = true\n",
        "chip = \"c\"\noffset = 1\ndirection = \"output\"\nwhen_idle = \"release\"\n",
        "chip = \"c\"\noffset = 1\ndirection = \"any\"\n"}) {
    auto changed = parse(device + change, "t");
    ASSERT_TRUE(changed.ok()) << changed.error().message();
    EXPECT_NE(base.value().devices[0], changed.value().devices[0]) << change;
  }
}

// A create request's lines: TOML text (a --lines file) as it is, then the
// JSON ones, each read once; errors point into the text.
TEST(CreateRequest, TakesTomlTextAndJsonLinesInThatOrder) {
  std::vector<LineSpec> pool = {LineSpec{.name = "relay0", .chip = "gpiochip0", .offset = 1, .pool = "relay0"}};
  nlohmann::json request = {{"name", "t"},
                            {"socket", "t.sock"},
                            {"lines_toml",
                             "[[line]]\nname = \"first\"\nsimulated = true\n\n[[line]]\npool = \"relay0\"\n"},
                            {"lines", {{{"name", "last"}, {"simulated", true}}}}};
  auto d = parse_create_request(request, pool);
  ASSERT_TRUE(d.ok()) << d.error().message();
  ASSERT_EQ(d.value().lines.size(), 3u);
  EXPECT_EQ(d.value().lines[0].name, "first");
  EXPECT_EQ(d.value().lines[1].pool, "relay0");
  EXPECT_EQ(d.value().lines[2].name, "last");

  request["lines_toml"] = "[[line]]\nname = \"a\"\nsimulated = true\ncolour = \"red\"\n";
  auto unknown = parse_create_request(request, pool);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message().rfind("create request:4: ", 0), 0u) << unknown.error().message();
  request["lines_toml"] = "[[line]\n";
  auto broken = parse_create_request(request, pool);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message().rfind("create request: lines_toml:1: ", 0), 0u) << broken.error().message();
  for (const char* odd :
       {"line = 5\n", "device = \"x\"\n", "[[line]]\nname = \"a\"\nchip = \"gpiochip0\"\noffset = 1\n"}) {
    request["lines_toml"] = odd;  // not [[line]] tables; another key; a host line outside the pool
    EXPECT_FALSE(parse_create_request(request, pool).ok()) << odd;
  }
  request.erase("lines_toml");
  request.erase("lines");
  EXPECT_FALSE(parse_create_request(request, pool).ok());  // no line at all
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("10ms").value(), std::chrono::milliseconds(10));
  EXPECT_EQ(parse_duration("250us").value(), std::chrono::microseconds(250));
  EXPECT_EQ(parse_duration("1.5s").value(), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("40").value(), std::chrono::microseconds(40));
  EXPECT_EQ(parse_duration("2.5us").value(), std::chrono::nanoseconds(2500));
  EXPECT_EQ(parse_duration("250ns").value(), std::chrono::nanoseconds(250));
  EXPECT_EQ(format_duration(std::chrono::microseconds(2500)), "2.5ms");
  EXPECT_EQ(format_duration(std::chrono::seconds(3)), "3s");
  EXPECT_FALSE(parse_duration("ms").ok());
  EXPECT_FALSE(parse_duration("-3ms").ok());
  EXPECT_FALSE(parse_duration("3 weeks").ok());
  EXPECT_FALSE(parse_duration("nan").ok());  // found by fuzz_config
  EXPECT_FALSE(parse_duration("infms").ok());
  EXPECT_FALSE(parse_duration("1e300s").ok());
}

}  // namespace
}  // namespace vgpio::config

namespace vgpio::config {
namespace {

// Outputs, and lines given a safe level, are held at it while idle unless
// they opt out; an "any" line without a safe level is released while idle.
TEST(Config, WhenIdle) {
  auto line = [](const std::string& keys) {
    auto r = parse("[[device]]\nsocket = \"a\"\n[[device.line]]\nchip = \"c\"\noffset = 1\n" + keys, "t.toml");
    EXPECT_TRUE(r.ok()) << keys << ": " << (r.ok() ? "" : r.error().message());
    return r.ok() ? r.value().devices[0].lines[0].policy : lines::LinePolicy{};
  };
  EXPECT_TRUE(line("direction = \"output\"\n").hold_when_idle);
  EXPECT_TRUE(line("safe_level = 1\n").hold_when_idle);
  EXPECT_FALSE(line("").hold_when_idle);
  EXPECT_FALSE(line("direction = \"input\"\n").hold_when_idle);
  EXPECT_FALSE(line("direction = \"output\"\nwhen_idle = \"release\"\n").hold_when_idle);
  EXPECT_TRUE(line("when_idle = \"hold\"\n").hold_when_idle);
  const std::string head = "[[device]]\nsocket = \"a\"\n[[device.line]]\n";
  EXPECT_NE(error_of(head + "chip = \"c\"\noffset = 1\nwhen_idle = \"keep\"\n").find("t.toml:6:"), std::string::npos);
  EXPECT_NE(
      error_of(head + "chip = \"c\"\noffset = 1\ndirection = \"input\"\nwhen_idle = \"hold\"\n").find("input-only"),
      std::string::npos);
  EXPECT_NE(error_of(head + "simulated = true\nwhen_idle = \"hold\"\n").find("host lines only"), std::string::npos);
}

TEST(Config, Wires) {
  const std::string devices =
      "[[device]]\nname = \"plc\"\nsocket = \"a\"\n[[device.line]]\nname = \"relay\"\nsimulated = true\n"
      "[[device]]\nname = \"plant\"\nsocket = \"b\"\n[[device.line]]\nname = \"pump\"\nsimulated = true\n";
  auto r =
      parse(devices + "[[wire]]\nfrom = \"plc:relay\"\nto = \"plant:0\"\ndelay = \"2ms\"\ninvert = true\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r.value().wires.size(), 1u);
  const WireEntry& w = r.value().wires[0];
  EXPECT_EQ(w.from_device + ":" + w.from_line + " " + w.to_device + ":" + w.to_line, "plc:relay plant:0");
  EXPECT_EQ(w.delay, std::chrono::milliseconds(2));
  EXPECT_TRUE(w.invert);
  EXPECT_EQ(w.source_line.number, 13);
  auto err = [&](const std::string& wire) { return error_of(devices + "[[wire]]\n" + wire); };
  EXPECT_NE(err("from = \"plc:relay\"\n").find("\"to\" is required"), std::string::npos);
  EXPECT_NE(err("from = \"plc:relay\"\nto = \"plant\"\n").find("DEVICE:LINE"), std::string::npos);
  EXPECT_NE(err("from = \"plc:relay\"\nto = \"mill:0\"\n").find("no device named \"mill\""), std::string::npos);
  EXPECT_NE(err("from = \"plc:relay\"\nto = \"plant:1\"\n").find("has no line \"1\""), std::string::npos);
  EXPECT_NE(err("from = \"plc:relay\"\nto = \"plant:pump\"\ndelay = \"soon\"\n").find("t.toml:16:"), std::string::npos);
  EXPECT_NE(err("from = \"plc:relay\"\nto = \"plant:pump\"\nspeed = 1\n").find("unknown key"), std::string::npos);
}

TEST(ConfigCommandLine, LineOptions) {
  auto a = parse_line_option("door=gpiochip0:5:in").release_value();
  EXPECT_EQ(a.name, "door");
  EXPECT_EQ(a.chip, "gpiochip0");
  EXPECT_EQ(a.offset, 5u);
  EXPECT_FALSE(a.policy.may_output);
  EXPECT_FALSE(a.policy.hold_when_idle);
  auto b = parse_line_option("relay=/dev/gpiochip1:0:out").release_value();
  EXPECT_EQ(b.chip, "/dev/gpiochip1");
  EXPECT_FALSE(b.policy.may_input);
  EXPECT_TRUE(b.policy.hold_when_idle);
  auto c = parse_line_option("x=my-label:12").release_value();
  EXPECT_EQ(c.chip, "my-label");
  EXPECT_TRUE(c.policy.may_input && c.policy.may_output);
  EXPECT_EQ(parse_line_option("e=@ESTOP:in").release_value().host_name, "ESTOP");
  EXPECT_TRUE(parse_line_option("k=sim").release_value().simulated);
  for (const char* bad :
       {"door", "door=gpiochip0", "door=gpiochip0:", "door=gpiochip0:x", "door=:3", "d=@", "d=c:99999"})
    EXPECT_FALSE(parse_line_option(bad).ok()) << bad;
}

}  // namespace
}  // namespace vgpio::config
