// Operational metrics for Prometheus: the text exposition format (0.0.4)
// and the small HTTP endpoint stewardd serves it on.
//
// Metrics never carry player data. Labels hold method names, status codes,
// reasons, realms and game-server ids, all of bounded number.
#ifndef STEWARD_SERVICES_METRICS_H_
#define STEWARD_SERVICES_METRICS_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/log2_histogram.h"

namespace steward {

class ReloadingCertificate;

// Builds one exposition. Write each family once, as Family() followed by
// its samples; label values are escaped here.
class MetricsText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  using Labels = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

  void Family(absl::string_view name, Type type, absl::string_view help);
  // One sample of the current family; `suffix` is appended to the family's
  // name (histograms' _bucket, _sum, _count).
  void Sample(double value, Labels labels = {}, absl::string_view suffix = "");
  void Sample(uint64_t value, Labels labels = {}, absl::string_view suffix = "");
  // One histogram series of the current family from a Log2Histogram whose
  // values are `per_unit` to the family's unit (1e6 for microseconds in a
  // family in seconds). Buckets are written for the bucket tops 2^lo..2^hi,
  // then +Inf; each count is exact, as the tops are the histogram's own.
  void Histogram(const Log2Histogram::Snapshot& h, double per_unit, int lo, int hi,
                 Labels labels = {});

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Head(absl::string_view suffix, Labels labels,
            std::pair<absl::string_view, absl::string_view> extra = {});

  std::string out_;
  std::string family_;
};

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

#endif  // STEWARD_SERVICES_METRICS_H_
