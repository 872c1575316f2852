// VIP care: the domain on a real store with a test clock (tiers, rolling
// windows, downgrade grace, tasks, churn), and over gRPC (personal data
// visibility and audited reads, VIP tickets).
#include <grpcpp/grpcpp.h>

#include <future>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "services/common/clock.h"
#include "tests/common/server_fixture.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "services/transport/auth.h"
#include "services/vip/vip.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "steward/v1/vip.grpc.pb.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
using grpc::StatusCode;
constexpr int64_t kDay = 24 * 3600 * 1000LL;

class VipDomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<test::TempDir>();
    dir_ = tmp_->path();
    store_ = *storage::Store::Open({.path = dir_.string()});
    auth_ = std::make_unique<Authenticator>(std::vector<PrincipalConfig>{
        GameServer("gs", "eu1"), Gm("care", Role::kAgent), Gm("other", Role::kAgent),
        Gm("lead", Role::kLead)});
    VipOptions o;
    o.clock = &clock_;
    vip_ = std::make_unique<VipCare>(store_.get(), auth_.get(), o);
    gs_ = *auth_->Authenticate("Bearer tok-gs", "p-1");
    care_ = *auth_->Authenticate("Bearer tok-care", "");
    other_ = *auth_->Authenticate("Bearer tok-other", "");
    lead_ = *auth_->Authenticate("Bearer tok-lead", "");
  }
  void TearDown() override {
    vip_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  template <typename Fn>
  absl::Status Wait(Fn fn) {
    std::promise<absl::Status> p;
    fn([&p](absl::Status s) { p.set_value(s); });
    return p.get_future().get();
  }
  v1::VipProfileResponse Buy(int64_t cents) {
    v1::RecordPurchaseRequest r;
    r.set_idempotency_key("order-" + std::to_string(++orders_));
    r.set_amount_cents(cents);
    v1::VipProfileResponse resp;
    absl::Status s = Wait([&](auto done) { vip_->RecordPurchase(gs_, r, &resp, std::move(done)); });
    EXPECT_TRUE(s.ok()) << s;
    return resp;
  }

  std::unique_ptr<test::TempDir> tmp_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<VipCare> vip_;
  Caller gs_, care_, other_, lead_;
  FakeClock clock_{1'800'000'000'000};  // a fixed day in 2027
  int orders_ = 0;
};

