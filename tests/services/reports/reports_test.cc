// Player reports and bug submissions over a real in-process server.
#include <grpcpp/grpcpp.h>

#include <set>

#include "gtest/gtest.h"
#include "tests/common/server_fixture.h"
#include "services/reports/reports.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
using grpc::StatusCode;

class ReportsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    rep_ = v1::ReportService::NewStub(channel_);
    gs_ = v1::GameServerService::NewStub(channel_);
    mod_ = v1::ModerationService::NewStub(channel_);
  }

  grpc::Status Report(const std::string& reporter, const std::string& subject,
                      v1::ReportCategory cat, v1::SubmitReportResponse* out = nullptr,
                      const std::string& key = "") {
    v1::SubmitReportRequest r;
    r.set_idempotency_key(key.empty() ? "r-" + std::to_string(++seq_) : key);
    r.set_category(cat);
    r.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
    r.set_subject_id(subject);
    r.set_realm_id("eu1");
    r.set_server_id("eu1-s1");
    r.set_message("Flying across the map and one-shotting everyone");
    auto* line = r.mutable_evidence()->add_chat();
    line->set_speaker_id(subject);
    line->set_text("buy gold at example dot com");
    v1::SubmitReportResponse resp;
    grpc::Status s = rep_->SubmitReport(Ctx("gs-eu1", reporter).get(), r, &resp);
    if (out) *out = resp;
    return s;
  }
  uint64_t MustReport(const std::string& reporter, const std::string& subject,
                      v1::ReportCategory cat = v1::REPORT_CATEGORY_CHEATING) {
    v1::SubmitReportResponse resp;
    grpc::Status s = Report(reporter, subject, cat, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.case_id();
  }
  v1::Case GetCase(uint64_t id) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    EXPECT_TRUE(rep_->GetCase(Ctx("agent").get(), req, &resp).ok());
    return resp.case_();
  }
  grpc::Status Resolve(const std::string& who, uint64_t case_id, bool action,
                       std::vector<uint64_t> sanctions = {}, v1::ResolveCaseResponse* out = nullptr) {
    v1::ResolveCaseRequest req;
    req.set_case_id(case_id);
    req.set_action_taken(action);
    for (auto s : sanctions) req.add_sanction_ids(s);
    req.set_resolution("checked replay of match 5521");
    v1::ResolveCaseResponse resp;
    grpc::Status s = rep_->ResolveCase(Ctx(who).get(), req, &resp);
    if (out) *out = resp;
    return s;
  }
  v1::SubmitBugRequest Bug(const std::string& key, const std::string& title,
                           const std::string& crash = "") {
    v1::SubmitBugRequest b;
    b.set_idempotency_key(key);
    b.set_title(title);
    b.set_severity(v1::BUG_SEVERITY_S2);
    b.set_realm_id("eu1");
    b.set_build("1.4.2+8812");
    b.set_platform("windows");
    b.set_repro_steps("Open the map, zoom out twice");
    b.set_crash_signature(crash);
    return b;
  }

  std::unique_ptr<v1::ReportService::Stub> rep_;
  std::unique_ptr<v1::GameServerService::Stub> gs_;
  std::unique_ptr<v1::ModerationService::Stub> mod_;
  int seq_ = 0;
};

