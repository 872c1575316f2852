// The support desk's rules with an injected clock: SLA policies per category
// and priority, business calendars, and the pause arithmetic on them.
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "services/common/clock.h"
#include "tests/common/server_fixture.h"
#include "services/server/options.h"
#include "services/transport/auth.h"
#include "services/server/config.h"
#include "services/audit/audit.h"
#include "steward/v1/audit.pb.h"
#include "services/desk/desk.h"
#include "services/gameservers/directives.h"
#include "services/vip/vip.h"
#include "services/tickets/sla.h"
#include "services/tickets/tickets.h"
#include "storage/store.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
constexpr int64_t kMin = 60 * 1000, kHour = 60 * kMin;

// Unix ms of a UTC civil time.
int64_t At(int y, int mo, int d, int h, int mi = 0) {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone()));
}

std::shared_ptr<const BusinessCalendar> OfficeHours(const std::string& zone = "UTC") {
  // 2026-11-25 is a Wednesday.
  auto cal = BusinessCalendar::Make(zone, {"mon", "tue", "wed", "thu", "fri"}, "09:00", "18:00",
                                    {"2026-11-25"});
  EXPECT_TRUE(cal.ok()) << cal.status();
  return *cal;
}

TEST(BusinessCalendarTest, CountsOnlyWorkingHours) {
  auto cal = OfficeHours();
  // 2026-11-23 is a Monday.
  EXPECT_EQ(cal->Add(At(2026, 11, 23, 10), 2 * kHour), At(2026, 11, 23, 12));
  EXPECT_EQ(cal->Add(At(2026, 11, 23, 17), 2 * kHour), At(2026, 11, 24, 10));  // overnight
  EXPECT_EQ(cal->Add(At(2026, 11, 22, 22), kHour), At(2026, 11, 23, 10));      // from a Sunday
  EXPECT_EQ(cal->Add(At(2026, 11, 24, 17), 2 * kHour), At(2026, 11, 26, 10));  // over the holiday
  EXPECT_EQ(cal->Add(At(2026, 11, 27, 17), 2 * kHour), At(2026, 11, 30, 10));  // over the weekend
  EXPECT_EQ(cal->Add(At(2026, 11, 23, 7), 0), At(2026, 11, 23, 7));
  EXPECT_EQ(cal->Between(At(2026, 11, 27, 17), At(2026, 11, 30, 10)), 2 * kHour);
  EXPECT_EQ(cal->Between(At(2026, 11, 23, 0), At(2026, 11, 30, 0)), 4 * 9 * kHour);  // 4 days open
  EXPECT_EQ(cal->Between(At(2026, 11, 30, 0), At(2026, 11, 23, 0)), 0);

  // A fixed offset: 09:00 at UTC+02:00 is 07:00 UTC.
  auto east = OfficeHours("UTC+02:00");
  EXPECT_EQ(east->Add(At(2026, 11, 23, 6), kHour), At(2026, 11, 23, 8));
  EXPECT_EQ(east->Add(At(2026, 11, 23, 15, 30), kHour), At(2026, 11, 24, 7, 30));

  // Bad calendars are refused with the reason.
  auto bad = BusinessCalendar::Make("Mars/Olympus", {"mon"}, "09:00", "18:00", {});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Mars/Olympus"), std::string::npos);
  EXPECT_FALSE(BusinessCalendar::Make("UTC", {"funday"}, "09:00", "18:00", {}).ok());
  EXPECT_FALSE(BusinessCalendar::Make("UTC", {"mon"}, "18:00", "09:00", {}).ok());
  EXPECT_FALSE(BusinessCalendar::Make("UTC", {}, "09:00", "18:00", {}).ok());
  EXPECT_FALSE(BusinessCalendar::Make("UTC", {"mon"}, "09:00", "18:00", {"25/12/2026"}).ok());
}

