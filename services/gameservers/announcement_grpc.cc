#include "services/gameservers/gameservers_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/gameserver.grpc.pb.h"

namespace steward {
namespace {

class AnnouncementServiceImpl final : public v1::AnnouncementService::CallbackService {
 public:
  AnnouncementServiceImpl(const Authenticator* auth, Announcements* a) : auth_(*auth), a_(*a) {}

  grpc::ServerUnaryReactor* CreateAnnouncement(grpc::CallbackServerContext* ctx,
                                               const v1::CreateAnnouncementRequest* req,
                                               v1::AnnouncementResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Announcements::Create, a_);
  }
  grpc::ServerUnaryReactor* CancelAnnouncement(grpc::CallbackServerContext* ctx,
                                               const v1::CancelAnnouncementRequest* req,
                                               v1::AnnouncementResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Announcements::Cancel, a_);
  }
  grpc::ServerUnaryReactor* ListAnnouncements(grpc::CallbackServerContext* ctx,
                                              const v1::ListAnnouncementsRequest* req,
                                              v1::ListAnnouncementsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Announcements::List, a_);
  }
  grpc::ServerUnaryReactor* GetDeliveries(grpc::CallbackServerContext* ctx,
                                          const v1::GetDeliveriesRequest* req,
                                          v1::GetDeliveriesResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Announcements::Deliveries, a_);
  }

 private:
  const Authenticator& auth_;
  Announcements& a_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAnnouncementService(const Authenticator* auth,
                                                       Announcements* announcements) {
  return std::make_unique<AnnouncementServiceImpl>(auth, announcements);
}

}  // namespace steward
