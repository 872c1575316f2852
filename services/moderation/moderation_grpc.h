// gRPC adapter: ModerationService over Moderation.
#ifndef STEWARD_SERVICES_MODERATION_MODERATION_GRPC_H_
#define STEWARD_SERVICES_MODERATION_MODERATION_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/moderation/moderation.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeModerationService(const Authenticator* auth,
                                                     Moderation* moderation);

}  // namespace steward

#endif  // STEWARD_SERVICES_MODERATION_MODERATION_GRPC_H_
