#include "services/moderation_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/grpc_status.h"
#include "services/reactors.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/desk.grpc.pb.h"
#include "steward/v1/knowledge.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"
#include "steward/v1/vip.grpc.pb.h"

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

// One game server's directive stream, in the manner of the health
// service's watch reactor: it holds a cursor into the stored directive
// log and, whenever it is idle and the log has grown, writes the next
// matching directives. Backlog and live traffic are the same path.
// Directives carry GMs' replies to players' tickets, so a stream whose
// token was revoked (SIGHUP) ends UNAUTHENTICATED before it would send
// another; the game server reconnects with its new token and resumes
// from its last acknowledged directive.
class WatchReactor final : public grpc::ServerWriteReactor<v1::DirectiveBatch>,
                           public DirectiveWatcher {
 public:
  static constexpr size_t kMaxPerMessage = 256;

  WatchReactor(const Authenticator& auth, grpc::CallbackServerContext* ctx,
               const v1::WatchDirectivesRequest& req, GameServers& servers, DirectiveHub& hub)
      : auth_(auth), hub_(hub) {
    absl::Status s = Begin(auth, ctx, req, servers);
    if (!s.ok()) {
      FinishOnce(ToGrpc(s));
      return;
    }
    if (!hub_.Watch(this)) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return;
    }
    watching_ = true;
    // Tells the client at once that its watch is in place (before any
    // directive exists to carry that news).
    ctx->AddInitialMetadata("x-steward-watch", "ok");
    StartSendInitialMetadata();
    Pump();
  }

  void OnPublished(uint64_t) override { Pump(); }
  void OnClose() override {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is shutting down; reconnect with from_last_ack"));
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) failed_ = true;
    }
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    Pump();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (watching_) hub_.Unwatch(this);
    delete this;
  }

 private:
  absl::Status Begin(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                     const v1::WatchDirectivesRequest& req, GameServers& servers) {
    auto caller = auth.Authenticate(*ctx);
    if (!caller.ok()) return caller.status();
    caller_ = *caller;
    auto info = servers.Owned(*caller, req.server_id());
    if (!info.ok()) return info.status();
    realm_ = info->realm_id();
    server_ = info->server_id();
    cursor_ = req.from_last_ack() ? info->acked_seq() : req.after_seq();
    if (cursor_ > hub_.latest_seq()) {
      return absl::OutOfRangeError(absl::StrCat("after_seq ", cursor_,
                                                " is beyond the newest directive (",
                                                hub_.latest_seq(), ")"));
    }
    return absl::OkStatus();
  }

  // Writes the next batch when idle and there is something to send. The
  // write starts under the lock so it can never follow Finish.
  void Pump() {
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_ || failed_) return;
      absl::Status s = auth_.Recheck(caller_);
      while (s.ok()) {
        out_.Clear();
        uint64_t cursor = cursor_;
        s = hub_.Read(cursor_, realm_, server_, kMaxPerMessage, &out_, &cursor);
        if (!s.ok()) break;
        bool advanced = cursor != cursor_;
        cursor_ = cursor;
        if (out_.directives_size() > 0 || out_.missed_through() > 0) {
          writing_ = true;
          StartWrite(&out_);
          return;
        }
        if (!advanced) return;  // nothing new
        // Only other servers' directives so far: keep reading.
      }
      error_ = ToGrpc(s);
    }
    FinishOnce(error_);
  }

  void FinishOnce(const grpc::Status& s) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(s);
  }

  const Authenticator& auth_;
  DirectiveHub& hub_;
  Caller caller_;
  bool watching_ = false;
  std::string realm_, server_;
  absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  v1::DirectiveBatch out_;  // guarded by writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status error_;
};

class GameServerServiceImpl final : public v1::GameServerService::CallbackService {
 public:
  GameServerServiceImpl(const Authenticator* auth, GameServers* servers, DirectiveHub* hub)
      : auth_(*auth), servers_(*servers), hub_(*hub) {}

  grpc::ServerUnaryReactor* RegisterServer(grpc::CallbackServerContext* ctx,
                                           const v1::RegisterServerRequest* req,
                                           v1::RegisterServerResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &GameServers::Register, servers_);
  }
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override {
    return UnaryInline(auth_, ctx, req, resp, &GameServers::Heartbeat, servers_);
  }
  grpc::ServerWriteReactor<v1::DirectiveBatch>* WatchDirectives(
      grpc::CallbackServerContext* ctx, const v1::WatchDirectivesRequest* req) override {
    return new WatchReactor(auth_, ctx, *req, servers_, hub_);
  }
  grpc::ServerUnaryReactor* AckDirectives(grpc::CallbackServerContext* ctx,
                                          const v1::AckDirectivesRequest* req,
                                          v1::AckDirectivesResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &GameServers::Ack, servers_);
  }
  grpc::ServerUnaryReactor* ListServers(grpc::CallbackServerContext* ctx,
                                        const v1::ListServersRequest* req,
                                        v1::ListServersResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &GameServers::List, servers_);
  }

 private:
  const Authenticator& auth_;
  GameServers& servers_;
  DirectiveHub& hub_;
};

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

class KnowledgeServiceImpl final : public v1::KnowledgeService::CallbackService {
 public:
  KnowledgeServiceImpl(const Authenticator* auth, Knowledge* kb) : auth_(*auth), kb_(*kb) {}
  grpc::ServerUnaryReactor* SaveEntry(grpc::CallbackServerContext* ctx, const v1::SaveKbEntryRequest* req,
                                      v1::SaveKbEntryResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Knowledge::Save, kb_);
  }
  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* ctx, const v1::GetKbEntryRequest* req,
                                     v1::KbEntry* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::Get, kb_);
  }
  grpc::ServerUnaryReactor* ListHistory(grpc::CallbackServerContext* ctx, const v1::ListKbHistoryRequest* req,
                                        v1::ListKbHistoryResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::History, kb_);
  }
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const v1::SearchKbRequest* req,
                                   v1::SearchKbResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::Search, kb_);
  }

 private:
  const Authenticator& auth_;
  Knowledge& kb_;
};

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

std::unique_ptr<grpc::Service> MakeVipService(const Authenticator* auth, VipCare* vip) {
  return std::make_unique<VipServiceImpl>(auth, vip);
}

std::unique_ptr<grpc::Service> MakeReportService(const Authenticator* auth, Reports* reports) {
  return std::make_unique<ReportServiceImpl>(auth, reports);
}

std::unique_ptr<grpc::Service> MakeAnnouncementService(const Authenticator* auth,
                                                       Announcements* announcements) {
  return std::make_unique<AnnouncementServiceImpl>(auth, announcements);
}

std::unique_ptr<grpc::Service> MakeModerationService(const Authenticator* auth,
                                                     Moderation* moderation) {
  return std::make_unique<ModerationServiceImpl>(auth, moderation);
}

std::unique_ptr<grpc::Service> MakeGameServerService(const Authenticator* auth,
                                                     GameServers* servers, DirectiveHub* hub) {
  return std::make_unique<GameServerServiceImpl>(auth, servers, hub);
}

std::unique_ptr<grpc::Service> MakeKnowledgeService(const Authenticator* auth, Knowledge* kb) {
  return std::make_unique<KnowledgeServiceImpl>(auth, kb);
}

}  // namespace steward
