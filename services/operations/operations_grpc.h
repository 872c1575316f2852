// gRPC adapter: AdminService (backups).
#ifndef STEWARD_SERVICES_OPERATIONS_OPERATIONS_GRPC_H_
#define STEWARD_SERVICES_OPERATIONS_OPERATIONS_GRPC_H_

#include <memory>

#include "services/common/slow_lane.h"
#include "services/operations/backups.h"
#include "services/transport/auth.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeAdminService(const Authenticator* auth, const BackupDesk* backups, SlowLane* slow);

}  // namespace steward

#endif  // STEWARD_SERVICES_OPERATIONS_OPERATIONS_GRPC_H_