TEST(SlaPolicyTest, CategoryThenTighterPriority) {
  SlaPolicy p;  // the defaults
  EXPECT_EQ(p.For(v1::TICKET_CATEGORY_COMPLAINT, v1::PRIORITY_HIGH).dispatch_ms, 60 * kMin);
  EXPECT_EQ(p.For(v1::TICKET_CATEGORY_COMPLAINT, v1::PRIORITY_HIGH).answer_ms, 72 * kHour);
  EXPECT_EQ(p.For(v1::TICKET_CATEGORY_QUESTION, v1::PRIORITY_NORMAL).dispatch_ms, 4 * kHour);

  DeskConfig c;
  c.by_category["bug"] = {0, 120};
  c.by_priority["urgent"] = {15, 8};
  c.by_priority["low"] = {600, 0};  // looser than the category: ignored
  auto policy = SlaPolicyFromConfig(c);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_BUG, v1::PRIORITY_NORMAL).answer_ms, 120 * kHour);
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_BUG, v1::PRIORITY_NORMAL).dispatch_ms, 4 * kHour);
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_BUG, v1::PRIORITY_URGENT).answer_ms, 8 * kHour);
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_COMPLAINT, v1::PRIORITY_URGENT).dispatch_ms, 15 * kMin);
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_QUESTION, v1::PRIORITY_LOW).dispatch_ms, 4 * kHour);
  policy->by_vip_tier["gold"] = {0, 6 * kHour};
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_BUG, v1::PRIORITY_URGENT, "gold").answer_ms, 6 * kHour);
  EXPECT_EQ(policy->For(v1::TICKET_CATEGORY_BUG, v1::PRIORITY_URGENT, "silver").answer_ms, 8 * kHour);

  c.by_category["gripes"] = {1, 1};
  auto bad = SlaPolicyFromConfig(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sla.category.gripes"), std::string::npos);
}

TEST(SlaPolicyTest, ConfigFileSections) {
  auto c = ParseConfig(R"(
[desk]
csat_window_days = 14
[sla]
dispatch_minutes = 120
[sla.category.payment]
dispatch_minutes = 30
answer_hours = 24
[sla.priority.urgent]
dispatch_minutes = 10
[sla.business_hours]
zone = "UTC+01:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat"]
open = "08:00"
close = "20:00"
holidays = ["2026-12-25"]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->desk.csat_window_days, 14);
  EXPECT_EQ(c->desk.defaults.dispatch_minutes, 120);
  EXPECT_EQ(c->desk.defaults.answer_hours, 72);
  EXPECT_EQ(c->desk.by_category.at("payment").answer_hours, 24);
  EXPECT_EQ(c->desk.by_category.at("complaint").dispatch_minutes, 60);  // default kept
  EXPECT_EQ(c->desk.by_priority.at("urgent").dispatch_minutes, 10);
  ASSERT_TRUE(c->desk.business_hours.has_value());
  EXPECT_EQ(c->desk.business_hours->days.size(), 6u);

  auto err = [](const std::string& text) { return std::string(ParseConfig(text).status().message()); };
  EXPECT_NE(err("[sla.priority.asap]\ndispatch_minutes = 5\n").find("sla.priority.asap"), std::string::npos);
  EXPECT_NE(err("[sla]\nanswer_hours = 0\n").find("sla.answer_hours"), std::string::npos);
  EXPECT_NE(err("[sla.business_hours]\nopen = \"9am\"\n").find("HH:MM"), std::string::npos);
  EXPECT_NE(err("[desk]\ncsat_window_days = 0\n").find("desk.csat_window_days"), std::string::npos);
}

