#include "services/vip/vip_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/vip.grpc.pb.h"

namespace steward {
namespace {

class VipServiceImpl final : public v1::VipService::CallbackService {
 public:
  VipServiceImpl(const Authenticator* auth, VipCare* v) : auth_(*auth), v_(*v) {}

  grpc::ServerUnaryReactor* RecordPurchase(grpc::CallbackServerContext* ctx,
                                           const v1::RecordPurchaseRequest* req,
                                           v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::RecordPurchase, v_);
  }
  grpc::ServerUnaryReactor* RecordLogin(grpc::CallbackServerContext* ctx,
                                        const v1::RecordLoginRequest* req,
                                        v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::RecordLogin, v_);
  }
  grpc::ServerUnaryReactor* SetContact(grpc::CallbackServerContext* ctx,
                                       const v1::SetContactRequest* req,
                                       v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::SetContact, v_);
  }
  grpc::ServerUnaryReactor* SetTier(grpc::CallbackServerContext* ctx, const v1::SetTierRequest* req,
                                    v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::SetTier, v_);
  }
  grpc::ServerUnaryReactor* GetVipProfile(grpc::CallbackServerContext* ctx,
                                          const v1::GetVipProfileRequest* req,
                                          v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::GetProfile, v_);
  }
  grpc::ServerUnaryReactor* AssignCareGm(grpc::CallbackServerContext* ctx,
                                         const v1::AssignCareGmRequest* req,
                                         v1::VipProfileResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::AssignCareGm, v_);
  }
  grpc::ServerUnaryReactor* CreateCareTask(grpc::CallbackServerContext* ctx,
                                           const v1::CreateCareTaskRequest* req,
                                           v1::CareTaskResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::CreateTask, v_);
  }
  grpc::ServerUnaryReactor* RecordAttempt(grpc::CallbackServerContext* ctx,
                                          const v1::RecordAttemptRequest* req,
                                          v1::CareTaskResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::RecordAttempt, v_);
  }
  grpc::ServerUnaryReactor* ListCareTasks(grpc::CallbackServerContext* ctx,
                                          const v1::ListCareTasksRequest* req,
                                          v1::ListCareTasksResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &VipCare::ListTasks, v_);
  }
  grpc::ServerUnaryReactor* SetOnShift(grpc::CallbackServerContext* ctx,
                                       const v1::SetOnShiftRequest* req,
                                       v1::SetOnShiftResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &VipCare::SetOnShift, v_);
  }
  grpc::ServerUnaryReactor* GetVipReport(grpc::CallbackServerContext* ctx,
                                         const v1::VipReportRequest* req,
                                         v1::VipReportResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &VipCare::Report, v_);
  }

 private:
  const Authenticator& auth_;
  VipCare& v_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeVipService(const Authenticator* auth, VipCare* vip) {
  return std::make_unique<VipServiceImpl>(auth, vip);
}

}  // namespace steward
