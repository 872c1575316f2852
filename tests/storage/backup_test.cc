#include "storage/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/common/fixtures.h"

namespace steward::storage {
namespace {

std::string Key(int i) { return "t" + std::to_string(100000 + i); }

TEST(BackupTest, ABackupTakenWhileWritesStreamHoldsEveryEarlierAcknowledgedWrite) {
  test::TempDir tmp;
  const std::string data = (tmp.path() / "data").string(), backups = (tmp.path() / "backups").string(),
                    restored = (tmp.path() / "restored").string();
  auto store = Store::Open({.path = data});
  ASSERT_TRUE(store.ok()) << store.status();
  auto b = Backups::Open(backups);
  ASSERT_TRUE(b.ok()) << b.status();

  // A writer commits keys in order; the backup starts at some point.
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      absl::Status s = (*store)->CommitAndWait([i](Txn& t) {
        t.Put(Cf::kTickets, Key(i), std::string(200, 'x'));
        return absl::OkStatus();
      });
      if (!s.ok()) return;
      acked = i + 1;
    }
  });
  while (acked < 300) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = acked.load();
  auto first = (*b)->Create(**store);
  ASSERT_TRUE(first.ok()) << first.status();
  // A second, incremental backup shares the files that did not change.
  while (acked < before + 300) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before2 = acked.load();
  auto second = (*b)->Create(**store);
  ASSERT_TRUE(second.ok()) << second.status();
  stop = true;
  writer.join();
  EXPECT_EQ((*b)->List().size(), 2u);
  EXPECT_GT(second->id, first->id);
  EXPECT_TRUE((*b)->Verify(first->id).ok());

  // Restored into a new directory, the first backup has every key
  // acknowledged before it began, in order, with no gaps.
  auto info = RestoreBackup(backups, first->id, restored);
  ASSERT_TRUE(info.ok()) << info.status();
  {
    auto copy = Store::Open({.path = restored});
    ASSERT_TRUE(copy.ok()) << copy.status();
    int n = 0;
    ASSERT_TRUE((*copy)->Scan(Cf::kTickets, "", "", false, [&](absl::string_view k, absl::string_view) {
      EXPECT_EQ(k, Key(n));
      ++n;
      return true;
    }).ok());
    EXPECT_GE(n, before);
    EXPECT_LT(n, before2);
  }
  // A restore never overwrites live data.
  EXPECT_EQ(RestoreBackup(backups, 0, data).status().code(), absl::StatusCode::kFailedPrecondition);
  // Purge keeps the newest.
  ASSERT_TRUE((*b)->Purge(1).ok());
  ASSERT_EQ((*b)->List().size(), 1u);
  EXPECT_EQ((*b)->List()[0].id, second->id);
}

TEST(BackupTest, VerifyFindsADamagedFile) {
  test::TempDir tmp;
  const std::string data = (tmp.path() / "data").string(), backups = (tmp.path() / "backups").string();
  auto store = Store::Open({.path = data});
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*store)->CommitAndWait([i](Txn& t) {
      t.Put(Cf::kTickets, Key(i), std::string(500, 'y'));
      return absl::OkStatus();
    }).ok());
  }
  auto b = Backups::Open(backups);
  ASSERT_TRUE(b.ok());
  auto info = (*b)->Create(**store);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE((*b)->Verify(info->id).ok());
  // Flip a byte in the middle of the largest table file the backup holds.
  std::filesystem::path victim;
  uintmax_t largest = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(backups)) {
    if (e.is_regular_file() && e.path().extension() == ".sst" && e.file_size() > largest) {
      largest = e.file_size();
      victim = e.path();
    }
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(largest / 2));
    char c;
    f.seekg(static_cast<std::streamoff>(largest / 2));
    f.get(c);
    f.seekp(static_cast<std::streamoff>(largest / 2));
    f.put(static_cast<char>(c ^ 0x5a));
  }
  absl::Status v = (*b)->Verify(info->id);
  EXPECT_EQ(v.code(), absl::StatusCode::kDataLoss) << v;
  // And a restore from it refuses rather than bring back damaged data.
  EXPECT_EQ(RestoreBackup(backups, info->id, (tmp.path() / "r").string()).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace steward::storage