TEST_F(ReportsTest, ReportsGroupIntoOneCasePerSubjectAndFamily) {
  uint64_t c1 = MustReport("p-1", "cheater", v1::REPORT_CATEGORY_CHEATING);
  uint64_t c2 = MustReport("p-2", "cheater", v1::REPORT_CATEGORY_BOTTING);  // same family
  uint64_t c3 = MustReport("p-3", "cheater", v1::REPORT_CATEGORY_HARASSMENT);
  // One open report per reporter per subject, even in another family.
  v1::SubmitReportResponse other_family;
  EXPECT_EQ(Report("p-3", "cheater", v1::REPORT_CATEGORY_SCAMMING, &other_family).error_code(),
            StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(c1, c2);
  EXPECT_NE(c1, c3);
  v1::Case k = GetCase(c1);
  EXPECT_EQ(k.report_count(), 2u);
  EXPECT_EQ(k.distinct_reporters(), 2u);
  EXPECT_EQ(k.family(), "cheating");
  EXPECT_EQ(k.state(), v1::CASE_STATE_OPEN);

  // One report per reporter per case; a retry with the key is not a duplicate.
  v1::SubmitReportResponse first, again;
  EXPECT_EQ(Report("p-1", "cheater", v1::REPORT_CATEGORY_EXPLOITING, &again).error_code(),
            StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Report("p-4", "cheater", v1::REPORT_CATEGORY_CHEATING, &first, "same-key").ok());
  ASSERT_TRUE(Report("p-4", "cheater", v1::REPORT_CATEGORY_CHEATING, &again, "same-key").ok());
  EXPECT_TRUE(again.deduplicated());
  EXPECT_EQ(again.report().id(), first.report().id());
  EXPECT_EQ(GetCase(c1).report_count(), 3u);

  // The operator's own categories group on their own; unknown ones are refused.
  v1::SubmitReportRequest custom;
  custom.set_idempotency_key("c1");
  custom.set_subject_id("griefer-9");
  custom.set_category(v1::REPORT_CATEGORY_CUSTOM);
  custom.set_custom_category("griefing");
  custom.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
  custom.set_realm_id("eu1");
  v1::SubmitReportResponse cr;
  ASSERT_TRUE(rep_->SubmitReport(Ctx("gs-eu1", "p-1").get(), custom, &cr).ok());
  EXPECT_NE(cr.case_id(), c1);
  EXPECT_EQ(GetCase(cr.case_id()).family(), "custom:griefing");
  custom.set_idempotency_key("c2");
  custom.set_custom_category("ghosting");
  grpc::Status unknown = rep_->SubmitReport(Ctx("gs-eu1", "p-2").get(), custom, &cr);
  EXPECT_EQ(unknown.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(unknown.error_message().find("custom_categories"), std::string::npos);

  // Bad input and scope.
  v1::SubmitReportResponse out;
  EXPECT_EQ(Report("cheater", "cheater", v1::REPORT_CATEGORY_CHEATING, &out).error_code(),
            StatusCode::INVALID_ARGUMENT);
  v1::SubmitReportRequest r;
  r.set_idempotency_key("x");
  r.set_category(v1::REPORT_CATEGORY_CHEATING);
  r.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
  r.set_subject_id("cheater");
  r.set_realm_id("us1");
  EXPECT_EQ(rep_->SubmitReport(Ctx("gs-eu1", "p-1").get(), r, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  r.set_realm_id("eu1");
  for (int i = 0; i < 51; ++i) r.mutable_evidence()->add_chat()->set_text("spam");
  grpc::Status big = rep_->SubmitReport(Ctx("gs-eu1", "p-1").get(), r, &out);
  EXPECT_EQ(big.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(big.error_message().find("chat lines"), std::string::npos);
}

// A game server whose principal names one server acts for that server only,
// on every API that carries one (tickets already did).
// The open cases about one player, for the console beside their tickets:
// only that player's, only open ones, and a resolved case drops out.
TEST_F(ReportsTest, CasesAboutAPlayerAreListedFromTheActiveIndex) {
  uint64_t cheating = MustReport("p-1", "cheater", v1::REPORT_CATEGORY_CHEATING);
  uint64_t harassment = MustReport("p-2", "cheater", v1::REPORT_CATEGORY_HARASSMENT);
  MustReport("p-3", "someone-else", v1::REPORT_CATEGORY_CHEATING);
  auto about = [&](const std::string& subject) {
    v1::ListCasesRequest req;
    req.set_realm_id("eu1");
    req.set_subject_id(subject);
    v1::ListCasesResponse resp;
    EXPECT_TRUE(rep_->ListCases(Ctx("agent").get(), req, &resp).ok());
    std::set<uint64_t> ids;
    for (const auto& c : resp.cases()) ids.insert(c.id());
    return ids;
  };
  EXPECT_EQ(about("cheater"), (std::set<uint64_t>{cheating, harassment}));
  ASSERT_TRUE(Resolve("lead", harassment, false).ok());
  EXPECT_EQ(about("cheater"), (std::set<uint64_t>{cheating}));
  EXPECT_TRUE(about("nobody").empty());
  v1::ListCasesRequest bad;
  bad.set_subject_id("cheater");  // no realm
  v1::ListCasesResponse resp;
  EXPECT_EQ(rep_->ListCases(Ctx("agent").get(), bad, &resp).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReportsTest, AGameServerScopedToOneServerCannotActForAnother) {
  v1::SubmitReportRequest r;
  r.set_idempotency_key("scope-1");
  r.set_category(v1::REPORT_CATEGORY_CHEATING);
  r.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
  r.set_subject_id("cheater-1");
  r.set_realm_id("eu1");
  r.set_server_id("eu1-s2");  // gs-eu1-s1 is scoped to eu1-s1
  v1::SubmitReportResponse rr;
  grpc::Status s = rep_->SubmitReport(Ctx("gs-eu1-s1", "p-1").get(), r, &rr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("for server eu1-s1 only"), std::string::npos) << s.error_message();
  r.set_server_id("eu1-s1");
  EXPECT_TRUE(rep_->SubmitReport(Ctx("gs-eu1-s1", "p-1").get(), r, &rr).ok());

  v1::SubmitBugRequest b = Bug("scope-bug", "Map tiles flicker");
  b.set_server_id("eu1-s2");
  v1::SubmitBugResponse br;
  EXPECT_EQ(rep_->SubmitBug(Ctx("gs-eu1-s1", "p-1").get(), b, &br).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  b.set_server_id("");  // its own server
  EXPECT_TRUE(rep_->SubmitBug(Ctx("gs-eu1-s1", "p-1").get(), b, &br).ok());

  v1::CheckPlayerRequest q;
  q.set_player_id("cheater-1");
  q.set_realm_id("eu1");
  q.set_server_id("eu1-s2");
  v1::PlayerStatus st;
  EXPECT_EQ(mod_->CheckPlayer(Ctx("gs-eu1-s1").get(), q, &st).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  q.set_server_id("eu1-s1");
  EXPECT_TRUE(mod_->CheckPlayer(Ctx("gs-eu1-s1").get(), q, &st).ok());
  // A realm-wide game server still checks any server of its realm.
  q.set_server_id("eu1-s2");
  EXPECT_TRUE(mod_->CheckPlayer(Ctx("gs-eu1").get(), q, &st).ok());
}

// Only stored reports count against the hour: refused duplicates (and
// retries) do not, so the refusal's count is true, and the same before and
// after a restart.
TEST_F(ReportsTest, RefusedDuplicatesDoNotCountAgainstTheHour) {
  MustReport("p-eager", "target-0");
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(Report("p-eager", "target-0", v1::REPORT_CATEGORY_CHEATING).error_code(),
              StatusCode::ALREADY_EXISTS);
  }
  for (int i = 1; i < 20; ++i) MustReport("p-eager", "target-" + std::to_string(i));
  grpc::Status s = Report("p-eager", "target-20", v1::REPORT_CATEGORY_CHEATING);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("filed 20 reports in the last hour"), std::string::npos) << s.error_message();
}

// Attachments carry a media type from the accepted list (images, text and
// logs, JSON, crash dumps by default); anything else is refused by name.
TEST_F(ReportsTest, AttachmentsNeedAnAcceptedMediaType) {
  auto with = [&](const std::string& key, const std::string& type) {
    v1::SubmitBugRequest b = Bug(key, "Crash when opening the map");
    auto* a = b.add_attachments();
    a->set_name("client.log");
    a->set_content_type(type);
    a->set_data("line 1");
    v1::SubmitBugResponse r;
    return rep_->SubmitBug(Ctx("gs-eu1", "p-1").get(), b, &r);
  };
  grpc::Status s = with("t1", "not a mime type");
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("is not a media type"), std::string::npos) << s.error_message();
  s = with("t2", "application/x-msdownload");
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("not accepted here"), std::string::npos) << s.error_message();
  EXPECT_TRUE(with("t3", "text/plain; charset=utf-8").ok());
  EXPECT_TRUE(with("t4", "IMAGE/PNG").ok());
  EXPECT_TRUE(with("t5", "application/x-minidump").ok());
}

TEST_F(ReportsTest, ReportersAreRateLimitedPerHour) {
  for (int i = 0; i < 20; ++i) MustReport("p-busy", "target-" + std::to_string(i));
  v1::SubmitReportResponse out;
  grpc::Status s = Report("p-busy", "target-20", v1::REPORT_CATEGORY_CHEATING, &out);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("next one is allowed in"), std::string::npos);
  MustReport("p-calm", "target-20");  // others are unaffected
  // A restart forgives nothing: this hour's stored reports still count.
  StopServer();
  StartServer();
  rep_ = v1::ReportService::NewStub(channel_);
  s = Report("p-busy", "target-21", v1::REPORT_CATEGORY_CHEATING, &out);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("filed 20 reports in the last hour"), std::string::npos) << s.error_message();
  MustReport("p-calm", "target-21");  // one of 20
}

TEST_F(ReportsTest, CredibleReportersEscalateSoonerAndResolutionUpdatesCredibility) {
  // Five fresh reporters (weight 1 each) reach the threshold of 5.
  uint64_t c = 0;
  for (int i = 1; i <= 4; ++i) c = MustReport("p-" + std::to_string(i), "bot-1");
  EXPECT_EQ(GetCase(c).state(), v1::CASE_STATE_OPEN);
  EXPECT_DOUBLE_EQ(GetCase(c).window_score(), 4);
  MustReport("p-5", "bot-1");
  v1::Case k = GetCase(c);
  EXPECT_EQ(k.state(), v1::CASE_STATE_ESCALATED);
  EXPECT_GT(k.escalated_at_ms(), 0);

  // Agents cannot resolve; leads can, and the five are upheld (weight 2).
  EXPECT_EQ(Resolve("agent", c, true).error_code(), StatusCode::PERMISSION_DENIED);
  v1::ResolveCaseResponse res;
  ASSERT_TRUE(Resolve("lead", c, true, {}, &res).ok());
  EXPECT_EQ(res.reporters_notified(), 5u);
  EXPECT_EQ(Resolve("lead", c, true).error_code(), StatusCode::FAILED_PRECONDITION);

  // A dismissed case lowers its reporter's weight (to 0.5).
  uint64_t weak = MustReport("p-9", "innocent");
  ASSERT_TRUE(Resolve("lead", weak, false).ok());

  uint64_t c2 = MustReport("p-1", "bot-2");
  MustReport("p-2", "bot-2");
  EXPECT_EQ(GetCase(c2).state(), v1::CASE_STATE_OPEN);  // 2 + 2
  MustReport("p-9", "bot-2");
  EXPECT_DOUBLE_EQ(GetCase(c2).window_score(), 4.5);
  EXPECT_EQ(GetCase(c2).state(), v1::CASE_STATE_OPEN);
  MustReport("p-3", "bot-2");
  EXPECT_EQ(GetCase(c2).state(), v1::CASE_STATE_ESCALATED);  // 6.5 with four reporters

  // After resolution, new reports about the subject open a new case, and
  // its earlier reporters may report it again.
  EXPECT_NE(MustReport("p-7", "bot-1"), c);
  EXPECT_EQ(MustReport("p-1", "bot-1"), MustReport("p-8", "bot-1"));

  v1::ListCasesRequest lreq;
  v1::ListCasesResponse listed;
  ASSERT_TRUE(rep_->ListCases(Ctx("agent").get(), lreq, &listed).ok());
  ASSERT_GE(listed.cases_size(), 2);
  EXPECT_EQ(listed.cases(0).id(), c2);  // escalated ones first
}

TEST_F(ReportsTest, ResolutionTellsReportersTheOutcomeButNotTheSanction) {
  v1::RegisterServerRequest reg;
  reg.set_server_id("eu1-s1");
  v1::RegisterServerResponse rr;
  ASSERT_TRUE(gs_->RegisterServer(Ctx("gs-eu1").get(), reg, &rr).ok());
  uint64_t c = MustReport("p-1", "griefer", v1::REPORT_CATEGORY_HARASSMENT);
  MustReport("p-2", "griefer", v1::REPORT_CATEGORY_VERBAL_ABUSE);

  v1::IssueSanctionRequest ban;
  ban.set_idempotency_key("b1");
  ban.mutable_spec()->set_type(v1::SANCTION_TYPE_TEMP_BAN);
  ban.mutable_spec()->set_subject_id("griefer");
  ban.mutable_spec()->set_duration_ms(86400000);
  ban.mutable_spec()->set_reason("Private reason: repeated slurs in match 5521");
  ban.mutable_spec()->add_evidence("case/" + std::to_string(c));
  v1::IssueSanctionResponse issued;
  ASSERT_TRUE(mod_->IssueSanction(Ctx("lead").get(), ban, &issued).ok());

  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s1");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);
  EXPECT_EQ(Resolve("lead", c, true, {999999}).error_code(), StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Resolve("lead", c, true, {issued.sanction().id()}).ok());
  EXPECT_EQ(GetCase(c).sanction_ids(0), issued.sanction().id());  // the trail, for GMs

  v1::DirectiveBatch b;
  const v1::Directive* outcome = nullptr;
  while (outcome == nullptr && reader->Read(&b)) {
    for (const auto& d : b.directives()) {
      if (d.has_report_outcome()) outcome = &d;
    }
  }
  ASSERT_NE(outcome, nullptr);
  EXPECT_TRUE(outcome->report_outcome().action_taken());
  EXPECT_EQ(outcome->report_outcome().player_ids_size(), 2);
  EXPECT_EQ(outcome->SerializeAsString().find("Private reason"), std::string::npos);
  ctx->TryCancel();
  reader->Finish();

  v1::ListMyReportsResponse mine;
  ASSERT_TRUE(rep_->ListMyReports(Ctx("gs-eu1", "p-1").get(), {}, &mine).ok());
  ASSERT_EQ(mine.reports_size(), 1);
  EXPECT_EQ(mine.reports(0).outcome(), "action_taken");
  EXPECT_EQ(mine.SerializeAsString().find("Private reason"), std::string::npos);
  // Reporters cannot read cases.
  v1::GetCaseRequest gc;
  gc.set_case_id(c);
  v1::GetCaseResponse gr;
  EXPECT_EQ(rep_->GetCase(Ctx("gs-eu1", "p-1").get(), gc, &gr).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ReportsTest, BugsDeduplicateBySignatureAndStatusReachesEveryReporter) {
  // Addresses and long numbers differ per run; they do not split a bug.
  EXPECT_EQ(BugSignature("Crash at 0x7ffe12ab in Renderer::Draw (frame 88123)", ""),
            BugSignature("CRASH at 0x1 in Renderer::Draw (frame 51234)", ""));
  EXPECT_NE(BugSignature("Crash in Renderer::Draw", ""), BugSignature("Crash in Audio::Mix", ""));
  EXPECT_NE(BugSignature("", "Crash in Renderer::Draw"), BugSignature("Crash in Renderer::Draw", ""));
  v1::SubmitBugResponse a, b, c, d;
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-1").get(),
                              Bug("b1", "Game crashed", "Crash at 0x7ffe12ab in Renderer::Draw"), &a).ok());
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-2").get(),
                              Bug("b2", "crash when zooming", "crash at 0xdeadbeef in renderer::draw"), &b).ok());
  EXPECT_FALSE(a.joined_existing());
  EXPECT_TRUE(b.joined_existing());
  EXPECT_EQ(a.bug().id(), b.bug().id());
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-2").get(),
                              Bug("b3", "again", "Crash at 0x1 in Renderer::Draw"), &c).ok());
  EXPECT_EQ(c.bug().report_count(), 3u);
  EXPECT_EQ(c.bug().affected_players(), 2u);
  // Without a crash signature the normalised title groups.
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-3").get(), Bug("t1", "Fell through the floor!"), &d).ok());
  v1::SubmitBugResponse e;
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-4").get(), Bug("t2", "fell  through THE floor"), &e).ok());
  EXPECT_EQ(d.bug().id(), e.bug().id());
  EXPECT_NE(d.bug().id(), a.bug().id());

  v1::UpdateBugStatusRequest up;
  up.set_bug_id(a.bug().id());
  up.set_status(v1::BUG_STATUS_FIXED);
  v1::UpdateBugStatusResponse upr;
  EXPECT_EQ(rep_->UpdateBugStatus(Ctx("lead").get(), up, &upr).error_code(),
            StatusCode::INVALID_ARGUMENT);  // FIXED needs the build
  up.set_fixed_in_build("1.4.3");
  up.set_note("Fixed in the next patch, out Thursday.");
  ASSERT_TRUE(rep_->UpdateBugStatus(Ctx("lead").get(), up, &upr).ok());
  EXPECT_EQ(upr.players_notified(), 2u);
  for (const std::string p : {"p-1", "p-2"}) {
    v1::ListMyReportsResponse mine;
    ASSERT_TRUE(rep_->ListMyReports(Ctx("gs-eu1", p).get(), {}, &mine).ok());
    ASSERT_GE(mine.bugs_size(), 1);
    EXPECT_EQ(mine.bugs(0).status(), v1::BUG_STATUS_FIXED);
    EXPECT_EQ(mine.bugs(0).fixed_in_build(), "1.4.3");
  }
  v1::ListBugsRequest lb;
  lb.set_status(v1::BUG_STATUS_FIXED);
  v1::ListBugsResponse fixed;
  ASSERT_TRUE(rep_->ListBugs(Ctx("agent").get(), lb, &fixed).ok());
  ASSERT_EQ(fixed.bugs_size(), 1);
  lb.set_status(v1::BUG_STATUS_NEW);
  v1::ListBugsResponse fresh;
  ASSERT_TRUE(rep_->ListBugs(Ctx("agent").get(), lb, &fresh).ok());
  ASSERT_EQ(fresh.bugs_size(), 1);
  EXPECT_EQ(fresh.bugs(0).id(), d.bug().id());
}

