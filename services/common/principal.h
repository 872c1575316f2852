// Who may call Steward: GMs by role, game servers by realm. Every domain
// checks these; only server/config.h fills them from the config file.
#ifndef STEWARD_SERVICES_COMMON_PRINCIPAL_H_
#define STEWARD_SERVICES_COMMON_PRINCIPAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace steward {

enum class PrincipalKind { kGm, kGameServer };
// Ordered: a higher role may do everything a lower one may.
enum class Role { kNone = 0, kAgent = 1, kLead = 2, kSupervisor = 3, kAdmin = 4 };

// Name of the principal monitoring-rule actions run as (reserved: no
// configured principal may take it, nor "steward", the time-limit scheduler).
inline constexpr absl::string_view kMonitorPrincipal = "monitor";

struct PrincipalConfig {
  std::string name;
  PrincipalKind kind = PrincipalKind::kGm;
  Role role = Role::kNone;
  std::string realm;
  std::string server;
  std::string token_sha256;  // lower-case hex
  // Calls a second this principal may start over gRPC (and the JSON face),
  // with bursts of twice that; past it, RESOURCE_EXHAUSTED. 0: no limit.
  // The config fills it from [limits] by role, or the principal's own
  // calls_per_second.
  double calls_per_second = 0;
};

// "agent", "lead", "supervisor", "admin" ("none" for kNone).
absl::string_view RoleName(Role r);

// The principal Steward's own automatic actions run as ("steward", admin):
// time-limit breaches, the incident spike detector, scheduled backups.
const PrincipalConfig& StewardPrincipal();
// The inverse of RoleName; InvalidArgument for any other text.
absl::StatusOr<Role> ParseRole(absl::string_view s);

// Lower-case hex SHA-256 of `token`: how principals' tokens are kept.
std::string Sha256Hex(absl::string_view token);

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_PRINCIPAL_H_
