// Per-method counts of finished gRPC calls by status code, and how long
// unary calls took, as the server's call interceptor (grpc_status.h) sees
// them. Rendered on /metrics as steward_grpc_server_handled_total and
// steward_grpc_server_handling_seconds.
#ifndef STEWARD_SERVICES_TRANSPORT_CALL_METRICS_H_
#define STEWARD_SERVICES_TRANSPORT_CALL_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/common/log2_histogram.h"
#include "services/server/metrics.h"

namespace steward {

class CallMetrics {
 public:
  static constexpr int kCodes = 17;  // grpc::StatusCode OK .. UNAUTHENTICATED

  struct Method {
    std::array<std::atomic<uint64_t>, kCodes> codes{};
    Log2Histogram latency_us;  // unary calls only
  };

  CallMetrics() = default;
  CallMetrics(const CallMetrics&) = delete;
  CallMetrics& operator=(const CallMetrics&) = delete;

  // Distinct method names kept; calls to further names (only unknown
  // methods can get there) are counted under "other".
  static constexpr size_t kMaxMethods = 256;

  // The counters of full method name "/pkg.Service/Method"; stable for the
  // life of this object. Looked up once per call.
  Method* For(absl::string_view method);

  void Render(MetricsText* out) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_CALL_METRICS_H_
