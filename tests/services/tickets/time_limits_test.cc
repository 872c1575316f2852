// Ticket time limits through the real server on a FakeClock: a breach days
// away is reached by moving the clock, and the breach escalates the ticket.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
constexpr int64_t kHour = 3600 * 1000;

class TimeLimitsTest : public FakeClockServerFixture {
 protected:
  void SetUp() override {
    FakeClockServerFixture::SetUp();
    tickets_ = v1::TicketService::NewStub(channel_);
  }

  v1::Ticket Submit(const std::string& key, v1::TicketCategory category) {
    v1::SubmitTicketRequest r;
    r.set_idempotency_key(key);
    r.set_category(category);
    r.set_subject("Lost my mount after the patch");
    r.set_description("It was in the stable yesterday.");
    r.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    grpc::Status s = tickets_->SubmitTicket(Ctx("gs-eu1", "p-1").get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.ticket();
  }
  v1::Ticket Get(uint64_t id) {
    v1::GetTicketRequest r;
    r.set_ticket_id(id);
    v1::GetTicketResponse resp;
    grpc::Status s = tickets_->GetTicket(Ctx("lead").get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.ticket();
  }

  std::unique_ptr<v1::TicketService::Stub> tickets_;
};

TEST_F(TimeLimitsTest, AnswerBreachAfterThreeDaysEscalatesToTheLead) {
  const v1::Ticket filed = Submit("q-1", v1::TICKET_CATEGORY_QUESTION);
  ASSERT_NE(filed.id(), 0u);
  // The default answer limit is 72 hours from submission, on the server's clock.
  EXPECT_EQ(filed.created_at_ms(), fake_clock_.NowMs());
  EXPECT_EQ(filed.sla().answer_due_ms(), filed.created_at_ms() + 72 * kHour);

  v1::AssignTicketRequest assign;
  assign.set_ticket_id(filed.id());
  assign.set_assignee("agent");
  v1::AssignTicketResponse assigned;
  ASSERT_TRUE(tickets_->AssignTicket(Ctx("agent").get(), assign, &assigned).ok());

  // 71 hours later the limit still runs; the scheduler has had a look.
  fake_clock_.AdvanceMs(71 * kHour);
  absl::SleepFor(absl::Milliseconds(1500));
  v1::Ticket before = Get(filed.id());
  EXPECT_FALSE(before.sla().answer_breached());
  EXPECT_EQ(before.escalation_level(), 0);

  // Past 72 hours the scheduler marks the breach and raises the ticket.
  fake_clock_.AdvanceMs(2 * kHour);
  v1::Ticket after;
  ASSERT_TRUE(test::Eventually([&] {
    after = Get(filed.id());
    return after.sla().answer_breached();
  }));
  EXPECT_EQ(after.escalation_level(), 1);
  ASSERT_GE(after.escalations_size(), 1);
  EXPECT_EQ(after.escalations(0).level(), 1);
  EXPECT_EQ(after.escalations(0).by(), "steward");
}

TEST_F(TimeLimitsTest, UnownedComplaintBreachesItsSixtyMinuteDispatchLimit) {
  const v1::Ticket filed = Submit("c-1", v1::TICKET_CATEGORY_COMPLAINT);
  EXPECT_EQ(filed.sla().dispatch_due_ms(), filed.created_at_ms() + kHour);
  fake_clock_.AdvanceMs(kHour + 1);
  v1::Ticket after;
  ASSERT_TRUE(test::Eventually([&] {
    after = Get(filed.id());
    return after.sla().dispatch_breached();
  }));
  EXPECT_FALSE(after.sla().answer_breached());
  EXPECT_EQ(after.escalation_level(), 1);
}

}  // namespace
}  // namespace steward
