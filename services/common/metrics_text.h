// Operational metrics for Prometheus: the text exposition format (0.0.4).
// Domains write their own families with it; server/metrics.h serves them.
//
// Metrics never carry player data. Labels hold method names, status codes,
// reasons, realms and game-server ids, all of bounded number.
#ifndef STEWARD_SERVICES_COMMON_METRICS_TEXT_H_
#define STEWARD_SERVICES_COMMON_METRICS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "services/common/log2_histogram.h"

namespace steward {

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

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_METRICS_TEXT_H_
