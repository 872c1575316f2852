// StewardServer: the gRPC server over one Store, as stewardd runs it and as
// tests start it in-process (listen on "127.0.0.1:0" to get a free port).
#ifndef STEWARD_SERVICES_SERVER_SERVER_H_
#define STEWARD_SERVICES_SERVER_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/server/config.h"
#include "storage/store.h"

namespace grpc {
class Channel;
class ServerBuilder;
}

namespace steward {

class CallMetrics;

// The transport settings stewardd serves with (message size limits,
// per-stream flow-control window, the call interceptor, counting into
// `metrics` when given). Shared with the benchmark's do-nothing server so
// that both are measured alike.
void ApplyTransportSettings(grpc::ServerBuilder* builder, CallMetrics* metrics = nullptr);

class StewardServer {
 public:
  // Starts serving `config.listen` with the principals and TLS settings of
  // `config`. `store` and `clock` must outlive the server; every domain
  // reads time from `clock` (tests pass a FakeClock).
  static absl::StatusOr<std::unique_ptr<StewardServer>> Start(
      const Config& config, storage::Store* store, const Clock* clock = Clock::Wall());

  StewardServer(const StewardServer&) = delete;
  StewardServer& operator=(const StewardServer&) = delete;
  ~StewardServer();  // Shutdown(absl::ZeroDuration()) if still running

  // Port actually bound (useful with port 0); 0 when config.listen is
  // empty (in-process only).
  int port() const;
  // Port of the /metrics endpoint; 0 when config.metrics.listen is empty.
  int metrics_port() const;
  // The console's port; 0 without [console] listen.
  int console_port() const;
  // A channel to this server that never leaves the process (the embedded
  // plugin's). Valid until Shutdown.
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // Replaces the principals (tokens, roles, scopes) for calls that start
  // from now on; stewardd calls it on SIGHUP with the config file re-read.
  // Every other setting keeps the value it started with.
  void ReloadPrincipals(std::vector<PrincipalConfig> principals);
  // Replaces the token /metrics scrapes must carry, the same way; the
  // endpoint's address keeps the value it started with.
  void ReloadMetricsToken(std::string token_sha256);
  // Takes renewed /metrics certificate files now rather than at the next
  // check (the gRPC port's are checked every tls.refresh_seconds). On an
  // error the certificate in use stays.
  absl::Status ReloadMetricsCertificate();
  // Stops taking calls, marks health NOT_SERVING, lets in-flight calls
  // finish for up to `grace`, then cancels the rest. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct Rep;
  explicit StewardServer(std::unique_ptr<Rep> rep);
  absl::Status StartConsole(const ConsoleConfig& c, int tls_refresh_seconds);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_SERVER_SERVER_H_
