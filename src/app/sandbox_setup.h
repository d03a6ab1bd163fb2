// Fits the sandbox (service/sandbox.h) to what `vgpio serve` was asked to do.
#pragma once

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/host_setup.h"
#include "service/sandbox.h"

namespace vgpio::app {

// The files the daemon needs once running: its socket directories, the
// config file (reloads), and /dev when it may serve host lines.
service::FilesystemNeeds filesystem_needs(const ServeOptions& options, const DaemonConfig& config);

// Before the daemon is built (no thread yet): no_new_privs and Landlock.
Result<void> sandbox_before_start(const service::FilesystemNeeds& needs, service::SandboxState& state);
// Once it is built: become `who`, then the seccomp filter on every thread.
Result<void> sandbox_after_start(const service::Identity& who, bool enabled, service::SandboxState& state);

// For `vgpio ctl status`.
nlohmann::json sandbox_json(const service::SandboxState& state);

#ifdef VGPIO_SANDBOX_PROBE
// Test builds: "sandbox-probe" (service/sandbox_probe.h) on the calling
// thread, as {"attempt": "allowed" or the errno's name}.
nlohmann::json probe_sandbox_json(const nlohmann::json& request);
#endif

}  // namespace vgpio::app
