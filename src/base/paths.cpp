#include "base/paths.h"

#include <climits>
#include <cstdlib>

namespace vgpio {

std::string directory_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  char resolved[PATH_MAX];
  return realpath(dir.c_str(), resolved) ? std::string(resolved) : dir;
}

std::string absolute_path(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string dir = directory_of(path);
  if (dir.empty() || dir[0] != '/') return path;  // the directory is gone: say what we were given
  return dir + (dir == "/" ? "" : "/") + name;
}

}  // namespace vgpio
