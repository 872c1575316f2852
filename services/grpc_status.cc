#include "services/grpc_status.h"

#include <google/protobuf/descriptor.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/log.h"

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

std::string UnparsableRequest(absl::string_view type_name) {
  return absl::StrCat("not a valid ", type_name,
                      " (every string field must be UTF-8; send raw bytes as a hash or base64)");
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

class ParseErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ParseErrorInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* batch) override {
    // The server core hands over the parsed request here, or nothing when
    // it could not parse the bytes.
    if (batch->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        batch->GetRecvMessage() == nullptr) {
      unparsed_ = true;
    }
    if (unparsed_ && batch->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        batch->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      batch->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           UnparsableRequest(RequestTypeOf(method_))));
    }
    batch->Proceed();
  }

 private:
  const char* method_;
  bool unparsed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* ParseErrorInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
  return new ParseErrorInterceptor(info->method());
}

}  // namespace steward
