// `vgpio panel`: starts vgpio-panel, the program beside this one. The panel
// is a separate program so that the daemon's binary has no HTTP code.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/commands.h"

namespace vgpio::app {

int run_panel(const std::string& control, const std::string& listen) {
  std::string self(PATH_MAX, '\0');
  ssize_t n = readlink("/proc/self/exe", self.data(), self.size());
  std::string beside = n > 0 ? self.substr(0, self.rfind('/', static_cast<size_t>(n)) + 1) + "vgpio-panel" : "";
  std::string control_arg = "--control=" + control, listen_arg = "--listen=" + listen;
  char* argv[] = {const_cast<char*>("vgpio-panel"), control_arg.data(), listen_arg.data(), nullptr};
  if (!beside.empty()) execv(beside.c_str(), argv);
  execvp("vgpio-panel", argv);  // installed elsewhere on PATH
  std::fprintf(stderr, "vgpio panel: cannot start vgpio-panel (beside %s, or on PATH): %s\n",
               n > 0 ? self.substr(0, static_cast<size_t>(n)).c_str() : "vgpio", std::strerror(errno));
  return 1;
}

}  // namespace vgpio::app
