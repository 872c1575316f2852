// The small HTTP endpoint stewardd serves Prometheus metrics on (the text
// itself: common/metrics_text.h).
//
// Metrics never carry player data. Labels hold method names, status codes,
// reasons, realms and game-server ids, all of bounded number.
#ifndef STEWARD_SERVICES_SERVER_METRICS_H_
#define STEWARD_SERVICES_SERVER_METRICS_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/metrics_text.h"

namespace steward {

class ReloadingCertificate;

// Serves GET /metrics over HTTP (or HTTPS) with the text `render` returns at
// each scrape (called on the endpoint's own thread; it must be thread-safe).
// With a non-empty `token_sha256` (lower-case hex), a scrape must carry
// "Authorization: Bearer <token>" or is answered 401.
class MetricsEndpoint {
 public:
  using RenderFn = std::function<std::string()>;

  // `listen` is "host:port"; port 0 picks a free one. With a certificate
  // it serves HTTPS only, each handshake taking the certificate in use
  // (renewals: tls_files.h).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::string token_sha256, RenderFn render,
      std::shared_ptr<ReloadingCertificate> certificate = nullptr);
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  ~MetricsEndpoint();  // stops serving and joins the thread

  int port() const;
  // Replaces the token scrapes must carry ("" = none) from the next scrape
  // on (stewardd's SIGHUP).
  void SetToken(std::string token_sha256);

 private:
  struct Rep;
  explicit MetricsEndpoint(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// Appends the process's own figures under Prometheus's conventional names
// (process_resident_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_start_time_seconds), read from /proc.
void AppendProcessMetrics(MetricsText* out);

}  // namespace steward

#endif  // STEWARD_SERVICES_SERVER_METRICS_H_
