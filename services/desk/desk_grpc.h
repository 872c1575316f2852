// gRPC adapters: KnowledgeService and DeskService (handover, quality,
// desk reports).
#ifndef STEWARD_SERVICES_DESK_DESK_GRPC_H_
#define STEWARD_SERVICES_DESK_DESK_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/desk/desk.h"
#include "services/desk/knowledge.h"

namespace grpc {
class Service;
}

namespace steward {

class SlowLane;

std::unique_ptr<grpc::Service> MakeKnowledgeService(const Authenticator* auth, Knowledge* kb);
std::unique_ptr<grpc::Service> MakeDeskService(const Authenticator* auth, Desk* desk, SlowLane* slow);

}  // namespace steward

#endif  // STEWARD_SERVICES_DESK_DESK_GRPC_H_
