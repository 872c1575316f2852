// stewardctl: GM command line for Steward (exit codes: see ctl.h). Each
// command group lives in its own <group>_cmds.cc; this file holds the
// global flags and hash-token.
#include <openssl/sha.h>

#include "admin-tools/ctl.h"
#include "absl/strings/strip.h"

namespace steward::ctl {

int Run(int argc, char** argv) {
  Globals g;
  if (const char* a = std::getenv("STEWARD_ADDR")) g.addr = a;
  if (const char* t = std::getenv("STEWARD_TOKEN")) g.token = t;
  if (const char* p = std::getenv("STEWARD_PLAYER")) g.player = p;

  CLI::App app{"stewardctl: Steward command line for GMs and operators"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--json, --token) may follow the subcommand
  app.add_option("--addr", g.addr, "stewardd address (env STEWARD_ADDR)")->capture_default_str();
  app.add_option("--token", g.token, "bearer token (env STEWARD_TOKEN)");
  app.add_option("--player", g.player,
                 "act for this player id (game-server tokens only; env STEWARD_PLAYER)");
  app.add_flag("--json", g.json, "print JSON instead of tables");
  app.add_option("--tls-ca", g.tls_ca, "CA PEM to verify the server (enables TLS)");
  app.add_option("--tls-cert", g.tls_cert, "client certificate PEM (mTLS)");
  app.add_option("--tls-key", g.tls_key, "client key PEM (mTLS)");
  app.add_option("--timeout", g.timeout_s, "seconds per call")->capture_default_str();
  // Times print in UTC unless asked: --tz beats TZ.
  if (const char* tz = std::getenv("TZ"); tz != nullptr && *tz != '\0') {
    if (!steward::ctl::SetZone(absl::StripPrefix(tz, ":").data())) {
      std::fprintf(stderr, "stewardctl: TZ=%s is no time zone this machine knows; printing UTC\n", tz);
    }
  }
  app.add_option("--tz", "print times in this zone (e.g. Asia/Shanghai, local; env TZ; default UTC)")
      ->each([](const std::string& zone) {
        if (!steward::ctl::SetZone(zone)) {
          throw CLI::ValidationError("--tz", zone + " is no time zone this machine knows (try Asia/Shanghai or local)");
        }
      });

  auto* hash = app.add_subcommand("hash-token", "print the token_sha256 config value for a token");
  std::string raw_token;
  hash->add_option("token", raw_token, "token (read from stdin if omitted)");

  int handled = -1;  // exit code once a command ran from its callback
  AddTicketCommands(app, g, &handled);
  AddAuditCommands(app, g, &handled);
  AddModerationCommands(app, g, &handled);
  AddReportCommands(app, g, &handled);
  AddVipCommands(app, g, &handled);
  AddMonitoringCommands(app, g, &handled);
  AddDeskCommands(app, g, &handled);
  AddIncidentCommands(app, g, &handled);
  AddAdminCommands(app, g, &handled);

  CLI11_PARSE(app, argc, argv);
  if (handled >= 0) return handled;

  if (hash->parsed()) {
    if (raw_token.empty()) std::getline(std::cin, raw_token);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(raw_token.data()), raw_token.size(), d);
    for (unsigned char b : d) std::printf("%02x", b);
    std::printf("\n");
    return 0;
  }

  return 0;
}

}  // namespace steward::ctl

int main(int argc, char** argv) { return steward::ctl::Run(argc, argv); }
