// Sanctions through the real server on a FakeClock: a three-day ban ends
// when the clock passes its end, with no waiting.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
constexpr int64_t kDay = 24 * 3600 * 1000;

class SanctionExpiryTest : public FakeClockServerFixture {
 protected:
  void SetUp() override {
    FakeClockServerFixture::SetUp();
    mod_ = v1::ModerationService::NewStub(channel_);
  }
  v1::PlayerStatus Check(const std::string& player) {
    v1::CheckPlayerRequest req;
    req.set_player_id(player);
    req.set_realm_id("eu1");
    v1::PlayerStatus st;
    grpc::Status s = mod_->CheckPlayer(Ctx("gs-eu1").get(), req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return st;
  }
  std::unique_ptr<v1::ModerationService::Stub> mod_;
};

TEST_F(SanctionExpiryTest, TempBanEndsExactlyWhenTheClockPassesItsEnd) {
  v1::IssueSanctionRequest req;
  req.set_idempotency_key("ban-1");
  v1::SanctionSpec* spec = req.mutable_spec();
  spec->set_type(v1::SANCTION_TYPE_TEMP_BAN);
  spec->set_subject_id("p-cheat");
  spec->set_duration_ms(3 * kDay);
  spec->mutable_scope()->set_realm_id("eu1");
  spec->set_reason("Speed hack in the arena");
  spec->set_policy_code("cheating");
  spec->add_evidence("case/17");
  v1::IssueSanctionResponse issued;
  grpc::Status s = mod_->IssueSanction(Ctx("lead").get(), req, &issued);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(issued.sanction().effective_at_ms(), fake_clock_.NowMs());
  EXPECT_EQ(issued.sanction().expires_at_ms(), fake_clock_.NowMs() + 3 * kDay);

  v1::PlayerStatus st = Check("p-cheat");
  EXPECT_FALSE(st.can_login());
  EXPECT_EQ(st.checked_at_ms(), fake_clock_.NowMs());
  ASSERT_EQ(st.restrictions_size(), 1);
  EXPECT_EQ(st.restrictions(0).remaining_ms(), 3 * kDay);

  fake_clock_.AdvanceMs(3 * kDay - 1);
  st = Check("p-cheat");
  EXPECT_FALSE(st.can_login());
  ASSERT_EQ(st.restrictions_size(), 1);
  EXPECT_EQ(st.restrictions(0).remaining_ms(), 1);

  fake_clock_.AdvanceMs(1);
  st = Check("p-cheat");
  EXPECT_TRUE(st.can_login());
  EXPECT_EQ(st.restrictions_size(), 0);
}

// A sanction that has run out is not revoked again: there is nothing to
// lift, and no "lifted" directive goes to the game servers.
TEST_F(SanctionExpiryTest, RevokingAnExpiredSanctionIsRefused) {
  v1::IssueSanctionRequest req;
  req.set_idempotency_key("mute-1");
  v1::SanctionSpec* spec = req.mutable_spec();
  spec->set_type(v1::SANCTION_TYPE_MUTE);
  spec->set_subject_id("p-loud");
  spec->set_duration_ms(kDay);
  spec->mutable_scope()->set_realm_id("eu1");
  spec->set_reason("Spam in world chat");
  spec->set_policy_code("spamming");
  v1::IssueSanctionResponse issued;
  ASSERT_TRUE(mod_->IssueSanction(Ctx("lead").get(), req, &issued).ok());

  fake_clock_.AdvanceMs(kDay);
  v1::RevokeSanctionRequest rev;
  rev.set_sanction_id(issued.sanction().id());
  rev.set_reason("appeal upheld");
  v1::RevokeSanctionResponse revoked;
  grpc::Status s = mod_->RevokeSanction(Ctx("lead").get(), rev, &revoked);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("already expired"), std::string::npos) << s.error_message();

  // Within its time it is revoked as before.
  req.set_idempotency_key("mute-2");
  ASSERT_TRUE(mod_->IssueSanction(Ctx("lead").get(), req, &issued).ok());
  rev.set_sanction_id(issued.sanction().id());
  EXPECT_TRUE(mod_->RevokeSanction(Ctx("lead").get(), rev, &revoked).ok());
  EXPECT_EQ(revoked.sanction().state(), v1::SANCTION_STATE_REVOKED);
}

// The contract: approvals are read by supervisors and up.
TEST_F(SanctionExpiryTest, ApprovalsAreReadBySupervisorsOnly) {
  v1::ListApprovalsRequest req;
  v1::ListApprovalsResponse resp;
  EXPECT_EQ(mod_->ListApprovals(Ctx("lead").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(mod_->ListApprovals(Ctx("sup").get(), req, &resp).ok());
}

}  // namespace
}  // namespace steward
