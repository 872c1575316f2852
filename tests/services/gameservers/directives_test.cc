// The directive hub on a real store: retention and what a reader missed.
#include <filesystem>
#include <future>
#include <thread>

#include "absl/synchronization/notification.h"
#include "storage/keys.h"

#include "gtest/gtest.h"
#include "services/common/status_macros.h"
#include "services/gameservers/directives.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/store.h"
#include "tests/common/fixtures.h"


namespace steward {
namespace {

namespace v1 = ::steward::v1;

// Directive retention: old directives go, the newest stays, and a reader
// resuming from before the cut is told what it missed, after a restart too.
TEST(DirectiveRetentionTest, TrimKeepsTheNewestAndReportsTheGap) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto read = [](const DirectiveHub& hub, uint64_t after, uint64_t* cursor) {
    v1::DirectiveBatch b;
    EXPECT_TRUE(hub.Read(after, "eu1", "s1", 100, &b, cursor).ok());
    std::vector<uint64_t> seqs;
    for (const auto& d : b.directives()) seqs.push_back(d.seq());
    return std::make_pair(b.missed_through(), seqs);
  };
  uint64_t cursor = 0;
  {
    auto store = *storage::Store::Open({.path = dir.string()});
    DirectiveHub hub(store.get());
    ASSERT_TRUE(hub.Init().ok());
    EXPECT_EQ(hub.oldest_seq(), 1u);
    for (int64_t at : {1000, 2000, 3000, 4000, 5000}) {
      uint64_t seq = 0;
      ASSERT_TRUE(store->CommitAndWait([&](storage::Txn& txn) {
        v1::Directive d;
        d.mutable_target()->set_realm_id("eu1");
        STEWARD_RETURN_IF_ERROR(hub.Append(txn, at, &d));
        seq = d.seq();
        return absl::OkStatus();
      }).ok());
      hub.Published(seq);
    }
    EXPECT_EQ(hub.latest_seq(), 5u);
    auto n = hub.Trim(3500);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 3);
    EXPECT_EQ(hub.oldest_seq(), 4u);
    EXPECT_EQ(read(hub, 0, &cursor), std::make_pair(uint64_t{3}, std::vector<uint64_t>{4, 5}));
    EXPECT_EQ(cursor, 5u);
    // A reader that had seen seq 3 missed nothing.
    EXPECT_EQ(read(hub, 3, &cursor), std::make_pair(uint64_t{0}, std::vector<uint64_t>{4, 5}));
    // Everything is old now, but the newest stays.
    n = hub.Trim(10'000);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(read(hub, 2, &cursor), std::make_pair(uint64_t{4}, std::vector<uint64_t>{5}));
  }
  auto store = *storage::Store::Open({.path = dir.string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  EXPECT_EQ(hub.latest_seq(), 5u);
  EXPECT_EQ(hub.oldest_seq(), 5u);
  EXPECT_EQ(read(hub, 0, &cursor), std::make_pair(uint64_t{4}, std::vector<uint64_t>{5}));
  EXPECT_EQ(read(hub, 5, &cursor), std::make_pair(uint64_t{0}, std::vector<uint64_t>{}));
  std::filesystem::remove_all(dir);
}

// Appends one directive for `target` ("" realm: everyone) and publishes it.
uint64_t AppendFor(storage::Store& store, DirectiveHub& hub, const std::string& realm,
                   const std::string& server, int64_t at = 1000) {
  uint64_t seq = 0;
  EXPECT_TRUE(store.CommitAndWait([&](storage::Txn& txn) {
    v1::Directive d;
    d.mutable_target()->set_realm_id(realm);
    d.mutable_target()->set_server_id(server);
    STEWARD_RETURN_IF_ERROR(hub.Append(txn, at, &d));
    seq = d.seq();
    return absl::OkStatus();
  }).ok());
  hub.Published(seq);
  return seq;
}

// Reads everything for (realm, server) `max` at a time, as a stream does.
std::vector<uint64_t> ReadAll(const DirectiveHub& hub, const std::string& realm,
                              const std::string& server, size_t max,
                              const PublishedRange* shared = nullptr) {
  std::vector<uint64_t> seqs;
  uint64_t after = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    v1::DirectiveBatch b;
    uint64_t cursor = 0;
    EXPECT_TRUE(hub.Read(after, realm, server, max, &b, &cursor, shared).ok());
    EXPECT_LE(static_cast<size_t>(b.directives_size()), max);
    for (const auto& d : b.directives()) {
      EXPECT_TRUE(DirectiveMatches(d.target(), realm, server)) << d.ShortDebugString();
      seqs.push_back(d.seq());
    }
    if (cursor == after) break;
    after = cursor;
  }
  return seqs;
}

// A server reads its own, its realm's and everyone's directives, in order,
// page by page, and nothing aimed at another server or realm.
TEST(DirectiveIndexTest, ReadsOnlyWhatConcernsTheServer) {
  test::TempDir dir;
  auto store = *storage::Store::Open({.path = dir.path().string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  std::vector<uint64_t> want;
  for (int i = 0; i < 40; ++i) {
    switch (i % 5) {
      case 0: want.push_back(AppendFor(*store, hub, "", "")); break;
      case 1: want.push_back(AppendFor(*store, hub, "eu1", "")); break;
      case 2: want.push_back(AppendFor(*store, hub, "eu1", "s1")); break;
      case 3: AppendFor(*store, hub, "eu1", "s2"); break;
      case 4: AppendFor(*store, hub, "us1", ""); break;
    }
  }
  for (size_t max : {1, 3, 7, 256}) {
    EXPECT_EQ(ReadAll(hub, "eu1", "s1", max), want) << "max " << max;
  }
  // A server of another realm sees only everyone's and its realm's.
  EXPECT_EQ(ReadAll(hub, "us1", "x", 5).size(), 16u);
}

// The range fan-out reads once gives each reader what the index gives it.
TEST(DirectiveIndexTest, SharedRangeAgreesWithTheIndex) {
  test::TempDir dir;
  auto store = *storage::Store::Open({.path = dir.path().string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  PublishedRange range;
  for (int i = 0; i < 12; ++i) {
    const std::string realm = i % 3 == 0 ? "" : (i % 3 == 1 ? "eu1" : "us1");
    uint64_t seq = AppendFor(*store, hub, realm, i % 2 ? "s1" : "");
    v1::Directive d;
    d.set_seq(seq);
    d.mutable_target()->set_realm_id(realm);
    if (!realm.empty() && i % 2) d.mutable_target()->set_server_id("s1");
    range.directives.push_back(d);
  }
  range.after = 0;
  range.through = hub.latest_seq();
  for (size_t max : {1, 2, 100}) {
    EXPECT_EQ(ReadAll(hub, "eu1", "s1", max, &range), ReadAll(hub, "eu1", "s1", max));
  }
}

// A log written before the index existed is indexed at the first start.
TEST(DirectiveIndexTest, OlderLogIsIndexedAtStart) {
  test::TempDir dir;
  std::vector<uint64_t> want;
  {
    auto store = *storage::Store::Open({.path = dir.path().string()});
    DirectiveHub hub(store.get());
    ASSERT_TRUE(hub.Init().ok());
    for (int i = 0; i < 6; ++i) {
      uint64_t seq = AppendFor(*store, hub, i % 2 ? "eu1" : "us1", "");
      if (i % 2) want.push_back(seq);
    }
    // As an older version left it: the log without its index.
    ASSERT_TRUE(store->CommitAndWait([&](storage::Txn& txn) {
      return store->Scan(storage::Cf::kDirectiveIndex, "", "", false,
                         [&](absl::string_view k, absl::string_view) {
                           txn.Delete(storage::Cf::kDirectiveIndex, k);
                           return true;
                         });
    }).ok());
    EXPECT_TRUE(ReadAll(hub, "eu1", "s9", 10).empty());
  }
  auto store = *storage::Store::Open({.path = dir.path().string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  EXPECT_EQ(ReadAll(hub, "eu1", "s9", 10), want);
}

// Blocks in OnPublished until released, as a watcher stuck on a slow read
// would.
class StuckWatcher final : public DirectiveWatcher {
 public:
  void OnPublished(std::shared_ptr<const PublishedRange> range) override {
    if (range != nullptr) through = range->through;
    entered.Notify();
    release.WaitForNotification();
  }
  void OnClose() override {}
  absl::Notification entered, release;
  std::atomic<uint64_t> through{0};
};

// Acknowledging a write (Published on the commit thread) never waits for
// watchers being woken, and Unwatch waits for a round that holds its
// watcher.
TEST(DirectiveFanOutTest, PublishingNeverWaitsForWatchers) {
  test::TempDir dir;
  auto store = *storage::Store::Open({.path = dir.path().string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  StuckWatcher w;
  ASSERT_TRUE(hub.Watch(&w));
  AppendFor(*store, hub, "eu1", "");
  ASSERT_TRUE(w.entered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(w.through.load(), 1u);
  // The watcher is still inside OnPublished: publish and commit more.
  auto more = std::async(std::launch::async, [&] {
    for (int i = 0; i < 5; ++i) AppendFor(*store, hub, "eu1", "");
  });
  EXPECT_EQ(more.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "publishing waited for a watcher's OnPublished";
  auto unwatch = std::async(std::launch::async, [&] { hub.Unwatch(&w); });
  EXPECT_EQ(unwatch.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "Unwatch returned while a fan-out round still held the watcher";
  w.release.Notify();
  EXPECT_EQ(unwatch.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(hub.watcher_count(), 0u);
}

}  // namespace
}  // namespace steward
