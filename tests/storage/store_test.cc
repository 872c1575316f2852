#include "storage/store.h"

#include <filesystem>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "storage/keys.h"

namespace steward::storage {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<test::TempDir>();
    dir_ = tmp_->path();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open() {
    auto s = Store::Open({.path = dir_.string()});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static std::string Read(const Store& s, Cf cf, const std::string& k) {
    std::string v;
    absl::Status st = s.Get(cf, k, &v);
    return st.ok() ? v : "<" + std::string(absl::StatusCodeToString(st.code())) + ">";
  }

  std::unique_ptr<test::TempDir> tmp_;
  std::filesystem::path dir_;
};

TEST_F(StoreTest, CommittedDataSurvivesReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CommitAndWait([](Txn& t) {
                  t.Put(Cf::kTickets, "k1", "v1");
                  t.Put(Cf::kAudit, "k1", "audit");
                  return absl::OkStatus();
                }).ok());
  }
  auto store = Open();
  EXPECT_EQ(Read(*store, Cf::kTickets, "k1"), "v1");
  EXPECT_EQ(Read(*store, Cf::kAudit, "k1"), "audit");
  EXPECT_EQ(Read(*store, Cf::kIdempotency, "k1"), "<NOT_FOUND>");  // families are separate
}

TEST_F(StoreTest, SequencesContinueAfterRestart) {
  {
    auto store = Open();
    for (uint64_t want = 1; want <= 3; ++want) {
      uint64_t got = 0;
      ASSERT_TRUE(store->CommitAndWait([&](Txn& t) -> absl::Status {
                    auto id = t.NextId("ticket");
                    if (!id.ok()) return id.status();
                    got = *id;
                    return absl::OkStatus();
                  }).ok());
      EXPECT_EQ(got, want);
    }
  }
  auto store = Open();
  uint64_t got = 0;
  ASSERT_TRUE(store->CommitAndWait([&](Txn& t) -> absl::Status {
                got = *t.NextId("ticket");
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(got, 4u);
}

TEST_F(StoreTest, FailedTransactionLeavesNoTraceButOthersCommit) {
  auto store = Open();
  std::atomic<int> done{0};
  // Queue both without waiting so they very likely share a group.
  store->Commit([](Txn& t) { t.Put(Cf::kTickets, "good", "1"); return absl::OkStatus(); },
                [&](absl::Status s) { EXPECT_TRUE(s.ok()); ++done; });
  store->Commit(
      [](Txn& t) {
        t.Put(Cf::kTickets, "bad", "1");
        t.Put(Cf::kTickets, "good", "overwritten");
        return absl::FailedPreconditionError("refused");
      },
      [&](absl::Status s) { EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition); ++done; });
  ASSERT_TRUE(store->CommitAndWait([](Txn&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(Read(*store, Cf::kTickets, "good"), "1");
  EXPECT_EQ(Read(*store, Cf::kTickets, "bad"), "<NOT_FOUND>");
}

TEST_F(StoreTest, ConcurrentReadModifyWriteIsSerialisedAndGroupsShareSyncs) {
  auto store = Open();
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kPerThread; ++j) {
        absl::Status s = store->CommitAndWait([](Txn& t) -> absl::Status {
          std::string v;
          uint64_t n = 0;
          if (t.Get(Cf::kMeta, "counter", &v).ok()) n = *KeyReader(v).U64();
          t.Put(Cf::kMeta, "counter", KeyWriter().U64(n + 1).key());
          return absl::OkStatus();
        });
        ASSERT_TRUE(s.ok()) << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(KeyReader(Read(*store, Cf::kMeta, "counter")).U64(),
            uint64_t{kThreads * kPerThread});
  StoreStats st = store->stats();
  EXPECT_EQ(st.transactions, uint64_t{kThreads * kPerThread});
  // With 8 writers waiting on each other's syncs, groups must form.
  EXPECT_LT(st.groups, st.transactions);
}

TEST_F(StoreTest, ScanHonoursBoundsAndDirection) {
  auto store = Open();
  ASSERT_TRUE(store->CommitAndWait([](Txn& t) {
                for (int i = 1; i <= 5; ++i) {
                  t.Put(Cf::kTicketIndex, KeyWriter("x").U64(i).key(), std::to_string(i));
                }
                t.Put(Cf::kTicketIndex, KeyWriter("y").U64(1).key(), "other prefix");
                return absl::OkStatus();
              }).ok());
  auto collect = [&](std::string start, std::string limit, bool reverse) {
    std::string out;
    EXPECT_TRUE(store->Scan(Cf::kTicketIndex, start, limit, reverse,
                            [&](absl::string_view, absl::string_view v) {
                              out += std::string(v) + ",";
                              return true;
                            }).ok());
    return out;
  };
  EXPECT_EQ(collect("x", PrefixSuccessor("x"), false), "1,2,3,4,5,");
  EXPECT_EQ(collect("x", PrefixSuccessor("x"), true), "5,4,3,2,1,");
  EXPECT_EQ(collect(KeyWriter("x").U64(2).key(), KeyWriter("x").U64(4).key(), true), "3,2,");
}

TEST_F(StoreTest, ABulkScanThatBypassesTheCacheLeavesItAsItWas) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CommitAndWait([](Txn& t) {
                  for (int i = 0; i < 2000; ++i) {
                    t.Put(Cf::kMonIndex, KeyWriter("w").U64(i).key(), std::string(500, 'a' + i % 26));
                  }
                  return absl::OkStatus();
                }).ok());
  }
  auto store = Open();  // recovery moved the data from the log into table files
  auto scan = [&](Store::CacheUse cache) {
    size_t n = 0;
    EXPECT_TRUE(store->Scan(Cf::kMonIndex, "w", PrefixSuccessor("w"), false,
                            [&](absl::string_view, absl::string_view v) {
                              n += v.size() == 500;
                              return true;
                            },
                            cache)
                    .ok());
    return n;
  };
  const uint64_t before = store->stats().block_cache_bytes;
  EXPECT_EQ(scan(Store::CacheUse::kBypass), 2000u);
  EXPECT_EQ(store->stats().block_cache_bytes, before);
  EXPECT_EQ(scan(Store::CacheUse::kFill), 2000u);
  // Values compress well; the blocks still hold every key and more.
  EXPECT_GT(store->stats().block_cache_bytes, before + 2000 * 8);
}

TEST_F(StoreTest, RefusesNewerSchema) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CommitAndWait([](Txn& t) {
                  t.Put(Cf::kMeta, "schema_version", std::to_string(kSchemaVersion + 1));
                  return absl::OkStatus();
                }).ok());
  }
  auto again = Store::Open({.path = dir_.string()});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("newer"), absl::string_view::npos)
      << again.status();
}

