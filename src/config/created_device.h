// A device made at run time through the control socket ("create"): its lines
// in the config file's form, checked the same way. Simulated lines are always
// allowed; a host line only as {pool = "NAME"}, an entry of the config's
// [[pool]], so a control client never reaches a host line the config did not
// pool.
#pragma once

#include <toml++/toml.h>
#include <vector>

#include "config/config.h"

namespace vgpio::config {

// `request`: { name = "...", socket = "...", line = [ {...}, {pool = "relay0", name = "relay"} ] }.
Result<DeviceSpec> parse_created_device(const toml::table& request, const std::vector<LineSpec>& pool);

}  // namespace vgpio::config
