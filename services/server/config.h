// stewardd configuration: a TOML file, overridable by command-line flags.
//
//   listen = "127.0.0.1:50051"          # Default
//   data_dir = "var/data"               # Default
//   [tls]                               # Default: plaintext
//   cert_file = "server.pem"
//   key_file = "server.key"
//   client_ca_file = "ca.pem"           # set: clients must present a cert (mTLS)
//   crl_directory = "crl"               # revoked client certs (openssl rehash)
//   refresh_seconds = 60                # renewed files are taken this often
//   [[principals]]
//   name = "gm-alice"
//   kind = "gm"                         # or "game_server"
//   role = "agent"                      # gm: agent | lead | supervisor | admin
//   realm = "eu1"                       # game_server: realm it may act in
//   server = "eu1-s1"                   # game_server: optional, one server only
//   token_sha256 = "<hex sha-256 of the bearer token>"
//   [metrics]                           # Default: no metrics endpoint
//   listen = "127.0.0.1:9464"           # Prometheus scrapes GET /metrics here
//   token_sha256 = "<hex sha-256>"      # optional: require this bearer token
//   [reports]                           # Defaults shown
//   reports_per_hour = 20               # per reporting player
//   escalation_threshold = 5.0          # weighted reports within the window
//   window_minutes = 60
//   custom_categories = []              # allowed values of custom_category
//   attachment_types = ["image/*", "text/*", "application/json", ...]  # bug attachments
//   [vip]
//   downgrade_grace_days = 14
//   churn_threshold = 0.6
//   [[vip.tiers]]                       # lowest first; none = silver/gold/platinum
//   name = "gold"
//   lifetime_spend = 1000.0             # reached at this lifetime spend ...
//   rolling_30d_spend = 300.0           # ... or this spend in 30 days
//   callback_hours = 48                 # callback after a resolved ticket
//   ticket_priority = "high"            # low | normal | high | urgent
//
// Only token hashes are stored; `stewardctl hash-token` prints one.
#ifndef STEWARD_SERVICES_SERVER_CONFIG_H_
#define STEWARD_SERVICES_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/principal.h"

namespace steward {

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // Revoked client certificates: a directory of PEM CRLs, one per client
  // CA, named by `openssl rehash`. Read by OpenSSL at each handshake.
  std::string crl_directory;
  // How often the certificate, key and CA files (the gRPC port's and the
  // metrics endpoint's) are looked at for a renewal.
  int refresh_seconds = 60;
};

struct ReportsConfig {
  int reports_per_hour = 20;
  double escalation_threshold = 5.0;
  int window_minutes = 60;
  std::vector<std::string> custom_categories;
  // Empty: ReportOptions' default list.
  std::vector<std::string> attachment_types;
};

struct VipTierEntry {
  std::string name;
  int64_t lifetime_cents = 0;
  int64_t rolling_30d_cents = 0;
  int callback_hours = 72;
  std::string ticket_priority = "high";
  int dispatch_minutes = 0;  // tighter ticket limits for the tier; 0: the desk's
  int answer_hours = 0;
};

struct VipConfig {
  int downgrade_grace_days = 14;
  double churn_threshold = 0.6;
  std::vector<VipTierEntry> tiers;  // empty: the built-in three
};

struct MonitoringConfig {
  int workers = 2;
  int memory_limit_mib = 1024;
  int allowed_lateness_ms = 5000;
  int max_hold_ms = 250;
  int minute_retention_hours = 48;
  int hour_retention_days = 90;
  int alerts_per_rule_per_minute = 6000;
  // Rolling checkpoint of window state: a crash loses at most this much
  // of the windows (0: off, and only a graceful stop saves them).
  int checkpoint_seconds = 300;
  // The open minute's metric roll-ups are stored this often, so a crash
  // loses at most this much of the metrics (0: only when the minute ends;
  // a graceful stop always saves them).
  int rollup_flush_seconds = 10;
  // Work items (an event times the rules it matches) a worker's queue
  // holds before batches wait: the alert latency a full pipeline adds.
  int queue_items = 1 << 16;
};

// Ticket time limits ([sla]); 0 leaves a limit unset at that level.
struct SlaLimitsConfig {
  int dispatch_minutes = 0;
  int answer_hours = 0;
};

struct BusinessHoursConfig {
  std::string zone = "UTC";
  std::vector<std::string> days;  // "mon".."sun"
  std::string open, close;        // "HH:MM"
  std::vector<std::string> holidays;  // "YYYY-MM-DD"
};

