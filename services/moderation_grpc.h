// gRPC services over Moderation, GameServers, Announcements and Reports:
// ModerationService, GameServerService (with the WatchDirectives stream),
// AnnouncementService, ReportService, VipService, KnowledgeService,
// DeskService.
#ifndef STEWARD_SERVICES_MODERATION_GRPC_H_
#define STEWARD_SERVICES_MODERATION_GRPC_H_

#include <memory>

#include "services/announcements.h"
#include "services/auth.h"
#include "services/desk.h"
#include "services/directives.h"
#include "services/game_servers.h"
#include "services/knowledge.h"
#include "services/moderation.h"
#include "services/reports.h"
#include "services/vip.h"

namespace grpc {
class Service;
}

namespace steward {

class SlowLane;

std::unique_ptr<grpc::Service> MakeModerationService(const Authenticator* auth,
                                                     Moderation* moderation);
std::unique_ptr<grpc::Service> MakeGameServerService(const Authenticator* auth,
                                                     GameServers* servers, DirectiveHub* hub);

std::unique_ptr<grpc::Service> MakeVipService(const Authenticator* auth, VipCare* vip);
std::unique_ptr<grpc::Service> MakeKnowledgeService(const Authenticator* auth, Knowledge* kb);
std::unique_ptr<grpc::Service> MakeDeskService(const Authenticator* auth, Desk* desk, SlowLane* slow);
std::unique_ptr<grpc::Service> MakeReportService(const Authenticator* auth, Reports* reports);
std::unique_ptr<grpc::Service> MakeAnnouncementService(const Authenticator* auth,
                                                       Announcements* announcements);

}  // namespace steward

#endif  // STEWARD_SERVICES_MODERATION_GRPC_H_
