#include "services/moderation/moderation_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/moderation.grpc.pb.h"

namespace steward {
namespace {

class ModerationServiceImpl final : public v1::ModerationService::CallbackService {
 public:
  ModerationServiceImpl(const Authenticator* auth, Moderation* m) : auth_(*auth), m_(*m) {}

  grpc::ServerUnaryReactor* IssueSanction(grpc::CallbackServerContext* ctx,
                                          const v1::IssueSanctionRequest* req,
                                          v1::IssueSanctionResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::Issue, m_);
  }
  grpc::ServerUnaryReactor* BulkIssueSanctions(grpc::CallbackServerContext* ctx,
                                               const v1::BulkIssueSanctionsRequest* req,
                                               v1::BulkIssueSanctionsResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::BulkIssue, m_);
  }
  grpc::ServerUnaryReactor* RevokeSanction(grpc::CallbackServerContext* ctx,
                                           const v1::RevokeSanctionRequest* req,
                                           v1::RevokeSanctionResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::Revoke, m_);
  }
  grpc::ServerUnaryReactor* GetSanction(grpc::CallbackServerContext* ctx,
                                        const v1::GetSanctionRequest* req,
                                        v1::Sanction* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::Get, m_);
  }
  grpc::ServerUnaryReactor* ListSanctions(grpc::CallbackServerContext* ctx,
                                          const v1::ListSanctionsRequest* req,
                                          v1::ListSanctionsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::List, m_);
  }
  grpc::ServerUnaryReactor* SuggestPenalty(grpc::CallbackServerContext* ctx,
                                           const v1::SuggestPenaltyRequest* req,
                                           v1::SuggestPenaltyResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::SuggestPenalty, m_);
  }
  grpc::ServerUnaryReactor* ListApprovals(grpc::CallbackServerContext* ctx,
                                          const v1::ListApprovalsRequest* req,
                                          v1::ListApprovalsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::ListApprovals, m_);
  }
  grpc::ServerUnaryReactor* DecideApproval(grpc::CallbackServerContext* ctx,
                                           const v1::DecideApprovalRequest* req,
                                           v1::DecideApprovalResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::DecideApproval, m_);
  }
  grpc::ServerUnaryReactor* FileAppeal(grpc::CallbackServerContext* ctx,
                                       const v1::FileAppealRequest* req,
                                       v1::FileAppealResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::FileAppeal, m_);
  }
  grpc::ServerUnaryReactor* ListAppeals(grpc::CallbackServerContext* ctx,
                                        const v1::ListAppealsRequest* req,
                                        v1::ListAppealsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::ListAppeals, m_);
  }
  grpc::ServerUnaryReactor* DecideAppeal(grpc::CallbackServerContext* ctx,
                                         const v1::DecideAppealRequest* req,
                                         v1::DecideAppealResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Moderation::DecideAppeal, m_);
  }
  grpc::ServerUnaryReactor* CheckPlayer(grpc::CallbackServerContext* ctx,
                                        const v1::CheckPlayerRequest* req,
                                        v1::PlayerStatus* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Moderation::CheckPlayer, m_);
  }

 private:
  const Authenticator& auth_;
  Moderation& m_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeModerationService(const Authenticator* auth,
                                                     Moderation* moderation) {
  return std::make_unique<ModerationServiceImpl>(auth, moderation);
}

}  // namespace steward
