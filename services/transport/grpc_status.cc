#include "services/transport/grpc_status.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/transport/call_metrics.h"
#include "services/common/log.h"

namespace steward {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  switch (s.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown: {
      static std::atomic<uint64_t> next_ref{1};
      uint64_t ref = next_ref.fetch_add(1);
      LogError("internal error ref=", ref, ": ", s.ToString());
      return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                          absl::StrCat("internal error (server log ref ", ref, ")"));
    }
    default:
      return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                          std::string(s.message()));
  }
}


namespace {

using grpc::experimental::InterceptionHookPoints;

// The request type's name for a full method name "/pkg.Service/Method".
std::string RequestTypeOf(absl::string_view method) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(absl::StripPrefix(method, "/"), absl::MaxSplits('/', 1));
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(parts.first));
  const auto* m = service ? service->FindMethodByName(std::string(parts.second)) : nullptr;
  return m ? m->input_type()->name() : "request message";
}

// See CallInterceptorFactory.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(const char* method, bool fix_parse_errors, bool unary,
                  CallMetrics::Method* counters)
      : method_(method),
        fix_parse_errors_(fix_parse_errors),
        unary_(unary),
        counters_(counters),
        start_(counters != nullptr && unary ? std::chrono::steady_clock::now()
                                            : std::chrono::steady_clock::time_point()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* batch) override {
    // The server core hands over the parsed request here, or nothing when
    // it could not parse the bytes.
    if (fix_parse_errors_ &&
        batch->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        batch->GetRecvMessage() == nullptr) {
      unparsed_ = true;
    }
    if (batch->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::StatusCode code = batch->GetSendStatus().error_code();
      if (unparsed_ && code == grpc::StatusCode::UNIMPLEMENTED) {
        code = grpc::StatusCode::INVALID_ARGUMENT;
        batch->ModifySendStatus(grpc::Status(code, UnparsableRequest(RequestTypeOf(method_))));
      }
      if (counters_ != nullptr) {
        int c = static_cast<int>(code);
        counters_->codes[c >= 0 && c < CallMetrics::kCodes ? c : 2].fetch_add(
            1, std::memory_order_relaxed);  // out of range: UNKNOWN
        if (unary_) {
          const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - start_);
          counters_->latency_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, us.count())));
        }
      }
    }
    batch->Proceed();
  }

 private:
  const char* method_;
  const bool fix_parse_errors_;
  const bool unary_;
  CallMetrics::Method* const counters_;
  const std::chrono::steady_clock::time_point start_;
  bool unparsed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* CallInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  const bool unary = info->type() == Type::UNARY;
  const bool fix = unary || info->type() == Type::SERVER_STREAMING;
  if (!fix && metrics_ == nullptr) return nullptr;
  return new CallInterceptor(info->method(), fix, unary,
                             metrics_ != nullptr ? metrics_->For(info->method()) : nullptr);
}

}  // namespace steward
