// The one place absl::Status becomes grpc::Status. Codes carry over as-is
// (the numbering is the same). Internal failures are logged with detail
// and reach the caller without internals.
#ifndef STEWARD_SERVICES_TRANSPORT_GRPC_STATUS_H_
#define STEWARD_SERVICES_TRANSPORT_GRPC_STATUS_H_

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/validation.h"

namespace steward {

class CallMetrics;

grpc::Status ToGrpc(const absl::Status& s);


// The server's one interceptor. It does two things:
// - Left to itself, gRPC answers a unary or server-streaming request that
//   does not parse with a bare UNIMPLEMENTED and no message, as if the
//   method did not exist. The interceptor notices the failed parse and turns
//   that answer into INVALID_ARGUMENT saying which message did not parse and
//   why it usually happens. Client and bidirectional streams parse their
//   own messages (see monitoring_grpc.cc) and are left alone.
// - With `metrics`, it counts every call's status by method and times unary
//   calls from arrival to status. `metrics` must outlive the server.
class CallInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(CallMetrics* metrics = nullptr) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallMetrics* const metrics_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_GRPC_STATUS_H_
