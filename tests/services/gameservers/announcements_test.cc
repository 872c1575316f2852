// Announcement schedules through the real server on a FakeClock: a daily
// notice two days out is shown when the clock reaches each showing, and
// the schedule finishes at its end, without waiting days.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "services/gameservers/announcements.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "storage/keys.h"
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

// Stores written before announcements had an index family of their own
// kept it in moderation's; the first start moves it, and the announcement
// is listed and scheduled as before.
TEST(AnnouncementIndexMoveTest, EntriesInModerationsIndexMoveOnStart) {
  test::TempDir dir;
  auto store = test::OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  FakeClock clock{1'800'000'000'000};
  v1::Announcement a;
  a.set_id(7);
  a.mutable_spec()->set_title("Old notice");
  a.set_state(v1::ANNOUNCEMENT_STATE_SCHEDULED);
  a.set_created_at_ms(clock.NowMs() - 1000);
  a.set_next_at_ms(clock.NowMs() + 3600 * 1000);
  auto time_key = [&](uint8_t family) {
    return storage::KeyWriter().Byte(family).I64(a.created_at_ms()).U64(a.id()).Release();
  };
  ASSERT_TRUE(store->CommitAndWait([&](storage::Txn& txn) {
                     txn.Put(storage::Cf::kAnnouncements, storage::KeyWriter().U64(7).Release(),
                             a.SerializeAsString());
                     txn.Put(storage::Cf::kModIndex, time_key('N'), "");
                     txn.Put(storage::Cf::kModIndex, time_key('M'), "");
                     return absl::OkStatus();
                   }).ok());
  DirectiveHub hub(store.get(), &clock);
  ASSERT_TRUE(hub.Init().ok());
  GameServers servers(store.get(), &hub, &clock);
  Announcements ann(store.get(), &hub, &servers, &clock);
  ASSERT_TRUE(ann.Start().ok());

  int left = 0, moved = 0;
  ASSERT_TRUE(store->Scan(storage::Cf::kModIndex, "", "", false, [&](absl::string_view, absl::string_view) {
                     ++left;
                     return true;
                   }).ok());
  ASSERT_TRUE(store->Scan(storage::Cf::kAnnouncementIndex, "", "", false,
                          [&](absl::string_view, absl::string_view) {
                            ++moved;
                            return true;
                          }).ok());
  EXPECT_EQ(left, 0);
  EXPECT_EQ(moved, 2);
  PrincipalConfig gm{.name = "ann", .kind = PrincipalKind::kGm, .role = Role::kAgent};
  v1::ListAnnouncementsRequest req;
  req.set_scheduled_only(true);
  v1::ListAnnouncementsResponse resp;
  ASSERT_TRUE(ann.List(Caller{&gm, ""}, req, &resp).ok());
  ASSERT_EQ(resp.announcements_size(), 1);
  EXPECT_EQ(resp.announcements(0).spec().title(), "Old notice");
}

}  // namespace
}  // namespace steward
