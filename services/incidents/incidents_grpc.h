// gRPC adapters: IncidentService and CompensationService.
#ifndef STEWARD_SERVICES_INCIDENTS_INCIDENTS_GRPC_H_
#define STEWARD_SERVICES_INCIDENTS_INCIDENTS_GRPC_H_

#include <memory>

#include "services/incidents/compensation.h"
#include "services/incidents/incidents.h"
#include "services/transport/auth.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeIncidentService(const Authenticator* auth, Incidents* incidents);
std::unique_ptr<grpc::Service> MakeCompensationService(const Authenticator* auth, Compensation* compensation);

}  // namespace steward

#endif  // STEWARD_SERVICES_INCIDENTS_INCIDENTS_GRPC_H_
