// gRPC adapters: GameServerService (with the WatchDirectives stream) and
// AnnouncementService.
#ifndef STEWARD_SERVICES_GAMESERVERS_GAMESERVERS_GRPC_H_
#define STEWARD_SERVICES_GAMESERVERS_GAMESERVERS_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/gameservers/announcements.h"
#include "services/gameservers/directives.h"
#include "services/gameservers/game_servers.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeGameServerService(const Authenticator* auth,
                                                     GameServers* servers, DirectiveHub* hub);
std::unique_ptr<grpc::Service> MakeAnnouncementService(const Authenticator* auth,
                                                       Announcements* announcements);

}  // namespace steward

#endif  // STEWARD_SERVICES_GAMESERVERS_GAMESERVERS_GRPC_H_
