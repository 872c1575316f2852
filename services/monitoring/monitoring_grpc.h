// gRPC services over Monitoring: EventService (game servers publish) and
// MonitoringService (GMs: rules, alerts with the WatchAlerts stream,
// metrics, pipeline stats).
#ifndef STEWARD_SERVICES_MONITORING_MONITORING_GRPC_H_
#define STEWARD_SERVICES_MONITORING_MONITORING_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/monitoring/monitoring.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeEventService(const Authenticator* auth, Monitoring* m);
std::unique_ptr<grpc::Service> MakeMonitoringService(const Authenticator* auth, Monitoring* m);

}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_MONITORING_GRPC_H_
