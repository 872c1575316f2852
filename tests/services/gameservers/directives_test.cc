// The directive hub on a real store: retention and what a reader missed.
#include <filesystem>

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

}  // namespace
}  // namespace steward
