// Who may reach the sockets: their modes and owners, and who may observe or
// act through the control socket.
#include <grp.h>
#include <pwd.h>

#include <cstdlib>

#include "config/toml_reader.h"

namespace vgpio::config::detail {

Result<void> parse_access(const Context& ctx, const toml::table& t, const std::string& prefix, SocketAccess* access) {
  const std::string mode_key = prefix + "_mode", owner_key = prefix + "_owner", group_key = prefix + "_group";
  if (auto mode = TRY(get_string(ctx, t, mode_key))) {
    char* end = nullptr;
    unsigned long m = std::strtoul(mode->c_str(), &end, 8);
    if (mode->empty() || *end || m > 0777)
      return ctx.error(*t.get(mode_key), "\"" + mode_key + "\" must be octal, like \"0660\"");
    access->mode = static_cast<mode_t>(m);
  }
  if (auto owner = TRY(get_string(ctx, t, owner_key))) {
    struct passwd* pw = getpwnam(owner->c_str());
    if (!pw) return ctx.error(*t.get(owner_key), "no user \"" + *owner + "\"");
    access->owner = pw->pw_uid;
  }
  if (auto group_name = TRY(get_string(ctx, t, group_key))) {
    struct group* gr = getgrnam(group_name->c_str());
    if (!gr) return ctx.error(*t.get(group_key), "no group \"" + *group_name + "\"");
    access->group = gr->gr_gid;
  }
  return ok();
}

namespace {
// ["alice", "@gpio"]: users by name, groups by name after an '@'.
Result<Grant> parse_grant(const Context& ctx, const toml::table& t, const char* key) {
  Grant grant;
  const toml::node* node = t.get(key);
  if (!node) return grant;
  const toml::array* list = node->as_array();
  if (!list) return ctx.error(*node, strfmt("\"%s\" must be a list of users and @groups", key));
  for (const auto& item : *list) {
    auto text = item.value<std::string>();
    if (!text || text->empty() || *text == "@")
      return ctx.error(item, strfmt("\"%s\" holds user names and @group names, like [\"alice\", \"@gpio\"]", key));
    if ((*text)[0] == '@') {
      struct group* gr = getgrnam(text->c_str() + 1);
      if (!gr) return ctx.error(item, strfmt("\"%s\": no group \"%s\"", key, text->c_str() + 1));
      grant.groups.push_back(gr->gr_gid);
    } else {
      struct passwd* pw = getpwnam(text->c_str());
      if (!pw) return ctx.error(item, strfmt("\"%s\": no user \"%s\"", key, text->c_str()));
      grant.users.push_back(pw->pw_uid);
    }
  }
  return grant;
}
}  // namespace

Result<void> parse_control_access(const Context& ctx, const toml::table& t, RootSettings& root) {
  TRY(parse_access(ctx, t, "control", &root.control_access));
  root.control_observe = TRY(parse_grant(ctx, t, "control_observe"));
  root.control_act = TRY(parse_grant(ctx, t, "control_act"));
  root.create_dir = TRY(get_string(ctx, t, "create_dir")).value_or("");
  if (!root.create_dir.empty() && root.create_dir[0] != '/')
    return ctx.error(*t.get("create_dir"), "\"create_dir\" must be an absolute path");
  return ok();
}

}  // namespace vgpio::config::detail
