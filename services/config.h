// stewardd configuration: a TOML file, overridable by command-line flags.
//
//   listen = "127.0.0.1:50051"          # Default
//   data_dir = "var/data"               # Default
//   [tls]                               # Default: plaintext
//   cert_file = "server.pem"
//   key_file = "server.key"
//   client_ca_file = "ca.pem"           # set: clients must present a cert (mTLS)
//   [[principals]]
//   name = "gm-alice"
//   kind = "gm"                         # or "game_server"
//   role = "agent"                      # gm: agent | lead | supervisor | admin
//   realm = "eu1"                       # game_server: realm it may act in
//   server = "eu1-s1"                   # game_server: optional, one server only
//   token_sha256 = "<hex sha-256 of the bearer token>"
//
// Only token hashes are stored; `stewardctl hash-token` prints one.
#ifndef STEWARD_SERVICES_CONFIG_H_
#define STEWARD_SERVICES_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace steward {

enum class PrincipalKind { kGm, kGameServer };
// Ordered: a higher role may do everything a lower one may.
enum class Role { kNone = 0, kAgent = 1, kLead = 2, kSupervisor = 3, kAdmin = 4 };

struct PrincipalConfig {
  std::string name;
  PrincipalKind kind = PrincipalKind::kGm;
  Role role = Role::kNone;
  std::string realm;
  std::string server;
  std::string token_sha256;  // lower-case hex
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

struct Config {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "var/data";
  TlsConfig tls;
  std::vector<PrincipalConfig> principals;
};

// Parses TOML text; errors name the offending key.
absl::StatusOr<Config> ParseConfig(const std::string& toml_text);
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

absl::string_view RoleName(Role r);
absl::StatusOr<Role> ParseRole(absl::string_view s);

// Lower-case hex SHA-256 of `token`.
std::string Sha256Hex(absl::string_view token);

}  // namespace steward

#endif  // STEWARD_SERVICES_CONFIG_H_
