#include "lines/host_chips.h"

#include <dirent.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <gpiod.hpp>

#include "base/strings.h"

namespace vgpio::lines {
namespace {
std::vector<std::string> all_chips() {
  std::vector<std::string> paths;
  if (DIR* dir = opendir("/dev")) {
    while (dirent* e = readdir(dir)) {
      std::string path = std::string("/dev/") + e->d_name;
      if (std::string(e->d_name).rfind("gpiochip", 0) == 0 && gpiod::is_gpiochip_device(path)) paths.push_back(path);
    }
    closedir(dir);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}
}  // namespace

Error error_from(const std::exception& e, const std::string& context) {
  if (auto* se = dynamic_cast<const std::system_error*>(&e)) return Error::from_errno(se->code().value(), context);
  return Error(context + ": " + e.what());
}

std::string describe_chip(const std::string& path) {
  try {
    gpiod::chip chip(path);
    auto info = chip.get_info();
    return info.name() + " [" + info.label() + "]";
  } catch (const std::exception&) {
    return path;
  }
}

Result<std::string> resolve_chip(const std::string& spec) {
  std::string path;
  if (spec.rfind("/", 0) == 0) path = spec;
  else if (spec.size() > 8 && spec.rfind("gpiochip", 0) == 0 &&
           spec.find_first_not_of("0123456789", 8) == std::string::npos)
    path = "/dev/" + spec;
  if (!path.empty()) {
    if (!gpiod::is_gpiochip_device(path)) return Error("chip \"" + spec + "\": " + path + " is not a GPIO chip");
    return path;
  }
  std::vector<std::string> matches;
  std::string unreadable;
  for (const auto& p : all_chips()) {
    try {
      if (gpiod::chip(p).get_info().label() == spec) matches.push_back(p);
    } catch (const std::exception& e) {
      unreadable += "; " + error_from(e, "cannot open " + p).message();
    }
  }
  if (matches.empty())
    return Error("no GPIO chip with the label \"" + spec + "\" (give a path, gpiochipN or a label)" + unreadable);
  if (matches.size() > 1)
    return Error("two GPIO chips have the label \"" + spec + "\": " + matches[0] + ", " + matches[1]);
  return matches[0];
}

Result<HostLineRef> find_line_by_name(const std::string& name) {
  std::vector<HostLineRef> found;
  std::string unreadable;
  for (const auto& p : all_chips()) {
    try {
      int offset = gpiod::chip(p).get_line_offset_from_name(name);
      if (offset >= 0) found.push_back({p, static_cast<unsigned>(offset)});
    } catch (const std::exception& e) {
      unreadable += "; " + error_from(e, "cannot open " + p).message();
    }
  }
  if (found.empty()) return Error("no host GPIO line is named \"" + name + "\"" + unreadable);
  if (found.size() > 1)
    return Error(strfmt("the host line name \"%s\" is on %s and %s; give chip and offset instead", name.c_str(),
                        found[0].chip_path.c_str(), found[1].chip_path.c_str()));
  return found[0];
}

Result<void> check_line(const HostLineRef& ref) {
  try {
    gpiod::chip chip(ref.chip_path);
    size_t n = chip.get_info().num_lines();
    if (ref.offset >= n)
      return Error(
          strfmt("%s has %zu lines; there is no line %u", describe_chip(ref.chip_path).c_str(), n, ref.offset));
    return ok();
  } catch (const std::exception& e) {
    return error_from(e, "opening " + ref.chip_path);
  }
}

Result<HostLineRef> resolve_line(const HostLineSource& source) {
  HostLineRef ref;
  if (!source.host_name.empty()) {
    ref = TRY(find_line_by_name(source.host_name));
  } else {
    ref.chip_path = TRY(resolve_chip(source.chip));
    ref.offset = source.offset;
  }
  char buf[PATH_MAX];
  if (realpath(ref.chip_path.c_str(), buf)) ref.chip_path = buf;
  TRY(check_line(ref));
  return ref;
}

std::string ChipIdentity::describe() const {
  std::string text = strfmt("label \"%s\", %zu lines", label.c_str(), num_lines);
  if (!line_name.empty()) text += ", line named \"" + line_name + "\"";
  return text;
}

Result<ChipIdentity> identify(const HostLineRef& ref) {
  try {
    gpiod::chip chip(ref.chip_path);
    auto info = chip.get_info();
    ChipIdentity id{info.label(), info.num_lines(), ""};
    if (ref.offset < id.num_lines) id.line_name = chip.get_line_info(ref.offset).name();
    return id;
  } catch (const std::exception& e) {
    return error_from(e, "reading " + ref.chip_path);
  }
}

Result<std::string> line_holder(const HostLineRef& ref) {
  try {
    auto info = gpiod::chip(ref.chip_path).get_line_info(ref.offset);
    if (!info.used()) return std::string();
    return info.consumer().empty() ? std::string("?") : info.consumer();
  } catch (const std::exception& e) {
    return error_from(e, strfmt("reading %s line %u", ref.chip_path.c_str(), ref.offset));
  }
}

Result<bool> line_is_output(const HostLineRef& ref) {
  try {
    return gpiod::chip(ref.chip_path).get_line_info(ref.offset).direction() == gpiod::line::direction::OUTPUT;
  } catch (const std::exception& e) {
    return error_from(e, strfmt("reading the direction of %s line %u", ref.chip_path.c_str(), ref.offset));
  }
}

}  // namespace vgpio::lines
