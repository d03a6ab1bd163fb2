#include "base/duration.h"

#include <cmath>
#include <cstdlib>

#include "base/strings.h"

namespace vgpio {

Result<std::chrono::nanoseconds> parse_duration(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  // strtod also reads "nan" and "inf": neither is a duration.
  if (end == text.c_str() || !std::isfinite(v) || v < 0) return Error("not a duration: \"" + text + "\"");
  std::string unit(end);
  double ns;
  if (unit == "ns") ns = v;
  else if (unit.empty() || unit == "us") ns = v * 1e3;
  else if (unit == "ms") ns = v * 1e6;
  else if (unit == "s") ns = v * 1e9;
  else return Error("unknown unit \"" + unit + "\" in \"" + text + "\" (use ns, us, ms or s)");
  if (!(ns <= 1e12)) return Error("duration too long: \"" + text + "\" (at most 1000s)");
  return std::chrono::nanoseconds(std::llround(ns));
}

std::string format_duration(std::chrono::nanoseconds d) {
  long long ns = d.count();
  struct Unit {
    long long size;
    const char* name;
  };
  for (Unit u : {Unit{1000000000, "s"}, Unit{1000000, "ms"}, Unit{1000, "us"}})
    if (ns >= u.size)
      return ns % u.size == 0 ? strfmt("%lld%s", ns / u.size, u.name)
                              : strfmt("%g%s", double(ns) / double(u.size), u.name);
  return strfmt("%lldns", ns);
}

}  // namespace vgpio
