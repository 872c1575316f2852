// The VIP sweep through the real server on a FakeClock: it runs right after
// start, so a daemon restarted more often than the sweep interval (an hour)
// still starts downgrades.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "steward/v1/vip.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
constexpr int64_t kDay = 24 * 3600 * 1000;

class VipSweepTest : public FakeClockServerFixture {
 protected:
  v1::VipProfile Profile() {
    auto vip = v1::VipService::NewStub(channel_);
    v1::GetVipProfileRequest req;
    req.set_player_id("p-whale");
    req.set_realm_id("eu1");
    v1::VipProfileResponse resp;
    grpc::Status s = vip->GetVipProfile(Ctx("lead").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.profile();
  }
};

TEST_F(VipSweepTest, TheSweepRunsRightAfterAStart) {
  auto vip = v1::VipService::NewStub(channel_);
  v1::RecordPurchaseRequest buy;
  buy.set_idempotency_key("order-1");
  buy.set_amount_cents(300'00);  // gold by 30-day spend; silver by lifetime
  v1::VipProfileResponse bought;
  grpc::Status s = vip->RecordPurchase(Ctx("gs-eu1", "p-whale").get(), buy, &bought);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(bought.profile().tier(), "gold");

  // The purchase leaves the 30-day window; only a sweep notices.
  fake_clock_.AdvanceMs(31 * kDay);
  StopServer();
  StartServer();
  v1::VipProfile p;
  ASSERT_TRUE(test::Eventually([&] { return (p = Profile()).pending_tier() == "silver"; }))
      << p.DebugString();
  EXPECT_EQ(p.tier(), "gold");  // the grace period runs first
}

}  // namespace
}  // namespace steward

namespace steward {
namespace {

// A VIP without a care GM: the callback after a resolved ticket goes to the
// VIP queue (no owner), as the docs say, not to whoever resolved it.
TEST_F(VipSweepTest, AVipWithoutACareGmGetsItsCallbackInTheQueue) {
  auto vip = v1::VipService::NewStub(channel_);
  v1::RecordPurchaseRequest buy;
  buy.set_idempotency_key("order-q");
  buy.set_amount_cents(300'00);
  v1::VipProfileResponse bought;
  ASSERT_TRUE(vip->RecordPurchase(Ctx("gs-eu1", "p-whale").get(), buy, &bought).ok());
  ASSERT_TRUE(bought.profile().care_gm().empty());

  auto tickets = v1::TicketService::NewStub(channel_);
  v1::SubmitTicketRequest t;
  t.set_idempotency_key("vq-1");
  t.set_category(v1::TICKET_CATEGORY_QUESTION);
  t.set_subject("Where is my mount?");
  t.mutable_context()->set_realm_id("eu1");
  v1::SubmitTicketResponse filed;
  ASSERT_TRUE(tickets->SubmitTicket(Ctx("gs-eu1", "p-whale").get(), t, &filed).ok());
  v1::UpdateTicketStatusRequest res;
  res.set_ticket_id(filed.ticket().id());
  res.set_status(v1::TICKET_STATUS_RESOLVED);
  res.set_reason("found it");
  v1::UpdateTicketStatusResponse resolved;
  ASSERT_TRUE(tickets->UpdateTicketStatus(Ctx("agent").get(), res, &resolved).ok());

  v1::ListCareTasksRequest lr;
  lr.set_queue_only(true);
  v1::ListCareTasksResponse queue;
  ASSERT_TRUE(vip->ListCareTasks(Ctx("lead").get(), lr, &queue).ok());
  bool callback = false;
  for (const auto& task : queue.tasks()) {
    if (task.kind() == v1::CARE_TASK_KIND_CALLBACK && task.ticket_id() == filed.ticket().id()) {
      callback = true;
      EXPECT_TRUE(task.owner().empty());
    }
  }
  EXPECT_TRUE(callback) << queue.DebugString();
}

}  // namespace
}  // namespace steward
