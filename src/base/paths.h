// Paths of sockets that may not exist yet: their directory is resolved, their
// name is kept.
#pragma once

#include <string>

namespace vgpio {

// `path` as its directory, unresolved ("." for a bare name, "/" at the
// root), and its last component.
struct SplitPath {
  std::string dir, name;
};
SplitPath split_path(const std::string& path);
// `name` in `dir` ("/" is not doubled).
std::string join_path(const std::string& dir, const std::string& name);

// The directory `path` lives in, resolved when it exists ("." for a bare name).
std::string directory_of(const std::string& path);

// `path` with its directory resolved: what to tell a user or another program
// that runs elsewhere.
std::string absolute_path(const std::string& path);

}  // namespace vgpio