TEST_F(ReportsTest, AttachmentLimitsStoreNothingWhenExceeded) {
  auto bug = Bug("a1", "Texture flicker");
  auto* log = bug.add_attachments();
  log->set_name("client.log");
  log->set_content_type("text/plain");
  log->set_data(std::string(300 << 10, 'x'));  // over the per-file cap
  v1::SubmitBugResponse out;
  grpc::Status s = rep_->SubmitBug(Ctx("gs-eu1", "p-1").get(), bug, &out);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("attachments[0]"), std::string::npos);
  bug.clear_attachments();
  for (int i = 0; i < 4; ++i) {  // 4 x 200 KiB: over the per-submission cap
    auto* a = bug.add_attachments();
    a->set_name("shot" + std::to_string(i) + ".png");
    a->set_content_type("image/png");
    a->set_data(std::string(200 << 10, 'p'));
  }
  EXPECT_EQ(rep_->SubmitBug(Ctx("gs-eu1", "p-1").get(), bug, &out).error_code(),
            StatusCode::RESOURCE_EXHAUSTED);
  v1::ListBugsResponse none;
  ASSERT_TRUE(rep_->ListBugs(Ctx("agent").get(), {}, &none).ok());
  EXPECT_EQ(none.bugs_size(), 0);
  int stored = 0;
  ASSERT_TRUE(store_->Scan(storage::Cf::kAttachments, "", "", false,
                           [&](absl::string_view, absl::string_view) { return ++stored, true; }).ok());
  EXPECT_EQ(stored, 0);

  bug.mutable_attachments()->DeleteSubrange(1, 3);
  ASSERT_TRUE(rep_->SubmitBug(Ctx("gs-eu1", "p-1").get(), bug, &out).ok());
  ASSERT_EQ(out.report().attachments_size(), 1);
  EXPECT_EQ(out.report().attachments(0).size(), 200u << 10);
  v1::GetAttachmentRequest ga;
  ga.set_bug_report_id(out.report().id());
  v1::Attachment got;
  ASSERT_TRUE(rep_->GetAttachment(Ctx("agent").get(), ga, &got).ok());
  EXPECT_EQ(got.data().size(), 200u << 10);
  EXPECT_EQ(got.name(), "shot0.png");
  EXPECT_EQ(rep_->GetAttachment(Ctx("gs-eu1", "p-1").get(), ga, &got).error_code(),
            StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace steward
