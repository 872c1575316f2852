#include "services/grpc_status.h"

#include <atomic>

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

}  // namespace steward
