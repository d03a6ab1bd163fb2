#include "base/paths.h"

#include <climits>
#include <cstdlib>

namespace vgpio {

SplitPath split_path(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string join_path(const std::string& dir, const std::string& name) { return dir + (dir == "/" ? "" : "/") + name; }

std::string directory_of(const std::string& path) {
  std::string dir = split_path(path).dir;
  char resolved[PATH_MAX];
  return realpath(dir.c_str(), resolved) ? std::string(resolved) : dir;
}

std::string absolute_path(const std::string& path) {
  std::string dir = directory_of(path);
  if (dir.empty() || dir[0] != '/') return path;  // the directory is gone: say what we were given
  return join_path(dir, split_path(path).name);
}

}  // namespace vgpio
