#include "services/common/caller.h"

#include "absl/strings/str_cat.h"

namespace steward {

absl::Status RequireGm(const Caller& c, Role min_role, absl::string_view what) {
  if (!c.is_gm()) {
    return absl::PermissionDeniedError(absl::StrCat(what, " is for GMs only"));
  }
  if (c.principal->role < min_role) {
    return absl::PermissionDeniedError(absl::StrCat(
        what, " needs role ", RoleName(min_role), " or above; ", c.name(),
        " is ", RoleName(c.principal->role)));
  }
  return absl::OkStatus();
}

absl::Status RequireGameServerWithPlayer(const Caller& c, absl::string_view what) {
  if (!c.is_game_server()) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " is made by a game server on behalf of a player"));
  }
  if (c.player_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " needs the player in metadata '", kPlayerMetadataKey, "'"));
  }
  return absl::OkStatus();
}

absl::Status RequireGameServerScope(const Caller& c, absl::string_view realm, absl::string_view server,
                                    absl::string_view what) {
  if (!c.is_game_server()) return absl::OkStatus();
  const PrincipalConfig& p = *c.principal;
  if (realm != p.realm) {
    return absl::PermissionDeniedError(
        absl::StrCat(c.name(), " may ", what, " in realm ", p.realm, " only, not ", realm));
  }
  if (!p.server.empty() && !server.empty() && server != p.server) {
    return absl::PermissionDeniedError(
        absl::StrCat(c.name(), " may ", what, " for server ", p.server, " only, not ", server));
  }
  return absl::OkStatus();
}

}  // namespace steward
