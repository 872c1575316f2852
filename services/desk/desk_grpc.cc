#include "services/desk/desk_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/desk.grpc.pb.h"

namespace steward {
namespace {

class DeskServiceImpl final : public v1::DeskService::CallbackService {
 public:
  DeskServiceImpl(const Authenticator* auth, Desk* desk, SlowLane* slow)
      : auth_(*auth), desk_(*desk), slow_(*slow) {}
  grpc::ServerUnaryReactor* WriteHandover(grpc::CallbackServerContext* ctx, const v1::WriteHandoverRequest* req,
                                          v1::Handover* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Desk::WriteHandover, desk_);
  }
  grpc::ServerUnaryReactor* MarkHandoverRead(grpc::CallbackServerContext* ctx,
                                             const v1::MarkHandoverReadRequest* req, v1::Handover* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Desk::MarkHandoverRead, desk_);
  }
  grpc::ServerUnaryReactor* GetShiftBrief(grpc::CallbackServerContext* ctx, const v1::GetShiftBriefRequest* req,
                                          v1::ShiftBrief* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Desk::GetShiftBrief, desk_);
  }
  grpc::ServerUnaryReactor* DrawQualitySample(grpc::CallbackServerContext* ctx,
                                              const v1::DrawQualitySampleRequest* req,
                                              v1::QualitySample* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Desk::DrawQualitySample, desk_);
  }
  grpc::ServerUnaryReactor* GetQualitySample(grpc::CallbackServerContext* ctx,
                                             const v1::GetQualitySampleRequest* req,
                                             v1::QualitySample* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Desk::GetQualitySample, desk_);
  }
  grpc::ServerUnaryReactor* ScoreTicket(grpc::CallbackServerContext* ctx, const v1::ScoreTicketRequest* req,
                                        v1::QualityReview* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Desk::ScoreTicket, desk_);
  }
  grpc::ServerUnaryReactor* GetQualityTrends(grpc::CallbackServerContext* ctx,
                                             const v1::QualityTrendsRequest* req,
                                             v1::QualityTrends* resp) override {
    return UnaryReadSlow(slow_, auth_, ctx, req, resp, &Desk::GetQualityTrends, desk_);
  }
  grpc::ServerUnaryReactor* GetDeskReport(grpc::CallbackServerContext* ctx, const v1::DeskReportRequest* req,
                                          v1::DeskReport* resp) override {
    return UnaryReadSlow(slow_, auth_, ctx, req, resp, &Desk::GetDeskReport, desk_);
  }

 private:
  const Authenticator& auth_;
  Desk& desk_;
  SlowLane& slow_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeDeskService(const Authenticator* auth, Desk* desk, SlowLane* slow) {
  return std::make_unique<DeskServiceImpl>(auth, desk, slow);
}

}  // namespace steward
