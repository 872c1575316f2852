// stewardd: the Steward daemon.
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/server/config.h"
#include "services/common/log.h"
#include "services/server/server.h"
#include "storage/backup.h"
#include "storage/store.h"

int main(int argc, char** argv) {
  CLI::App app{"stewardd: in-game support and moderation service"};
  std::string config_path, listen, data_dir, metrics_listen, console_listen, tls_cert, tls_key,
      tls_client_ca, tls_crl_dir;
  double grace_seconds = 10;
  app.add_option("-c,--config", config_path, "TOML config file (principals, TLS, ...)");
  app.add_option("--listen", listen, "address:port to serve (overrides config)");
  app.add_option("--data-dir", data_dir, "RocksDB data directory (overrides config)");
  app.add_option("--metrics-listen", metrics_listen,
                 "address:port for Prometheus's GET /metrics (overrides config)");
  app.add_option("--console-listen", console_listen,
                 "address:port for the GM console and the JSON face (overrides config)");
  app.add_option("--tls-cert", tls_cert, "server certificate PEM (overrides config)");
  app.add_option("--tls-key", tls_key, "server private key PEM (overrides config)");
  app.add_option("--tls-client-ca", tls_client_ca,
                 "CA PEM that client certificates must chain to (enables mTLS)");
  app.add_option("--tls-crl-dir", tls_crl_dir,
                 "directory of PEM CRLs revoking client certificates, named by `openssl rehash`");
  std::string restore_from;
  uint32_t backup_id = 0;
  app.add_option("--restore-from", restore_from,
                 "restore a backup from this directory into the (empty) data dir, then exit");
  app.add_option("--backup-id", backup_id, "with --restore-from: which backup (default: the newest)");
  app.add_option("--shutdown-grace", grace_seconds,
                 "seconds in-flight calls may take to finish on SIGINT/SIGTERM")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Debian's Abseil is built with its debug deadlock detector on: every
  // Mutex acquisition (gRPC's own included) then updates a process-wide
  // lock graph under a global lock. Tests keep it; the daemon does not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  steward::RouteProtobufLogs();

  steward::Config config;
  if (!config_path.empty()) {
    auto c = steward::LoadConfigFile(config_path);
    if (!c.ok()) {
      std::fprintf(stderr, "stewardd: %s\n", std::string(c.status().message()).c_str());
      return 2;
    }
    config = *std::move(c);
  }
  if (!listen.empty()) config.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!metrics_listen.empty()) config.metrics.listen = metrics_listen;
  if (!console_listen.empty()) config.console.listen = console_listen;
  if (!tls_cert.empty()) config.tls.cert_file = tls_cert;
  if (!tls_key.empty()) config.tls.key_file = tls_key;
  if (!tls_client_ca.empty()) config.tls.client_ca_file = tls_client_ca;
  if (!tls_crl_dir.empty()) config.tls.crl_directory = tls_crl_dir;
  if (!restore_from.empty()) {
    auto restored = steward::storage::RestoreBackup(restore_from, backup_id, config.data_dir);
    if (!restored.ok()) {
      std::fprintf(stderr, "stewardd: %s\n", std::string(restored.status().message()).c_str());
      return 1;
    }
    std::printf("restored backup %u (taken %s, %u files, %llu bytes) into %s; start stewardd as usual\n",
                restored->id, absl::FormatTime(absl::FromUnixSeconds(restored->created_unix)).c_str(),
                restored->files, static_cast<unsigned long long>(restored->size_bytes),
                std::filesystem::absolute(config.data_dir).string().c_str());
    return 0;
  }
  if (config.principals.empty()) {
    steward::LogWarning("no principals configured: every call will be refused");
  }

  // Block the stop and reload signals before any thread starts, so only
  // sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto store = steward::storage::Store::Open(
      {.path = config.data_dir, .max_pending_bytes = size_t(config.store.max_pending_mib) << 20});
  if (!store.ok()) {
    std::fprintf(stderr, "stewardd: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  auto server = steward::StewardServer::Start(config, store->get());
  if (!server.ok()) {
    std::fprintf(stderr, "stewardd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  steward::LogInfo("stewardd serving on port ", (*server)->port(), " (", config.listen,
                   ", ", config.tls.cert_file.empty() ? "plaintext" : "TLS",
                   "), data in ", std::filesystem::absolute(config.data_dir).string());
  if ((*server)->metrics_port() != 0) {
    steward::LogInfo("metrics at ", config.metrics.cert_file.empty() ? "http" : "https", "://", config.metrics.listen.substr(0, config.metrics.listen.rfind(':')),
                     ":", (*server)->metrics_port(), "/metrics");
  }
  if ((*server)->console_port() != 0) {
    steward::LogInfo("console at ", config.console.cert_file.empty() ? "http" : "https", "://",
                     config.console.listen.substr(0, config.console.listen.rfind(':')), ":",
                     (*server)->console_port(), "/");
  }

  int sig = 0;
  // SIGHUP: re-read the config file and take its principals (a new GM, a
  // revoked token, a changed role) without dropping a connection.
  while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
    // Renewed certificate files: the metrics endpoint's now (the gRPC
    // port's are taken within tls.refresh_seconds in any case).
    if (absl::Status s = (*server)->ReloadMetricsCertificate(); !s.ok()) {
      steward::LogError("SIGHUP: the metrics certificate was not renewed: ", s.message());
    }
    if (config_path.empty()) {
      steward::LogWarning("SIGHUP: no --config file to reload");
      continue;
    }
    auto c = steward::LoadConfigFile(config_path);
    if (!c.ok()) {
      steward::LogError("SIGHUP: ", config_path, " not reloaded, the principals stay as they were: ",
                        c.status().message());
      continue;
    }
    size_t gms = 0;
    for (const auto& p : c->principals) gms += p.kind == steward::PrincipalKind::kGm;
    (*server)->ReloadPrincipals(c->principals);
    (*server)->ReloadMetricsToken(c->metrics.token_sha256);
    steward::LogInfo("SIGHUP: principals reloaded from ", config_path, ": ", gms, " GMs, ",
                     c->principals.size() - gms, " game servers, and the metrics token (other settings apply at the next start)");
  }
  steward::LogInfo("signal ", sig, ": finishing in-flight calls");
  (*server)->Shutdown(absl::Seconds(grace_seconds));
  server->reset();
  store->reset();  // commits what is queued, then closes RocksDB
  steward::LogInfo("stewardd stopped");
  return 0;
}