TEST_F(StoreTest, SecondOpenOfSameDirectoryIsRefused) {
  auto store = Open();
  auto second = Store::Open({.path = dir_.string()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
}

TEST_F(StoreTest, CheckpointIsAnOpenableCopy) {
  std::string copy = dir_.string() + "_copy";
  std::filesystem::remove_all(copy);
  {
    auto store = Open();
    ASSERT_TRUE(store->CommitAndWait([](Txn& t) {
                  t.Put(Cf::kTickets, "k", "v");
                  return absl::OkStatus();
                }).ok());
    ASSERT_TRUE(store->Checkpoint(copy).ok());
  }
  auto c = Store::Open({.path = copy});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Read(**c, Cf::kTickets, "k"), "v");
  c->reset();
  std::filesystem::remove_all(copy);
}

TEST_F(StoreTest, QueuedCommitsAreCommittedOnClose) {
  auto store = Open();
  Store* raw = store.get();
  std::atomic<int> ok{0}, refused{0};
  for (int i = 0; i < 100; ++i) {
    raw->Commit([i](Txn& t) { t.Put(Cf::kTickets, std::to_string(i), "v"); return absl::OkStatus(); },
                [&](absl::Status s) { s.ok() ? ++ok : ++refused; });
  }
  store.reset();  // drains the queue
  EXPECT_EQ(ok.load(), 100);
  auto reopened = Open();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Read(*reopened, Cf::kTickets, std::to_string(i)), "v");
}

}  // namespace
}  // namespace steward::storage
