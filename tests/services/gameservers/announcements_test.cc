// Announcement schedules through the real server on a FakeClock: a daily
// notice two days out is shown when the clock reaches each showing, and
// the schedule finishes at its end, without waiting days.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
constexpr int64_t kDay = 24 * 3600 * 1000;

class AnnouncementScheduleTest : public FakeClockServerFixture {
 protected:
  void SetUp() override {
    FakeClockServerFixture::SetUp();
    ann_ = v1::AnnouncementService::NewStub(channel_);
  }
  v1::Announcement Only() {
    v1::ListAnnouncementsRequest req;
    v1::ListAnnouncementsResponse resp;
    grpc::Status s = ann_->ListAnnouncements(Ctx("agent").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.announcements_size(), 1);
    return resp.announcements_size() == 1 ? resp.announcements(0) : v1::Announcement();
  }
  std::unique_ptr<v1::AnnouncementService::Stub> ann_;
};

TEST_F(AnnouncementScheduleTest, DailyNoticeShowsOnEachDayThenFinishes) {
  const int64_t t0 = fake_clock_.NowMs();
  v1::CreateAnnouncementRequest req;
  req.set_idempotency_key("double-xp");
  v1::AnnouncementSpec* spec = req.mutable_spec();
  spec->set_title("Double XP weekend");
  spec->set_body("All weekend long, every quest gives double experience.");
  spec->set_channel(v1::ANNOUNCEMENT_CHANNEL_BANNER);
  spec->set_starts_at_ms(t0 + 2 * kDay);
  spec->set_repeat_every_ms(kDay);
  spec->set_ends_at_ms(t0 + 3 * kDay + kDay / 2);  // two showings: day 2 and day 3
  v1::AnnouncementResponse created;
  grpc::Status s = ann_->CreateAnnouncement(Ctx("lead").get(), req, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.announcement().state(), v1::ANNOUNCEMENT_STATE_SCHEDULED);
  EXPECT_EQ(created.announcement().showings(), 0u);
  EXPECT_EQ(created.announcement().next_at_ms(), t0 + 2 * kDay);

  fake_clock_.SetMs(t0 + 2 * kDay);
  v1::Announcement a;
  ASSERT_TRUE(test::Eventually([&] { return (a = Only()).showings() == 1; }));
  EXPECT_EQ(a.state(), v1::ANNOUNCEMENT_STATE_SCHEDULED);
  EXPECT_EQ(a.next_at_ms(), t0 + 3 * kDay);

  fake_clock_.SetMs(t0 + 3 * kDay);
  ASSERT_TRUE(test::Eventually([&] { return (a = Only()).showings() == 2; }));
  EXPECT_EQ(a.state(), v1::ANNOUNCEMENT_STATE_FINISHED);
}

}  // namespace
}  // namespace steward