// A desk over a real RocksDB in a temp dir with a clock the test moves.
class DeskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<test::TempDir>();
    dir_ = tmp_->path();
    store_ = *storage::Store::Open({.path = dir_.string()});
    hub_ = std::make_unique<DirectiveHub>(store_.get());
    ASSERT_TRUE(hub_->Init().ok());
  }
  void TearDown() override {
    work_.reset();
    desk_.reset();
    vip_.reset();
    hub_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeDesk(TicketsOptions o = {}) {
    o.clock = &clock_;
    desk_ = std::make_unique<Tickets>(store_.get(), &auth_, hub_.get(), std::move(o));
    VipOptions vo;
    vo.clock = &clock_;
    vip_ = std::make_unique<VipCare>(store_.get(), &auth_, std::move(vo));
    desk_->set_vip(vip_.get(), vip_->TierLimits());
    DeskOptions d;
    d.clock = &clock_;
    d.seed = [] { return 42; };
    work_ = std::make_unique<Desk>(store_.get(), desk_.get(), vip_.get(), std::move(d));
  }
  // `who` takes the ticket, replies, and resolves it.
  void Resolve(uint64_t id, const std::string& who, int64_t reply_after_ms = 0) {
    Caller gm = As(who);
    v1::AssignTicketRequest a;
    a.set_ticket_id(id);
    a.set_assignee(who);
    v1::AssignTicketResponse ar;
    ASSERT_TRUE(Wait([&](auto d) { desk_->Assign(gm, a, &ar, std::move(d)); }).ok());
    clock_.AdvanceMs(reply_after_ms);
    v1::AddMessageRequest m;
    m.set_ticket_id(id);
    m.set_body("Done.");
    m.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
    v1::AddMessageResponse mr;
    ASSERT_TRUE(Wait([&](auto d) { desk_->AddMessage(gm, m, &mr, std::move(d)); }).ok());
    v1::UpdateTicketStatusRequest u;
    u.set_ticket_id(id);
    u.set_status(v1::TICKET_STATUS_RESOLVED);
    v1::UpdateTicketStatusResponse ur;
    absl::Status st = Wait([&](auto d) { desk_->UpdateStatus(gm, u, &ur, std::move(d)); });
    ASSERT_TRUE(st.ok()) << st;
  }
  static absl::Status Wait(const std::function<void(storage::DoneFn)>& fn) {
    std::promise<absl::Status> p;
    fn([&p](absl::Status s) { p.set_value(s); });
    return p.get_future().get();
  }
  Caller As(const std::string& who, const std::string& player = "") {
    return *auth_.Authenticate("Bearer tok-" + who, player);
  }
  v1::Ticket File(const std::string& key, v1::TicketCategory cat,
                  v1::Priority pr = v1::PRIORITY_UNSPECIFIED, const std::string& player = "p-1") {
    v1::SubmitTicketRequest r;
    r.set_idempotency_key(key);
    r.set_category(cat);
    r.set_priority(pr);
    r.set_subject("Subject " + key);
    r.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    Caller gs = As("gs", player);
    EXPECT_TRUE(Wait([&](auto d) { desk_->Submit(gs, r, &resp, std::move(d)); }).ok());
    return resp.ticket();
  }

  std::unique_ptr<test::TempDir> tmp_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<DirectiveHub> hub_;
  Authenticator auth_{{GameServer("gs", "eu1"), Gm("ann", Role::kAgent), Gm("bob", Role::kAgent),
                       Gm("lead", Role::kLead), Gm("sup", Role::kSupervisor)}};
  FakeClock clock_{At(2026, 11, 27, 17, 30)};  // a Friday evening
  std::unique_ptr<Tickets> desk_;
  std::unique_ptr<VipCare> vip_;
  std::unique_ptr<Desk> work_;
};