TEST_F(VipDomainTest, TiersFollowLifetimeAndRollingSpendAtTheirThresholds) {
  EXPECT_EQ(Buy(49'99).profile().tier(), "");
  auto r = Buy(1);  // 50.00 within 30 days: silver
  EXPECT_EQ(r.profile().tier(), "silver");
  ASSERT_EQ(r.created_tasks_size(), 1);
  EXPECT_EQ(r.created_tasks(0).kind(), v1::CARE_TASK_KIND_WELCOME);
  EXPECT_EQ(r.profile().spend_30d_cents(), 50'00);
  EXPECT_TRUE(r.profile().contact().email().empty());
  // Rolling 300.00 makes gold even with a small lifetime.
  r = Buy(250'00);
  EXPECT_EQ(r.profile().tier(), "gold");
  EXPECT_EQ(r.profile().tier_history_size(), 2);
  // A purchase retried with its order id counts once.
  v1::RecordPurchaseRequest again;
  again.set_idempotency_key("order-3");
  again.set_amount_cents(250'00);
  v1::VipProfileResponse same;
  ASSERT_TRUE(Wait([&](auto d) { vip_->RecordPurchase(gs_, again, &same, std::move(d)); }).ok());
  EXPECT_EQ(same.profile().lifetime_spend_cents(), 300'00);
}

TEST_F(VipDomainTest, DowngradesWaitForTheGracePeriodAndSpendCanRecover) {
  Buy(300'00);  // gold by rolling spend; lifetime 300 is silver
  clock_.AdvanceMs(31 * kDay);  // the purchase leaves the window
  ASSERT_TRUE(vip_->Sweep().ok());
  v1::GetVipProfileRequest g;
  g.set_player_id("p-1");
  g.set_realm_id("eu1");
  v1::VipProfileResponse p;
  ASSERT_TRUE(Wait([&](auto d) { vip_->GetProfile(lead_, g, &p, std::move(d)); }).ok());
  EXPECT_EQ(p.profile().tier(), "gold");
  EXPECT_EQ(p.profile().pending_tier(), "silver");
  clock_.AdvanceMs(13 * kDay);
  ASSERT_TRUE(vip_->Sweep().ok());
  ASSERT_TRUE(Wait([&](auto d) { vip_->GetProfile(lead_, g, &p, std::move(d)); }).ok());
  EXPECT_EQ(p.profile().tier(), "gold");  // 13 days: still in grace
  clock_.AdvanceMs(1 * kDay);
  ASSERT_TRUE(vip_->Sweep().ok());
  ASSERT_TRUE(Wait([&](auto d) { vip_->GetProfile(lead_, g, &p, std::move(d)); }).ok());
  EXPECT_EQ(p.profile().tier(), "silver");
  EXPECT_EQ(p.profile().tier_history().rbegin()->from_tier(), "gold");

  // Recovering within grace cancels the pending downgrade.
  Buy(300'00);  // gold again
  clock_.AdvanceMs(31 * kDay);
  ASSERT_TRUE(vip_->Sweep().ok());
  clock_.AdvanceMs(5 * kDay);
  auto r = Buy(300'00);
  EXPECT_EQ(r.profile().tier(), "gold");
  EXPECT_TRUE(r.profile().pending_tier().empty());
}

TEST_F(VipDomainTest, CareTaskAttemptsCloseAsDoneOrUnreachable) {
  v1::AssignCareGmRequest a;
  a.set_player_id("p-1");
  a.set_realm_id("eu1");
  a.set_care_gm("care");
  v1::VipProfileResponse ar;
  EXPECT_EQ(Wait([&](auto d) { vip_->AssignCareGm(care_, a, &ar, std::move(d)); }).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(Wait([&](auto d) { vip_->AssignCareGm(lead_, a, &ar, std::move(d)); }).ok());
  auto welcome = Buy(100'00).created_tasks(0);
  EXPECT_EQ(welcome.owner(), "care");
  auto attempt = [&](const Caller& who, uint64_t id, v1::AttemptOutcome o, v1::CareTaskResponse* out) {
    v1::RecordAttemptRequest r;
    r.set_task_id(id);
    r.set_outcome(o);
    return Wait([&](auto d) { vip_->RecordAttempt(who, r, out, std::move(d)); });
  };
  v1::CareTaskResponse t;
  EXPECT_EQ(attempt(other_, welcome.id(), v1::ATTEMPT_OUTCOME_NO_ANSWER, &t).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(attempt(care_, welcome.id(), v1::ATTEMPT_OUTCOME_NO_ANSWER, &t).ok());
  ASSERT_TRUE(attempt(care_, welcome.id(), v1::ATTEMPT_OUTCOME_LEFT_MESSAGE, &t).ok());
  EXPECT_EQ(t.task().state(), v1::CARE_TASK_STATE_OPEN);
  ASSERT_TRUE(attempt(care_, welcome.id(), v1::ATTEMPT_OUTCOME_NO_ANSWER, &t).ok());
  EXPECT_EQ(t.task().state(), v1::CARE_TASK_STATE_UNREACHABLE);  // default 3 attempts
  EXPECT_EQ(attempt(care_, welcome.id(), v1::ATTEMPT_OUTCOME_REACHED, &t).code(),
            absl::StatusCode::kFailedPrecondition);

  v1::CreateCareTaskRequest m;
  m.set_player_id("p-1");
  m.set_realm_id("eu1");
  m.set_reason("thank them for the guild event");
  m.set_max_attempts(6);
  v1::CareTaskResponse made;
  EXPECT_EQ(Wait([&](auto d) { vip_->CreateTask(lead_, m, &made, std::move(d)); }).code(),
            absl::StatusCode::kInvalidArgument);
  m.set_max_attempts(5);
  ASSERT_TRUE(Wait([&](auto d) { vip_->CreateTask(lead_, m, &made, std::move(d)); }).ok());
  ASSERT_TRUE(attempt(care_, made.task().id(), v1::ATTEMPT_OUTCOME_REACHED, &t).ok());
  EXPECT_EQ(t.task().state(), v1::CARE_TASK_STATE_DONE);

  v1::ListCareTasksRequest lr;
  lr.set_open_only(true);
  lr.set_owner("care");
  v1::ListCareTasksResponse open;
  ASSERT_TRUE(vip_->ListTasks(care_, lr, &open).ok());
  EXPECT_EQ(open.tasks_size(), 0);
  // Every task, open or not: the owner filter applies there too.
  lr.set_open_only(false);
  v1::ListCareTasksResponse all;
  ASSERT_TRUE(vip_->ListTasks(lead_, lr, &all).ok());
  ASSERT_GE(all.tasks_size(), 2);
  for (const auto& task : all.tasks()) EXPECT_EQ(task.owner(), "care") << task.DebugString();
  lr.set_owner("other");
  v1::ListCareTasksResponse none;
  ASSERT_TRUE(vip_->ListTasks(lead_, lr, &none).ok());
  EXPECT_EQ(none.tasks_size(), 0);
}

TEST_F(VipDomainTest, ChurnRiskIsExplainedAndOpensOneOutreach) {
  v1::RecordLoginRequest login;
  v1::VipProfileResponse r;
  for (int i = 0; i < 5; ++i) {  // logs in daily for about two hours
    login.set_last_session_minutes(i < 4 ? 120 : 20);
    ASSERT_TRUE(Wait([&](auto d) { vip_->RecordLogin(gs_, login, &r, std::move(d)); }).ok());
    clock_.AdvanceMs(kDay);
  }
  Buy(1'000'00);  // gold
  clock_.AdvanceMs(40 * kDay);  // silent for weeks, no spend
  ASSERT_TRUE(vip_->Sweep().ok());
  ASSERT_TRUE(vip_->Sweep().ok());  // a second sweep opens no second outreach
  v1::GetVipProfileRequest g;
  g.set_player_id("p-1");
  g.set_realm_id("eu1");
  v1::VipProfileResponse p;
  ASSERT_TRUE(Wait([&](auto d) { vip_->GetProfile(lead_, g, &p, std::move(d)); }).ok());
  const auto& c = p.profile().churn();
  EXPECT_GE(c.score(), 0.6);
  ASSERT_GE(c.factors_size(), 2);
  EXPECT_EQ(c.factors(0).name(), "days_since_login");
  EXPECT_NE(c.factors(0).detail().find("days since last login"), std::string::npos);
  EXPECT_EQ(c.factors(1).name(), "spend_trend");
  EXPECT_GE(c.factors(0).weight(), c.factors(1).weight());
  ASSERT_GE(c.factors_size(), 3);
  EXPECT_EQ(c.factors(2).name(), "session_trend");  // the last session was short
  EXPECT_NE(c.factors(2).detail().find("recent sessions 90 min against a usual 115"), std::string::npos)
      << c.factors(2).detail();
  v1::ListCareTasksRequest lr;
  lr.set_queue_only(true);
  v1::ListCareTasksResponse queue;
  ASSERT_TRUE(vip_->ListTasks(lead_, lr, &queue).ok());
  int outreach = 0;
  for (const auto& t : queue.tasks()) outreach += t.kind() == v1::CARE_TASK_KIND_OUTREACH;
  EXPECT_EQ(outreach, 1);
}

TEST_F(VipDomainTest, BirthdayGreetingOnceAYearOnTheDay) {
  Buy(100'00);  // silver
  absl::CivilDay today = absl::ToCivilDay(absl::FromUnixMillis(clock_.NowMs()), absl::UTCTimeZone());
  absl::CivilDay tomorrow = today + 1;
  v1::SetContactRequest sc;
  sc.set_birthday(absl::StrFormat("%02d-%02d", tomorrow.month(), tomorrow.day()));
  v1::VipProfileResponse r;
  ASSERT_TRUE(Wait([&](auto d) { vip_->SetContact(gs_, sc, &r, std::move(d)); }).ok());
  sc.set_birthday("13-01");
  EXPECT_EQ(Wait([&](auto d) { vip_->SetContact(gs_, sc, &r, std::move(d)); }).code(),
            absl::StatusCode::kInvalidArgument);
  auto birthdays = [&] {
    v1::ListCareTasksRequest lr;
    lr.set_queue_only(true);
    v1::ListCareTasksResponse q;
    EXPECT_TRUE(vip_->ListTasks(lead_, lr, &q).ok());
    int n = 0;
    for (const auto& t : q.tasks()) n += t.kind() == v1::CARE_TASK_KIND_BIRTHDAY;
    return n;
  };
  ASSERT_TRUE(vip_->Sweep().ok());
  EXPECT_EQ(birthdays(), 0);  // not yet
  clock_.AdvanceMs(kDay);
  ASSERT_TRUE(vip_->Sweep().ok());
  ASSERT_TRUE(vip_->Sweep().ok());  // the same day again: still one
  EXPECT_EQ(birthdays(), 1);
}

class VipServiceTest : public ServerFixture {};

TEST_F(VipServiceTest, ContactDetailsOnlyForTheCareGmAndSupervisorsAndEveryReadIsAudited) {
  auto vip = v1::VipService::NewStub(channel_);
  auto audit = v1::AuditService::NewStub(channel_);
  auto tickets = v1::TicketService::NewStub(channel_);
  v1::RecordPurchaseRequest buy;
  buy.set_idempotency_key("o1");
  buy.set_amount_cents(6'000'00);  // platinum
  v1::VipProfileResponse r;
  ASSERT_TRUE(vip->RecordPurchase(Ctx("gs-eu1", "p-1").get(), buy, &r).ok());
  EXPECT_EQ(r.profile().tier(), "platinum");
  v1::SetContactRequest sc;
  sc.mutable_contact()->set_email("vip@example.org");
  sc.mutable_contact()->set_preferred_channel("email");
  ASSERT_TRUE(vip->SetContact(Ctx("gs-eu1", "p-1").get(), sc, &r).ok());
  v1::AssignCareGmRequest a;
  a.set_player_id("p-1");
  a.set_realm_id("eu1");
  a.set_care_gm("agent");
  ASSERT_TRUE(vip->AssignCareGm(Ctx("lead").get(), a, &r).ok());

  v1::GetVipProfileRequest g;
  g.set_player_id("p-1");
  g.set_realm_id("eu1");
  ASSERT_TRUE(vip->GetVipProfile(Ctx("agent2").get(), g, &r).ok());
  EXPECT_TRUE(r.profile().contact().email().empty());
  EXPECT_TRUE(r.profile().contact_redacted());
  ASSERT_TRUE(vip->GetVipProfile(Ctx("lead").get(), g, &r).ok());  // lead: not enough
  EXPECT_TRUE(r.profile().contact().email().empty());
  ASSERT_TRUE(vip->GetVipProfile(Ctx("agent").get(), g, &r).ok());  // the care GM
  EXPECT_EQ(r.profile().contact().email(), "vip@example.org");
  ASSERT_TRUE(vip->GetVipProfile(Ctx("sup").get(), g, &r).ok());
  EXPECT_EQ(r.profile().contact().email(), "vip@example.org");
  EXPECT_EQ(vip->GetVipProfile(Ctx("gs-eu1", "p-1").get(), g, &r).error_code(),
            StatusCode::PERMISSION_DENIED);

  v1::ListAuditRequest areq;
  areq.set_target("vip/eu1/p-1");
  v1::ListAuditResponse trail;
  ASSERT_TRUE(audit->ListAuditRecords(Ctx("admin").get(), areq, &trail).ok());
  int reads = 0;
  for (const auto& rec : trail.records()) {
    if (rec.action() == "vip.contact_read") ++reads;
    EXPECT_EQ(rec.before().find("vip@example.org"), std::string::npos);  // no PII in the trail
    EXPECT_EQ(rec.after().find("vip@example.org"), std::string::npos);
  }
  EXPECT_EQ(reads, 2);

  // A VIP's ticket gets the tier's priority and, while the care GM is on
  // shift, goes straight to them; resolving it schedules a callback.
  v1::SetOnShiftRequest shift;
  shift.set_on_shift(true);
  v1::SetOnShiftResponse shifted;
  ASSERT_TRUE(vip->SetOnShift(Ctx("agent").get(), shift, &shifted).ok());
  v1::SubmitTicketRequest t;
  t.set_idempotency_key("vt");
  t.set_category(v1::TICKET_CATEGORY_PAYMENT);
  t.set_subject("Gems not delivered");
  t.mutable_context()->set_realm_id("eu1");
  v1::SubmitTicketResponse filed;
  ASSERT_TRUE(tickets->SubmitTicket(Ctx("gs-eu1", "p-1").get(), t, &filed).ok());
  EXPECT_EQ(filed.ticket().priority(), v1::PRIORITY_URGENT);
  ASSERT_GE(filed.ticket().priority_reasons_size(), 1);
  EXPECT_EQ(filed.ticket().priority_reasons(filed.ticket().priority_reasons_size() - 1),
            "VIP tier platinum: urgent");
  // Platinum's own time limits: an owner within 30 minutes, an answer in 24 hours.
  EXPECT_EQ(filed.ticket().vip_tier(), "platinum");
  EXPECT_EQ(filed.ticket().sla().dispatch_due_ms(), filed.ticket().created_at_ms() + 30 * 60 * 1000);
  EXPECT_EQ(filed.ticket().sla().answer_due_ms(), filed.ticket().created_at_ms() + 24 * 3600 * 1000);
  EXPECT_EQ(filed.ticket().assignee(), "agent");
  EXPECT_EQ(filed.ticket().status(), v1::TICKET_STATUS_ASSIGNED);
  shift.set_on_shift(false);
  ASSERT_TRUE(vip->SetOnShift(Ctx("agent").get(), shift, &shifted).ok());
  t.set_idempotency_key("vt-2");
  v1::SubmitTicketResponse second;
  ASSERT_TRUE(tickets->SubmitTicket(Ctx("gs-eu1", "p-1").get(), t, &second).ok());
  EXPECT_TRUE(second.ticket().assignee().empty());  // off shift: the queue
  v1::UpdateTicketStatusRequest res;
  res.set_ticket_id(filed.ticket().id());
  res.set_status(v1::TICKET_STATUS_RESOLVED);
  v1::UpdateTicketStatusResponse resr;
  ASSERT_TRUE(tickets->UpdateTicketStatus(Ctx("lead").get(), res, &resr).ok());
  v1::ListCareTasksRequest lr;
  lr.set_open_only(true);
  lr.set_owner("agent");
  v1::ListCareTasksResponse tasks;
  ASSERT_TRUE(vip->ListCareTasks(Ctx("agent").get(), lr, &tasks).ok());
  bool callback = false;
  for (const auto& task : tasks.tasks()) {
    if (task.kind() == v1::CARE_TASK_KIND_CALLBACK && task.ticket_id() == filed.ticket().id()) {
      callback = true;
      EXPECT_EQ(task.due_at_ms() - resr.ticket().resolved_at_ms(), 24 * 3600 * 1000LL);
    }
  }
  EXPECT_TRUE(callback);

  // A poor rating of the resolution shows in the VIP's churn factors.
  v1::RateTicketRequest rate;
  rate.set_ticket_id(filed.ticket().id());
  rate.set_score(1);
  rate.set_comment("Still no gems");
  v1::RateTicketResponse rated;
  ASSERT_TRUE(tickets->RateTicket(Ctx("gs-eu1", "p-1").get(), rate, &rated).ok());
  EXPECT_TRUE(rated.reopened());
  ASSERT_TRUE(vip->GetVipProfile(Ctx("sup").get(), g, &r).ok());
  bool low_csat = false;
  for (const auto& f : r.profile().churn().factors()) low_csat |= f.name() == "low_satisfaction";
  EXPECT_TRUE(low_csat) << r.profile().churn().DebugString();
  // The profile shows the newest tickets, with their ratings, and a
  // sanctions summary.
  ASSERT_EQ(r.recent_tickets_size(), 2) << r.DebugString();
  EXPECT_EQ(r.recent_tickets(0).ticket_id(), second.ticket().id());  // newest first
  EXPECT_EQ(r.recent_tickets(1).ticket_id(), filed.ticket().id());
  EXPECT_EQ(r.recent_tickets(1).satisfaction_score(), 1u);
  EXPECT_EQ(r.recent_tickets(1).subject(), "Gems not delivered");
  EXPECT_EQ(r.sanctions().active(), 0u);
  auto mod = v1::ModerationService::NewStub(channel_);
  v1::IssueSanctionRequest mute;
  mute.set_idempotency_key("vip-mute");
  mute.mutable_spec()->set_type(v1::SANCTION_TYPE_MUTE);
  mute.mutable_spec()->set_subject_id("p-1");
  mute.mutable_spec()->set_duration_ms(3600 * 1000);
  mute.mutable_spec()->mutable_scope()->set_realm_id("eu1");
  mute.mutable_spec()->set_reason("Spam in world chat");
  mute.mutable_spec()->set_policy_code("spamming");
  v1::IssueSanctionResponse muted;
  ASSERT_TRUE(mod->IssueSanction(Ctx("lead").get(), mute, &muted).ok());
  ASSERT_TRUE(vip->GetVipProfile(Ctx("sup").get(), g, &r).ok());
  EXPECT_EQ(r.sanctions().active(), 1u);
  EXPECT_EQ(r.sanctions().issued_last_30_days(), 1u);

  v1::VipReportResponse rep;
  EXPECT_EQ(vip->GetVipReport(Ctx("lead").get(), {}, &rep).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(vip->GetVipReport(Ctx("sup").get(), {}, &rep).ok());
  EXPECT_EQ(rep.tiers(2).tier(), "platinum");
  EXPECT_EQ(rep.tiers(2).players(), 1u);
  EXPECT_EQ(rep.tiers(2).upgrades(), 1u);
  EXPECT_EQ(rep.callbacks(), 1u);
}

}  // namespace
}  // namespace steward