struct DeskConfig {
  int csat_window_days = 28;
  SlaLimitsConfig defaults{240, 72};
  // Keys: category names as in stewardctl (complaint, question, ...) and
  // priority names (low, normal, high, urgent).
  std::map<std::string, SlaLimitsConfig> by_category{{"complaint", {60, 0}}};
  std::map<std::string, SlaLimitsConfig> by_priority;
  std::optional<BusinessHoursConfig> business_hours;
  // [quality]: the inspection sheet and sample size.
  std::vector<std::string> quality_criteria{"wording", "attitude", "understanding", "handling"};
  int quality_max_score = 5;
  int quality_per_agent = 5;
  // [[sensitive]] topics (support rule 13); unset: the built-in ones.
  struct SensitiveTopicConfig {
    std::string name;
    std::vector<std::string> categories;  // complaint, payment, account, ...
    std::vector<std::string> words;
  };
  std::optional<std::vector<SensitiveTopicConfig>> sensitive;
};

// [backup]: where and how often (docs/operations.md#backups).
struct BackupConfig {
  std::string dir;      // empty: no backups
  int every_hours = 0;  // 0: on demand only
  int keep = 7;         // scheduled backups keep the newest this many
};

// [incidents]: the spike detector.
struct IncidentsConfig {
  int spike_count = 50;  // 0: off
  int spike_window_minutes = 10;
};

// [compensation]: the unit grant values are counted in, and what each
// role may grant without a second GM's approval (per player and per grant).
struct CompensationConfig {
  std::string unit = "credits";
  std::map<std::string, std::pair<int64_t, int64_t>> limits{
      {"agent", {0, 0}}, {"lead", {1000, 100000}}, {"supervisor", {10000, 1000000}}, {"admin", {10000, 1000000}}};
};

// The directive log to game servers ([directives]).
struct DirectivesConfig {
  // How long directives stay readable: a game server offline for longer
  // resumes with DirectiveBatch.missed_through set and re-checks its players.
  int retention_hours = 24 * 7;
};

struct IdempotencyConfig {
  // How long an idempotency key is honoured: a retry within it gets the
  // first attempt's answer; after it, the key is forgotten.
  int keep_hours = 24 * 7;
};

// The Prometheus endpoint ([metrics]). It serves operational figures
// only, never player data; bind it where only the scraper can reach it.
struct MetricsConfig {
  std::string listen;        // "host:port"; empty: no endpoint
  std::string token_sha256;  // set: scrapes must send this bearer token
  std::string cert_file;     // both set: HTTPS only
  std::string key_file;
};
// The GM console ([console]): the web app, its sessions and the JSON face.
struct ConsoleConfig {
  std::string listen;      // "host:port"; empty: no console
  std::string assets_dir;  // empty: beside the binary (see docs/console.md)
  int session_idle_minutes = 30;
  int session_max_hours = 12;
  std::string cert_file;  // both set: HTTPS only, Secure cookies
  std::string key_file;
};
// Calls a second each principal may start ([limits]), by role for GMs and
// for game servers; 0 = no limit. A principal's own calls_per_second wins.
struct LimitsConfig {
  int agent = 50;
  int lead = 50;
  int supervisor = 50;
  int admin = 100;
  int game_server = 0;  // game servers batch; flow control bounds their streams
  int For(const PrincipalConfig& p) const {
    if (p.kind == PrincipalKind::kGameServer) return game_server;
    switch (p.role) {
      case Role::kAgent: return agent;
      case Role::kLead: return lead;
      case Role::kSupervisor: return supervisor;
      case Role::kAdmin: return admin;
      default: return agent;
    }
  }
};
// The store's bound on queued writes ([store]).
struct StoreConfig {
  int max_pending_mib = 256;  // past it, writes are refused (RESOURCE_EXHAUSTED)
};
struct Config {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "var/data";
  StoreConfig store;
  LimitsConfig limits;
  TlsConfig tls;
  std::vector<PrincipalConfig> principals;
  ReportsConfig reports;
  VipConfig vip;
  MonitoringConfig monitoring;
  DeskConfig desk;
  IncidentsConfig incidents;
  BackupConfig backup;
  CompensationConfig compensation;
  DirectivesConfig directives;
  IdempotencyConfig idempotency;
  MetricsConfig metrics;
  ConsoleConfig console;
};

// Parses TOML text; errors name the offending key.
absl::StatusOr<Config> ParseConfig(const std::string& toml_text);
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace steward

#endif  // STEWARD_SERVICES_SERVER_CONFIG_H_