TEST_F(DeskTest, ClocksRunOnTheCalendarAndPausesKeepWhatWasLeft) {
  TicketsOptions o;
  o.sla.calendar = OfficeHours();
  o.sla.by_priority[v1::PRIORITY_URGENT] = {15 * kMin, 0};
  MakeDesk(std::move(o));

  // Friday 17:30: 30 minutes left today, the rest on Monday.
  v1::Ticket c = File("c", v1::TICKET_CATEGORY_COMPLAINT);
  EXPECT_EQ(c.sla().dispatch_due_ms(), At(2026, 11, 30, 9, 30));
  // 72 working hours = 8 working days of 9 hours: the last ends Wednesday
  // 2026-12-09 at 17:30.
  EXPECT_EQ(c.sla().answer_due_ms(), At(2026, 12, 9, 17, 30));

  // An urgent question gets the urgent dispatch limit.
  clock_.SetMs(At(2026, 11, 30, 17, 50));
  v1::Ticket u = File("u", v1::TICKET_CATEGORY_QUESTION, v1::PRIORITY_URGENT);
  EXPECT_EQ(u.sla().dispatch_due_ms(), At(2026, 12, 1, 9, 5));

  auto get = [&](uint64_t id) {
    v1::GetTicketRequest g;
    g.set_ticket_id(id);
    v1::GetTicketResponse r;
    EXPECT_TRUE(desk_->Get(As("ann"), g, &r).ok());
    return r.ticket();
  };
  EXPECT_FALSE(get(u.id()).sla().at_risk());  // 15 hours of wall time to go
  clock_.SetMs(At(2026, 12, 1, 8));
  EXPECT_TRUE(get(u.id()).sla().at_risk());   // within a fifth of its span
  // Nothing breaches over the weekend.
  clock_.SetMs(At(2026, 11, 30, 9, 29));
  EXPECT_TRUE(get(c.id()).sla().at_risk());
  ASSERT_EQ(*desk_->RunSlaOnce(), 0);
  clock_.SetMs(At(2026, 11, 30, 9, 30));
  ASSERT_EQ(*desk_->RunSlaOnce(), 1);

  // Paused Monday 10:00 with 70.5 working hours left; the player answers on
  // Saturday, so the clock starts again on Monday morning with the same 70.5.
  clock_.SetMs(At(2026, 11, 30, 10));
  v1::AddMessageRequest ask;
  ask.set_ticket_id(c.id());
  ask.set_body("Which item was it?");
  ask.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  ask.set_await_player(true);
  v1::AddMessageResponse mr;
  Caller ann = As("ann");
  ASSERT_TRUE(Wait([&](auto d) { desk_->AddMessage(ann, ask, &mr, std::move(d)); }).ok());
  clock_.SetMs(At(2026, 12, 5, 12));
  v1::AddMessageRequest answer;
  answer.set_ticket_id(c.id());
  answer.set_body("The dragon sword");
  Caller player = As("gs", "p-1");
  ASSERT_TRUE(Wait([&](auto d) { desk_->AddMessage(player, answer, &mr, std::move(d)); }).ok());
  EXPECT_EQ(mr.ticket().sla().answer_due_ms(), At(2026, 12, 16, 16, 30));
  EXPECT_EQ(mr.ticket().sla().paused_total_ms(), At(2026, 12, 5, 12) - At(2026, 11, 30, 10));
}

