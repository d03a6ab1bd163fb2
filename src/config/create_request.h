// A device made at run time through the control socket ("create"): its lines
// in the config file's form, checked the same way. Simulated lines are always
// allowed; a host line only as {pool = "NAME"}, an entry of the config's
// [[pool]], so a control client never reaches a host line the config did not
// pool.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "config/config.h"

namespace vgpio::config {

// `request`: {"name": ..., "socket": ..., "lines_toml": "[[line]] tables, as
// in a --lines file", "lines": [{...}, {"pool": "relay0", "name": "relay"}]}.
// The lines of lines_toml come first. Each form is read once: the TOML text
// as it is, each JSON line as a TOML table.
Result<DeviceSpec> parse_create_request(const nlohmann::json& request, const std::vector<LineSpec>& pool);

}  // namespace vgpio::config
