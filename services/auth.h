// Authentication: bearer token in metadata -> principal; and the caller
// identity every service acts for.
#ifndef STEWARD_SERVICES_AUTH_H_
#define STEWARD_SERVICES_AUTH_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/config.h"

namespace grpc {
class ServerContextBase;
}

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

class Authenticator {
 public:
  explicit Authenticator(std::vector<PrincipalConfig> principals);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // Replaces every principal (tokens, roles, scopes) for the calls that
  // start from now on: a removed token is refused, a changed role applies.
  // Streams already open keep the identity they started with.
  void Replace(std::vector<PrincipalConfig> principals);

  // From "authorization: Bearer <token>" and, for game servers, the
  // optional x-steward-player entry. Unauthenticated when the token is
  // missing or unknown; InvalidArgument for a malformed player id.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;
  // Same, from raw values (the gRPC-free core, also used by embedders).
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization,
                                      absl::string_view player) const;

  // For long streams, before each message: OK while `c`'s token still
  // grants what it did when the stream began (a reload kept it unchanged);
  // UNAUTHENTICATED once it was revoked or its role or scope changed.
  absl::Status Recheck(const Caller& c) const;

  // Whether a GM principal of that name exists now.
  bool IsGm(absl::string_view name) const;

 private:
  struct Set {
    std::vector<PrincipalConfig> principals;
    std::unordered_map<std::string, const PrincipalConfig*> by_hash;
    std::unordered_map<std::string, const PrincipalConfig*> by_name;
  };
  static std::shared_ptr<const Set> Index(std::vector<PrincipalConfig> principals);
  std::shared_ptr<const Set> Current() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Set> current_ ABSL_GUARDED_BY(mu_);
};

// Requirement helpers: PermissionDenied with a message saying what is
// needed.
absl::Status RequireGm(const Caller& c, Role min_role, absl::string_view what);
absl::Status RequireGameServerWithPlayer(const Caller& c, absl::string_view what);

}  // namespace steward

#endif  // STEWARD_SERVICES_AUTH_H_