TEST_F(DeskTest, HandoversAndTheShiftBrief) {
  MakeDesk();
  auto write = [&](const std::string& who, v1::WriteHandoverRequest r, v1::Handover* out = nullptr) {
    v1::Handover h;
    absl::Status s = Wait([&](auto d) { work_->WriteHandover(As(who), r, &h, std::move(d)); });
    if (out) *out = h;
    return s;
  };
  auto brief = [&](const std::string& who) {
    v1::ShiftBrief b;
    EXPECT_TRUE(work_->GetShiftBrief(As(who), {}, &b).ok());
    return b;
  };
  v1::WriteHandoverRequest r;
  EXPECT_EQ(write("ann", r).code(), absl::StatusCode::kInvalidArgument);  // empty
  for (int i = 0; i < 33; ++i) r.add_open_issues("issue");
  EXPECT_EQ(write("ann", r).code(), absl::StatusCode::kInvalidArgument);  // too many
  r.Clear();
  r.set_system_state("eu1 login queue is slow since 16:00; known, devs on it");
  r.add_open_issues("ticket 17: payment dispute, player threatens chargeback");
  r.set_staffing_notes("bob covers the VIP queue tomorrow");
  v1::Handover first;
  ASSERT_TRUE(write("ann", r, &first).ok());
  clock_.AdvanceMs(kHour);
  r.set_system_state("all quiet");
  v1::Handover second;
  ASSERT_TRUE(write("lead", r, &second).ok());

  // bob reads both, oldest first; ann only the lead's; the authors have read their own.
  v1::ShiftBrief b = brief("bob");
  ASSERT_EQ(b.unread_handovers_size(), 2);
  EXPECT_EQ(b.unread_handovers(0).id(), first.id());
  EXPECT_EQ(b.unread_handovers(0).open_issues(0), "ticket 17: payment dispute, player threatens chargeback");
  ASSERT_EQ(brief("ann").unread_handovers_size(), 1);
  EXPECT_EQ(brief("ann").unread_handovers(0).id(), second.id());

  v1::MarkHandoverReadRequest mark;
  mark.set_id(first.id());
  v1::Handover marked;
  ASSERT_TRUE(Wait([&](auto d) { work_->MarkHandoverRead(As("bob"), mark, &marked, std::move(d)); }).ok());
  EXPECT_EQ(marked.read_by_size(), 2);
  ASSERT_EQ(brief("bob").unread_handovers_size(), 1);
  EXPECT_EQ(brief("bob").unread_handovers(0).id(), second.id());
  mark.set_id(999);
  EXPECT_EQ(Wait([&](auto d) { work_->MarkHandoverRead(As("bob"), mark, &marked, std::move(d)); }).code(),
            absl::StatusCode::kNotFound);

  // Open escalations, highest level first, and breached tickets follow.
  v1::Ticket low = File("low", v1::TICKET_CATEGORY_QUESTION);
  v1::Ticket high = File("high", v1::TICKET_CATEGORY_QUESTION);
  auto escalate = [&](uint64_t id, int level) {
    v1::EscalateTicketRequest e;
    e.set_ticket_id(id);
    e.set_level(level);
    e.set_reason("needs a decision");
    v1::EscalateTicketResponse er;
    ASSERT_TRUE(Wait([&](auto d) { desk_->Escalate(As("ann"), e, &er, std::move(d)); }).ok());
  };
  escalate(low.id(), 1);
  escalate(high.id(), 3);
  v1::Ticket late = File("late", v1::TICKET_CATEGORY_COMPLAINT);
  clock_.AdvanceMs(2 * kHour);  // past the complaint's 60 minutes to an owner
  ASSERT_GE(*desk_->RunSlaOnce(), 1);
  b = brief("bob");
  ASSERT_EQ(b.open_escalations_size(), 3);
  EXPECT_EQ(b.open_escalations(0).id(), high.id());
  EXPECT_EQ(b.open_escalations(2).id(), late.id());  // escalated by its breach, level 1, newest
  ASSERT_EQ(b.breached_size(), 1);
  EXPECT_EQ(b.breached(0).id(), late.id());
  // Resolved tickets leave the brief.
  Resolve(high.id(), "ann");
  EXPECT_EQ(brief("bob").open_escalations_size(), 2);

  // Writing and reading handovers are audited.
  v1::ListAuditRequest areq;
  v1::ListAuditResponse trail;
  ASSERT_TRUE(ListAuditRecords(*store_, As("sup"), areq, &trail).ok());
  std::multiset<std::string> actions;
  for (const auto& rec : trail.records()) actions.insert(rec.action());
  EXPECT_EQ(actions.count("handover.write"), 2u);
  EXPECT_EQ(actions.count("handover.read"), 1u);
}

TEST(QualitySampleTest, UniformWithoutReplacement) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 1; i <= 12; ++i) ids.push_back(i);
  std::mt19937_64 rng(7);
  std::map<uint64_t, int> picked;
  constexpr int kDraws = 6000;
  for (int d = 0; d < kDraws; ++d) {
    std::vector<uint64_t> s = SampleUniform(ids, 5, rng);
    ASSERT_EQ(s.size(), 5u);
    ASSERT_EQ(std::set<uint64_t>(s.begin(), s.end()).size(), 5u);  // no repeats
    for (uint64_t id : s) ++picked[id];
  }
  // Each of 12 is expected 6000 * 5 / 12 = 2500 times; binomial sd ~38.
  for (uint64_t i = 1; i <= 12; ++i) {
    EXPECT_NEAR(picked[i], 2500, 200) << "ticket " << i;
  }
  EXPECT_EQ(SampleUniform({3, 1}, 5, rng), (std::vector<uint64_t>{1, 3}));  // fewer than k: all
  // Different seeds give different samples.
  std::mt19937_64 a(1), b(2);
  std::set<std::vector<uint64_t>> distinct;
  for (int i = 0; i < 10; ++i) distinct.insert(SampleUniform(ids, 5, i % 2 ? a : b));
  EXPECT_GT(distinct.size(), 5u);
}

