// One handler per control command, found by its id: the request has passed
// check_request() already (its fields typed, the table's defaults filled in).
#pragma once

#include <nlohmann/json.hpp>

#include "control/command_context.h"
#include "control/commands.h"

namespace vgpio::control::handlers {

using Handler = nlohmann::json (*)(CommandContext&, Connection&, const nlohmann::json& request);
// A switch without a default: a command of the table with no handler does
// not compile (-Wswitch).
Handler handler_of(CommandId id);

using nlohmann::json;
// device_commands.cpp: devices and their lines.
json list(CommandContext&, Connection&, const json& request);
json status(CommandContext&, Connection&, const json& request);
json get(CommandContext&, Connection&, const json& request);
json set(CommandContext&, Connection&, const json& request);
json watch(CommandContext&, Connection&, const json& request);
json create_device(CommandContext&, Connection&, const json& request);
json destroy_device(CommandContext&, Connection&, const json& request);
json sandbox_probe(CommandContext&, Connection&, const json& request);
// sim_commands.cpp: stimuli and wires.
json pulse(CommandContext&, Connection&, const json& request);
json clock(CommandContext&, Connection&, const json& request);
json bounce(CommandContext&, Connection&, const json& request);
json pattern(CommandContext&, Connection&, const json& request);
json stop(CommandContext&, Connection&, const json& request);
json wire(CommandContext&, Connection&, const json& request);
json unwire(CommandContext&, Connection&, const json& request);
json wires(CommandContext&, Connection&, const json& request);
// time_commands.cpp: a device's guest time, stepped and waited for.
json run_guest(CommandContext&, Connection&, const json& request);

// A watch's "until": the client gets a "time" event once guest time reaches it.
Result<void> wait_for_guest_time(CommandContext& cx, Connection& client, size_t device, GuestTime when);
// The client's connection closed: its guest-time waits go.
void forget_guest_waits(CommandContext& cx, const Connection& client);
// Every device (or one), one call to each device's loop, all at once; a
// device that does not answer in time is shown as not answering.
json devices_json(const CommandContext& cx, std::optional<size_t> only = {});

}  // namespace vgpio::control::handlers
