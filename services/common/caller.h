// The identity every domain call acts for, and the role checks on it.
// Plain C++: transport/auth.h makes a Caller from a call's metadata.
#ifndef STEWARD_SERVICES_COMMON_CALLER_H_
#define STEWARD_SERVICES_COMMON_CALLER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/principal.h"

namespace steward {

// Metadata key naming the player a game server acts for.
inline constexpr absl::string_view kPlayerMetadataKey = "x-steward-player";

// Who is calling. Cheap to copy.
struct Caller {
  const PrincipalConfig* principal = nullptr;
  std::string player_id;  // game servers acting for a player; else empty
  // The principal set `principal` belongs to, kept alive for as long as
  // this caller (a call in flight, a long stream) when the principals are
  // replaced. Empty when the principal is owned elsewhere (tests).
  std::shared_ptr<const void> principals;

  bool is_gm() const { return principal->kind == PrincipalKind::kGm; }
  bool is_game_server() const { return principal->kind == PrincipalKind::kGameServer; }
  // GM with at least role `r`.
  bool HasRole(Role r) const { return is_gm() && principal->role >= r; }
  const std::string& name() const { return principal->name; }
};

// Who the GMs are now (the authenticator, after each reload). Domains that
// assign work to a GM by name check it here. Thread-safe.
class GmDirectory {
 public:
  virtual ~GmDirectory() = default;
  // Whether a GM principal of that name exists now.
  virtual bool IsGm(absl::string_view name) const = 0;
};

// Requirement helpers: PermissionDenied with a message saying what is
// needed.
absl::Status RequireGm(const Caller& c, Role min_role, absl::string_view what);
absl::Status RequireGameServerWithPlayer(const Caller& c, absl::string_view what);
// A game server acts in its own realm only, and, when its principal names
// one server, for that server only (an empty `server` in the request means
// its own). PermissionDenied naming the scope; OK for GMs. `what` completes
// "<name> may ...", e.g. "file reports".
absl::Status RequireGameServerScope(const Caller& c, absl::string_view realm, absl::string_view server,
                                    absl::string_view what);

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_CALLER_H_
