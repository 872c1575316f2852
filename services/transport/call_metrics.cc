#include "services/transport/call_metrics.h"

#include <algorithm>
#include <vector>

#include "absl/strings/strip.h"

namespace steward {
namespace {

// Names as grpc::StatusCode numbers them.
constexpr absl::string_view kCodeNames[CallMetrics::kCodes] = {
    "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED"};

}  // namespace

CallMetrics::Method* CallMetrics::For(absl::string_view method) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(method);
    if (it != methods_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  if (methods_.size() >= kMaxMethods && !methods_.contains(method)) method = "other";
  auto& slot = methods_[std::string(method)];
  if (slot == nullptr) slot = std::make_unique<Method>();
  return slot.get();
}

void CallMetrics::Render(MetricsText* out) const {
  std::vector<std::pair<std::string, const Method*>> methods;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, m] : methods_) methods.emplace_back(name, m.get());
  }
  std::sort(methods.begin(), methods.end());
  using T = MetricsText::Type;
  out->Family("steward_grpc_server_handled_total", T::kCounter,
              "gRPC calls finished, by method and status code.");
  for (const auto& [name, m] : methods) {
    absl::string_view method = absl::StripPrefix(name, "/");
    for (int c = 0; c < kCodes; ++c) {
      uint64_t n = m->codes[c].load(std::memory_order_relaxed);
      if (n > 0) out->Sample(n, {{"method", method}, {"code", kCodeNames[c]}});
    }
  }
  out->Family("steward_grpc_server_handling_seconds", T::kHistogram,
              "Time from a unary call's arrival to its status being sent.");
  for (const auto& [name, m] : methods) {
    Log2Histogram::Snapshot h = m->latency_us.Read();
    if (h.count == 0) continue;
    // Buckets from 16 us to about 34 s.
    out->Histogram(h, 1e6, 4, 25, {{"method", absl::StripPrefix(name, "/")}});
  }
}

}  // namespace steward
