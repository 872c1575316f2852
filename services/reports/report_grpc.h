// gRPC adapter: ReportService over Reports.
#ifndef STEWARD_SERVICES_REPORTS_REPORT_GRPC_H_
#define STEWARD_SERVICES_REPORTS_REPORT_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/reports/reports.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeReportService(const Authenticator* auth, Reports* reports);

}  // namespace steward

#endif  // STEWARD_SERVICES_REPORTS_REPORT_GRPC_H_
