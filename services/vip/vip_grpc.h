// gRPC adapter: VipService over VipCare.
#ifndef STEWARD_SERVICES_VIP_VIP_GRPC_H_
#define STEWARD_SERVICES_VIP_VIP_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/vip/vip.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeVipService(const Authenticator* auth, VipCare* vip);

}  // namespace steward

#endif  // STEWARD_SERVICES_VIP_VIP_GRPC_H_