TEST_F(DeskTest, QualityInspectionSamplesScoresAndTrends) {
  MakeDesk();
  clock_.SetMs(At(2026, 10, 5, 10));
  std::set<uint64_t> anns, bobs;
  for (int i = 0; i < 12; ++i) {
    uint64_t id = File("a" + std::to_string(i), v1::TICKET_CATEGORY_QUESTION).id();
    Resolve(id, "ann");
    anns.insert(id);
    clock_.AdvanceMs(kHour);
  }
  for (int i = 0; i < 3; ++i) {
    uint64_t id = File("b" + std::to_string(i), v1::TICKET_CATEGORY_QUESTION).id();
    Resolve(id, "bob");
    bobs.insert(id);
  }
  clock_.SetMs(At(2026, 11, 2, 9));
  v1::DrawQualitySampleRequest draw;
  draw.set_period("2026-10");
  v1::QualitySample sample;
  EXPECT_EQ(Wait([&](auto d) { work_->DrawQualitySample(As("lead"), draw, &sample, std::move(d)); }).code(),
            absl::StatusCode::kPermissionDenied);  // supervisors draw
  draw.set_period("October");
  EXPECT_EQ(Wait([&](auto d) { work_->DrawQualitySample(As("sup"), draw, &sample, std::move(d)); }).code(),
            absl::StatusCode::kInvalidArgument);
  draw.set_period("2026-10");
  ASSERT_TRUE(Wait([&](auto d) { work_->DrawQualitySample(As("sup"), draw, &sample, std::move(d)); }).ok());
  std::map<std::string, int> per_agent;
  for (const auto& item : sample.items()) {
    ++per_agent[item.agent()];
    EXPECT_TRUE((item.agent() == "ann" ? anns : bobs).count(item.ticket_id())) << item.ticket_id();
  }
  EXPECT_EQ(per_agent["ann"], 5);  // 5 of her 12
  EXPECT_EQ(per_agent["bob"], 3);  // all he had
  // One sample per period: a redraw cannot pick a friendlier one.
  v1::QualitySample again;
  EXPECT_EQ(Wait([&](auto d) { work_->DrawQualitySample(As("sup"), draw, &again, std::move(d)); }).code(),
            absl::StatusCode::kAlreadyExists);

  auto score = [&](uint64_t ticket, std::vector<std::pair<std::string, uint32_t>> scores,
                   const std::string& who = "sup") {
    v1::ScoreTicketRequest r;
    r.set_sample_id(sample.id());
    r.set_ticket_id(ticket);
    for (auto& [c, v] : scores) {
      auto* sc = r.add_scores();
      sc->set_criterion(c);
      sc->set_score(v);
    }
    v1::QualityReview review;
    return Wait([&](auto d) { work_->ScoreTicket(As(who), r, &review, std::move(d)); });
  };
  uint64_t ann1 = sample.items(0).ticket_id(), ann2 = sample.items(1).ticket_id();
  std::vector<std::pair<std::string, uint32_t>> good = {
      {"wording", 5}, {"attitude", 4}, {"understanding", 3}, {"handling", 4}};
  EXPECT_EQ(score(ann1, {{"wording", 5}}).code(), absl::StatusCode::kInvalidArgument);  // incomplete
  EXPECT_EQ(score(ann1, {{"wording", 6}, {"attitude", 4}, {"understanding", 3}, {"handling", 4}}).code(),
            absl::StatusCode::kInvalidArgument);  // out of range
  EXPECT_EQ(score(ann1, {{"speed", 5}, {"attitude", 4}, {"understanding", 3}, {"handling", 4}}).code(),
            absl::StatusCode::kInvalidArgument);  // not on the sheet
  EXPECT_EQ(score(99999, good).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(score(ann1, good, "ann").code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(score(ann1, good).ok());
  ASSERT_TRUE(score(ann2, {{"wording", 3}, {"attitude", 2}, {"understanding", 3}, {"handling", 2}}).ok());
  v1::GetQualitySampleRequest get;
  get.set_id(sample.id());
  v1::QualitySample stored;
  ASSERT_TRUE(work_->GetQualitySample(As("sup"), get, &stored).ok());
  EXPECT_TRUE(stored.items(0).scored());
  EXPECT_FALSE(stored.items(2).scored());

  v1::QualityTrendsRequest tr;
  tr.set_from_period("2026-09");
  tr.set_to_period("2026-11");
  v1::QualityTrends trends;
  ASSERT_TRUE(work_->GetQualityTrends(As("sup"), tr, &trends).ok());
  ASSERT_EQ(trends.points_size(), 1);
  EXPECT_EQ(trends.points(0).agent(), "ann");
  EXPECT_EQ(trends.points(0).period(), "2026-10");
  EXPECT_EQ(trends.points(0).reviews(), 2u);
  EXPECT_DOUBLE_EQ(trends.points(0).average().at("wording"), 4.0);
  EXPECT_DOUBLE_EQ(trends.points(0).average().at("attitude"), 3.0);
  EXPECT_DOUBLE_EQ(trends.points(0).overall(), (4.0 + 3.0 + 3.0 + 3.0) / 4);
  // An agent sees their own trend, not a colleague's.
  tr.set_agent("ann");
  EXPECT_TRUE(work_->GetQualityTrends(As("ann"), tr, &trends).ok());
  tr.set_agent("bob");
  EXPECT_EQ(work_->GetQualityTrends(As("ann"), tr, &trends).code(), absl::StatusCode::kPermissionDenied);
  tr.set_to_period("2029-01");
  EXPECT_EQ(work_->GetQualityTrends(As("sup"), tr, &trends).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DeskTest, DeskReportCountsTimesComplianceSatisfactionAndCallbacks) {
  MakeDesk();
  // Day 1 (Mon 2026-11-23): three tickets; a complaint answered after 30
  // minutes and resolved, a question answered after 2 hours and resolved,
  // and a bug left open.
  clock_.SetMs(At(2026, 11, 23, 10));
  uint64_t complaint = File("c", v1::TICKET_CATEGORY_COMPLAINT).id();
  uint64_t question = File("q", v1::TICKET_CATEGORY_QUESTION).id();
  File("b", v1::TICKET_CATEGORY_BUG);
  Resolve(complaint, "ann", 30 * kMin);
  Resolve(question, "bob", 2 * kHour);
  // Day 2: the question's player rates it 4; the complaint's callback
  // reaches the player.
  clock_.SetMs(At(2026, 11, 24, 10));
  v1::RateTicketRequest rate;
  rate.set_ticket_id(question);
  rate.set_score(4);
  v1::RateTicketResponse rr;
  ASSERT_TRUE(Wait([&](auto d) { desk_->Rate(As("gs", "p-1"), rate, &rr, std::move(d)); }).ok());
  uint64_t callback = 0;
  ASSERT_TRUE(vip_->ScanTasks("", 0, clock_.NowMs(), [&](const v1::CareTask& t) {
    if (t.kind() == v1::CARE_TASK_KIND_CALLBACK) callback = t.id();
    return true;
  }).ok());
  ASSERT_NE(callback, 0u);
  v1::RecordAttemptRequest att;
  att.set_task_id(callback);
  att.set_outcome(v1::ATTEMPT_OUTCOME_REACHED);
  v1::CareTaskResponse ar;
  ASSERT_TRUE(Wait([&](auto d) { vip_->RecordAttempt(As("ann"), att, &ar, std::move(d)); }).ok());
  // Day 4: a question breaches its 4 hours to an owner before it is taken.
  clock_.SetMs(At(2026, 11, 26, 9));
  uint64_t slow = File("s", v1::TICKET_CATEGORY_QUESTION).id();
  clock_.AdvanceMs(5 * kHour);
  ASSERT_GE(*desk_->RunSlaOnce(), 1);
  Resolve(slow, "ann", kHour);

  v1::DeskReportRequest req;
  req.set_from_ms(At(2026, 11, 23, 12));  // rounded down to the day
  req.set_to_ms(At(2026, 11, 27, 0));
  req.set_granularity(v1::REPORT_GRANULARITY_DAY);
  v1::DeskReport report;
  EXPECT_EQ(work_->GetDeskReport(As("ann"), req, &report).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(work_->GetDeskReport(As("lead"), req, &report).ok());
  ASSERT_EQ(report.rows_size(), 4);
  const v1::DeskReportRow& d1 = report.rows(0);
  EXPECT_EQ(d1.period_start_ms(), At(2026, 11, 23, 0));
  EXPECT_EQ(d1.received(), 3u);
  EXPECT_EQ(d1.received_by_category().at("complaint"), 1u);
  EXPECT_EQ(d1.received_by_category().at("bug"), 1u);
  EXPECT_EQ(d1.resolved(), 2u);
  EXPECT_EQ(d1.first_response_p50_ms(), 30 * kMin);
  EXPECT_EQ(d1.first_response_p90_ms(), 30 * kMin + 2 * kHour);  // the question waited after the complaint
  EXPECT_DOUBLE_EQ(d1.sla_compliance_pct(), 100.0);
  EXPECT_DOUBLE_EQ(d1.csat_average(), 4.0);
  EXPECT_EQ(d1.csat_count(), 1u);
  // The complaint's callback was made at its resolution on day 1 and is
  // due 72 hours later: it counts on day 4, the day it is due.
  EXPECT_EQ(d1.callbacks_due(), 0u);
  EXPECT_EQ(report.rows(3).period_start_ms(), At(2026, 11, 26, 0));
  EXPECT_EQ(report.rows(3).callbacks_due(), 1u);
  EXPECT_EQ(report.rows(3).callbacks_reached(), 1u);
  EXPECT_DOUBLE_EQ(report.rows(3).callback_rate_pct(), 100.0);
  ASSERT_EQ(d1.agents_size(), 2);
  EXPECT_EQ(d1.agents(1).agent(), "bob");
  EXPECT_DOUBLE_EQ(d1.agents(1).csat_average(), 4.0);
  EXPECT_EQ(report.rows(1).received(), 0u);
  EXPECT_EQ(report.next_from_ms(), 0);
  // Paged: two rows, then the rest from where it stopped.
  req.set_max_rows(2);
  v1::DeskReport page;
  ASSERT_TRUE(work_->GetDeskReport(As("lead"), req, &page).ok());
  ASSERT_EQ(page.rows_size(), 2);
  EXPECT_EQ(page.next_from_ms(), At(2026, 11, 25, 0));
  req.set_from_ms(page.next_from_ms());
  page.Clear();
  ASSERT_TRUE(work_->GetDeskReport(As("lead"), req, &page).ok());
  ASSERT_EQ(page.rows_size(), 2);
  EXPECT_EQ(page.rows(1).received(), 1u);
  EXPECT_EQ(page.next_from_ms(), 0);
  req.set_max_rows(0);
  req.set_from_ms(At(2026, 11, 23, 12));
  const v1::DeskReportRow& d4 = report.rows(3);
  EXPECT_EQ(d4.received(), 1u);
  EXPECT_EQ(d4.resolved(), 1u);
  EXPECT_DOUBLE_EQ(d4.sla_compliance_pct(), 0.0);  // breached
  EXPECT_EQ(report.backlog().open(), 1u);  // the bug, 3 days old
  EXPECT_EQ(report.backlog().d3_to_7(), 1u);

  // Weeks start on Monday; a month is one row.
  req.set_granularity(v1::REPORT_GRANULARITY_WEEK);
  report.Clear();
  ASSERT_TRUE(work_->GetDeskReport(As("lead"), req, &report).ok());
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).period_start_ms(), At(2026, 11, 23, 0));
  EXPECT_EQ(report.rows(0).received(), 4u);
  req.set_granularity(v1::REPORT_GRANULARITY_MONTH);
  report.Clear();
  ASSERT_TRUE(work_->GetDeskReport(As("lead"), req, &report).ok());
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).period_start_ms(), At(2026, 11, 1, 0));
  EXPECT_EQ(report.rows(0).period_end_ms(), At(2026, 12, 1, 0));
  EXPECT_EQ(report.rows(0).resolved(), 3u);
  req.set_from_ms(At(2020, 1, 1, 0));
  req.set_granularity(v1::REPORT_GRANULARITY_DAY);
  EXPECT_EQ(work_->GetDeskReport(As("lead"), req, &report).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steward
