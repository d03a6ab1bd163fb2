// Paths of sockets that may not exist yet: their directory is resolved, their
// name is kept.
#pragma once

#include <string>

namespace vgpio {

// The directory `path` lives in, resolved when it exists ("." for a bare name).
std::string directory_of(const std::string& path);

// `path` with its directory resolved: what to tell a user or another program
// that runs elsewhere.
std::string absolute_path(const std::string& path);

}  // namespace vgpio
