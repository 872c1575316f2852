#include "services/reports/report_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/reports.grpc.pb.h"

namespace steward {
namespace {

class ReportServiceImpl final : public v1::ReportService::CallbackService {
 public:
  ReportServiceImpl(const Authenticator* auth, Reports* r) : auth_(*auth), r_(*r) {}

  grpc::ServerUnaryReactor* SubmitReport(grpc::CallbackServerContext* ctx,
                                         const v1::SubmitReportRequest* req,
                                         v1::SubmitReportResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Reports::SubmitReport, r_);
  }
  grpc::ServerUnaryReactor* SubmitBug(grpc::CallbackServerContext* ctx,
                                      const v1::SubmitBugRequest* req,
                                      v1::SubmitBugResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Reports::SubmitBug, r_);
  }
  grpc::ServerUnaryReactor* ListMyReports(grpc::CallbackServerContext* ctx,
                                          const v1::ListMyReportsRequest* req,
                                          v1::ListMyReportsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::ListMyReports, r_);
  }
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx,
                                      const v1::ListCasesRequest* req,
                                      v1::ListCasesResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::ListCases, r_);
  }
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx, const v1::GetCaseRequest* req,
                                    v1::GetCaseResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::GetCase, r_);
  }
  grpc::ServerUnaryReactor* ResolveCase(grpc::CallbackServerContext* ctx,
                                        const v1::ResolveCaseRequest* req,
                                        v1::ResolveCaseResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Reports::ResolveCase, r_);
  }
  grpc::ServerUnaryReactor* ListBugs(grpc::CallbackServerContext* ctx, const v1::ListBugsRequest* req,
                                     v1::ListBugsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::ListBugs, r_);
  }
  grpc::ServerUnaryReactor* GetBug(grpc::CallbackServerContext* ctx, const v1::GetBugRequest* req,
                                   v1::GetBugResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::GetBug, r_);
  }
  grpc::ServerUnaryReactor* UpdateBugStatus(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateBugStatusRequest* req,
                                            v1::UpdateBugStatusResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Reports::UpdateBugStatus, r_);
  }
  grpc::ServerUnaryReactor* GetAttachment(grpc::CallbackServerContext* ctx,
                                          const v1::GetAttachmentRequest* req,
                                          v1::Attachment* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Reports::GetAttachment, r_);
  }

 private:
  const Authenticator& auth_;
  Reports& r_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeReportService(const Authenticator* auth, Reports* reports) {
  return std::make_unique<ReportServiceImpl>(auth, reports);
}

}  // namespace steward
