// The VIP sweep through the real server on a FakeClock: it runs right after
// start, so a daemon restarted more often than the sweep interval (an hour)
// still starts downgrades.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
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
