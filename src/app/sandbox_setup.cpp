#include "app/sandbox_setup.h"

#include <cstdlib>
#include <cstring>

#include "base/paths.h"
#ifdef VGPIO_SANDBOX_PROBE
#include "service/sandbox_probe.h"
#endif

namespace vgpio::app {

namespace {

void add_once(std::vector<std::string>& list, const std::string& item) {
  for (const auto& have : list)
    if (have == item) return;
  list.push_back(item);
}

}  // namespace

service::FilesystemNeeds filesystem_needs(const ServeOptions& options, const DaemonConfig& config) {
  service::FilesystemNeeds needs;
  // A reload may add devices beside these; devices made at run time go in
  // the create directory (by default the control socket's).
  if (!config.settings.create_dir.empty()) add_once(needs.socket_dirs, config.settings.create_dir);
  for (const auto& d : config.devices)
    if (!d.connect) add_once(needs.socket_dirs, directory_of(d.socket));
  for (const auto& s : config.sockets)
    if (!s.path.empty()) add_once(needs.socket_dirs, directory_of(s.path));
  if (!config.settings.control.empty()) add_once(needs.socket_dirs, directory_of(config.settings.control));
  if (!options.config.empty()) {
    char resolved[PATH_MAX];
    add_once(needs.read_dirs, directory_of(realpath(options.config.c_str(), resolved) ? resolved : options.config));
    // A reloaded file's user and group names are looked up then (getpwnam,
    // getgrnam: NSS's files). Names only: /etc/shadow is not among them.
    needs.read_files = {"/etc/passwd", "/etc/group", "/etc/nsswitch.conf"};
  }
  // A config file may name host lines now or after a reload; --line always
  // does. Only the simulated default needs nothing under /dev.
  needs.dev_files = !options.config.empty() || !options.lines.empty();
  const char* notify = std::getenv("NOTIFY_SOCKET");
  needs.abstract_sockets = notify && notify[0] == '@';
  return needs;
}

Result<void> sandbox_before_start(const service::FilesystemNeeds& needs, service::SandboxState& state) {
  state.enabled = true;
  TRY(service::set_no_new_privs(state));
  return service::restrict_filesystem(needs, state);
}

Result<void> sandbox_after_start(const service::Identity& who, bool enabled, service::SandboxState& state) {
  TRY(service::become(who, state));
  if (!enabled) return ok();
  return service::install_syscall_filter(state);
}

nlohmann::json sandbox_json(const service::SandboxState& state) {
  return {{"sandbox",
           {{"enabled", state.enabled},
            {"user", state.user},
            {"uid", state.uid},
            {"gid", state.gid},
            {"no_new_privs", state.no_new_privs},
            {"seccomp", state.seccomp},
            {"denied_syscalls", service::denied_syscalls()},
            {"landlock", state.landlock},
            {"landlock_abi", state.landlock_abi}}}};
}

#ifdef VGPIO_SANDBOX_PROBE
nlohmann::json probe_sandbox_json(const nlohmann::json& request) {
  service::ProbeTargets targets{request.value("chip", ""), request.value("pid", 0), request.value("socket", "")};
  nlohmann::json attempts = nlohmann::json::object();
  for (const auto& [what, err] : service::probe_sandbox(targets))
    attempts[what] = err == 0 ? "allowed" : strerrorname_np(err);
  return attempts;
}
#endif

}  // namespace vgpio::app
