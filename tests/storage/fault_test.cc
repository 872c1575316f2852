// I/O faults under the store: a failed WAL sync must reach the caller as an
// error (never a false acknowledgment), and what was acknowledged before
// must still be there after reopening.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/store.h"

namespace steward::storage {
namespace {

std::atomic<bool> fail_wal_sync{false};
std::atomic<int> slow_wal_sync_ms{0};

class FaultyWal : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (fail_wal_sync) return rocksdb::IOStatus::IOError("injected WAL sync failure");
    if (int ms = slow_wal_sync_ms.load(); ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return FSWritableFileOwnerWrapper::Sync(o, d);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (fail_wal_sync) return rocksdb::IOStatus::IOError("injected WAL fsync failure");
    return FSWritableFileOwnerWrapper::Fsync(o, d);
  }
};

class FaultyFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFs(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}
  const char* Name() const override { return "FaultyFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, result, dbg);
    if (s.ok() && fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<FaultyWal>(std::move(*result));
    }
    return s;
  }
};

TEST(StoreFaultTest, FailedWalSyncIsAnErrorAndEarlierCommitsSurvive) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto fs = std::make_shared<FaultyFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  {
    auto store = Store::Open({.path = dir.string(), .env = env.get()});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CommitAndWait([](Txn& t) {
                  t.Put(Cf::kTickets, "before", "acknowledged");
                  return absl::OkStatus();
                }).ok());
    fail_wal_sync = true;
    absl::Status s = (*store)->CommitAndWait([](Txn& t) {
      t.Put(Cf::kTickets, "during", "not durable");
      return absl::OkStatus();
    });
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    // Once the WAL cannot be trusted, later writes are refused too, not
    // silently accepted.
    absl::Status after = (*store)->CommitAndWait([](Txn& t) {
      t.Put(Cf::kTickets, "after", "x");
      return absl::OkStatus();
    });
    EXPECT_FALSE(after.ok()) << "write acknowledged after a failed WAL sync";
    fail_wal_sync = false;
  }
  auto reopened = Store::Open({.path = dir.string()});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  std::string v;
  ASSERT_TRUE((*reopened)->Get(Cf::kTickets, "before", &v).ok());
  EXPECT_EQ(v, "acknowledged");
  reopened->reset();
  std::filesystem::remove_all(dir);
}


// A slow disk under a flood of writes: what waits is bounded, the excess is
// refused at once with ResourceExhausted (never another error, never a
// false acknowledgement), every acknowledged write survives, and writes
// are taken again once the disk keeps up.
TEST(StoreFaultTest, ASlowDiskShedsWritesWithinTheBoundAndLosesNoneAcknowledged) {
  test::TempDir dir;
  auto fs = std::make_shared<FaultyFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  constexpr size_t kBound = 64 << 10;
  std::mutex mu;
  std::vector<std::string> acked, refused, other;
  {
    auto store = Store::Open({.path = dir.str(), .max_pending_bytes = kBound, .env = env.get()});
    ASSERT_TRUE(store.ok()) << store.status();
    slow_wal_sync_ms = 100;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> most{0};
    std::thread watch([&] {
      while (!stop) {
        uint64_t p = (*store)->stats().pending_bytes;
        uint64_t m = most.load();
        while (p > m && !most.compare_exchange_weak(m, p)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    std::atomic<int> outstanding{0};
    for (int i = 0; i < 3000; ++i) {
      std::string key = "k" + std::to_string(i);
      ++outstanding;
      (*store)->Commit(
          [key](Txn& t) {
            t.Put(Cf::kTickets, key, "v");
            return absl::OkStatus();
          },
          [&, key](absl::Status s) {
            std::lock_guard<std::mutex> lock(mu);
            if (s.ok()) acked.push_back(key);
            else if (absl::IsResourceExhausted(s)) refused.push_back(key);
            else other.push_back(key + ": " + s.ToString());
            --outstanding;
          });
    }
    while (outstanding > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
    watch.join();
    EXPECT_LE(most.load(), kBound) << "more waited than the bound allows";
    EXPECT_GT(refused.size(), 0u) << "a flood on a slow disk shed nothing";
    EXPECT_GT(acked.size(), 0u);
    EXPECT_TRUE(other.empty()) << other.front();
    EXPECT_EQ((*store)->stats().refused_writes, refused.size());
    EXPECT_EQ((*store)->stats().pending_bytes, 0u);
    // The disk keeps up again: writes are taken.
    slow_wal_sync_ms = 0;
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*store)->CommitAndWait([i](Txn& t) {
        t.Put(Cf::kTickets, "after" + std::to_string(i), "v");
        return absl::OkStatus();
      }).ok());
    }
  }
  auto reopened = Store::Open({.path = dir.str()});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  std::string v;
  for (const auto& k : acked) ASSERT_TRUE((*reopened)->Get(Cf::kTickets, k, &v).ok()) << k << " was acknowledged";
  for (const auto& k : refused) EXPECT_TRUE(absl::IsNotFound((*reopened)->Get(Cf::kTickets, k, &v))) << k;
}

}  // namespace
}  // namespace steward::storage
