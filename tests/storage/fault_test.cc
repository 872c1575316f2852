// I/O faults under the store: a failed WAL sync must reach the caller as an
// error (never a false acknowledgment), and what was acknowledged before
// must still be there after reopening.
#include <atomic>
#include <filesystem>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/store.h"

namespace steward::storage {
namespace {

std::atomic<bool> fail_wal_sync{false};

class FaultyWal : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (fail_wal_sync) return rocksdb::IOStatus::IOError("injected WAL sync failure");
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

}  // namespace
}  // namespace steward::storage
