// gRPC adapter: AuditService (list, verify the chain) over the audit trail.
#ifndef STEWARD_SERVICES_AUDIT_AUDIT_GRPC_H_
#define STEWARD_SERVICES_AUDIT_AUDIT_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/audit/audit.h"

namespace grpc {
class Service;
}

namespace steward {

class SlowLane;

std::unique_ptr<grpc::Service> MakeAuditService(const Authenticator* auth,
                                               const storage::Store* store, SlowLane* slow);

}  // namespace steward

#endif  // STEWARD_SERVICES_AUDIT_AUDIT_GRPC_H_
