// The support desk's rules with an injected clock: SLA policies per category
// and priority, business calendars, and the pause arithmetic on them.
#include <filesystem>
#include <future>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server_fixture.h"
#include "services/config.h"
#include "services/directives.h"
#include "services/sla.h"
#include "services/tickets.h"
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
    dir_ = std::filesystem::temp_directory_path() /
           ("steward_desk_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = *storage::Store::Open({.path = dir_.string()});
    hub_ = std::make_unique<DirectiveHub>(store_.get());
    ASSERT_TRUE(hub_->Init().ok());
  }
  void TearDown() override {
    desk_.reset();
    hub_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeDesk(TicketDeskOptions o) {
    o.clock = [this] { return now_; };
    desk_ = std::make_unique<TicketDesk>(store_.get(), &auth_, hub_.get(), std::move(o));
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

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<DirectiveHub> hub_;
  Authenticator auth_{{GameServer("gs", "eu1"), Gm("ann", Role::kAgent), Gm("bob", Role::kAgent),
                       Gm("lead", Role::kLead), Gm("sup", Role::kSupervisor)}};
  int64_t now_ = At(2026, 11, 27, 17, 30);  // a Friday evening
  std::unique_ptr<TicketDesk> desk_;
};

TEST_F(DeskTest, ClocksRunOnTheCalendarAndPausesKeepWhatWasLeft) {
  TicketDeskOptions o;
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
  now_ = At(2026, 11, 30, 17, 50);
  v1::Ticket u = File("u", v1::TICKET_CATEGORY_QUESTION, v1::PRIORITY_URGENT);
  EXPECT_EQ(u.sla().dispatch_due_ms(), At(2026, 12, 1, 9, 5));

  // Nothing breaches over the weekend.
  now_ = At(2026, 11, 30, 9, 29);
  ASSERT_EQ(*desk_->RunSlaOnce(), 0);
  now_ = At(2026, 11, 30, 9, 30);
  ASSERT_EQ(*desk_->RunSlaOnce(), 1);

  // Paused Monday 10:00 with 70.5 working hours left; the player answers on
  // Saturday, so the clock starts again on Monday morning with the same 70.5.
  now_ = At(2026, 11, 30, 10);
  v1::AddMessageRequest ask;
  ask.set_ticket_id(c.id());
  ask.set_body("Which item was it?");
  ask.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  ask.set_await_player(true);
  v1::AddMessageResponse mr;
  Caller ann = As("ann");
  ASSERT_TRUE(Wait([&](auto d) { desk_->AddMessage(ann, ask, &mr, std::move(d)); }).ok());
  now_ = At(2026, 12, 5, 12);
  v1::AddMessageRequest answer;
  answer.set_ticket_id(c.id());
  answer.set_body("The dragon sword");
  Caller player = As("gs", "p-1");
  ASSERT_TRUE(Wait([&](auto d) { desk_->AddMessage(player, answer, &mr, std::move(d)); }).ok());
  EXPECT_EQ(mr.ticket().sla().answer_due_ms(), At(2026, 12, 16, 16, 30));
  EXPECT_EQ(mr.ticket().sla().paused_total_ms(), At(2026, 12, 5, 12) - At(2026, 11, 30, 10));
}

}  // namespace
}  // namespace steward
