#include "services/auth.h"

#include <grpcpp/server_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/validation.h"

namespace steward {

Authenticator::Authenticator(std::vector<PrincipalConfig> principals)
    : principals_(std::move(principals)) {
  for (const auto& p : principals_) {
    by_hash_[p.token_sha256] = &p;
    by_name_[p.name] = &p;
  }
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    const grpc::ServerContextBase& ctx) const {
  const auto& md = ctx.client_metadata();
  absl::string_view authorization, player;
  if (auto it = md.find("authorization"); it != md.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  if (auto it = md.find(std::string(kPlayerMetadataKey)); it != md.end()) {
    player = absl::string_view(it->second.data(), it->second.size());
  }
  return Authenticate(authorization, player);
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    absl::string_view authorization, absl::string_view player) const {
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send metadata 'authorization: Bearer <token>'");
  }
  if (authorization.size() <= kBearer.size() ||
      !absl::StartsWithIgnoreCase(authorization, kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be 'Bearer <token>'");
  }
  absl::string_view token = authorization.substr(kBearer.size());
  auto it = by_hash_.find(Sha256Hex(token));
  if (it == by_hash_.end()) {
    return absl::UnauthenticatedError("unknown or revoked token");
  }
  Caller c;
  c.principal = it->second;
  if (!player.empty()) {
    if (!c.is_game_server()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kPlayerMetadataKey, " is only for game servers acting for a player"));
    }
    if (auto s = CheckId(kPlayerMetadataKey, player, true); !s.ok()) return s;
    c.player_id = std::string(player);
  }
  return c;
}

const PrincipalConfig* Authenticator::FindGm(absl::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end() || it->second->kind != PrincipalKind::kGm) return nullptr;
  return it->second;
}

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

}  // namespace steward
