// The one place absl::Status becomes grpc::Status. Codes carry over as-is
// (the numbering is the same). Internal failures are logged with detail
// and reach the caller without internals.
#ifndef STEWARD_SERVICES_GRPC_STATUS_H_
#define STEWARD_SERVICES_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace steward {

grpc::Status ToGrpc(const absl::Status& s);

}  // namespace steward

#endif  // STEWARD_SERVICES_GRPC_STATUS_H_
