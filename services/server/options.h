// From the config file's sections to each domain's own options struct:
// domains never see the config parser, and this is the one place that
// knows both. The config was checked by ParseConfig, so these do not fail
// (but SlaPolicyFromConfig, which ParseConfig itself uses to check [sla]).
#ifndef STEWARD_SERVICES_SERVER_OPTIONS_H_
#define STEWARD_SERVICES_SERVER_OPTIONS_H_

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/desk/desk.h"
#include "services/incidents/compensation.h"
#include "services/incidents/incidents.h"
#include "services/monitoring/monitoring.h"
#include "services/operations/backups.h"
#include "services/reports/reports.h"
#include "services/server/config.h"
#include "services/tickets/sla.h"
#include "services/tickets/tickets.h"
#include "services/vip/vip.h"

namespace steward {

// From the [sla] config; errors name the key.
absl::StatusOr<SlaPolicy> SlaPolicyFromConfig(const DeskConfig& c);
ReportOptions ReportOptionsFrom(const ReportsConfig& c);
TicketsOptions TicketsOptionsFrom(const DeskConfig& c);
DeskOptions DeskOptionsFrom(const DeskConfig& c);
IncidentsOptions IncidentsOptionsFrom(const IncidentsConfig& c);
BackupOptions BackupOptionsFrom(const BackupConfig& c);
CompensationOptions CompensationOptionsFrom(const CompensationConfig& c);
VipOptions VipOptionsFrom(const VipConfig& c);
MonitoringOptions MonitoringOptionsFrom(const MonitoringConfig& c, const Clock* clock = Clock::Wall());

// `o` reading time from `clock`.
template <typename Options>
Options WithClock(Options o, const Clock* clock) {
  o.clock = clock;
  return o;
}

}  // namespace steward

#endif  // STEWARD_SERVICES_SERVER_OPTIONS_H_
