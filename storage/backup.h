// Online, incremental backups of a Store (RocksDB's BackupEngine): each
// backup is a consistent point of the whole database, taken while writes
// go on; table files shared with earlier backups are copied once, and
// every file carries a checksum that Verify re-reads.
//
// Thread-safety: all methods are safe to call from any thread (one runs at
// a time).
#ifndef STEWARD_STORAGE_BACKUP_H_
#define STEWARD_STORAGE_BACKUP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace rocksdb {
class BackupEngine;
}

namespace steward::storage {

class Store;

struct BackupInfo {
  uint32_t id = 0;
  int64_t created_unix = 0;  // seconds
  uint64_t size_bytes = 0;   // its files, some shared with other backups
  uint32_t files = 0;
};

class Backups {
 public:
  // Opens (creating if needed) the backup directory `dir`, local or
  // mounted.
  static absl::StatusOr<std::unique_ptr<Backups>> Open(const std::string& dir);
  ~Backups();

  // Backs up everything `store` has acknowledged so far (memtables are
  // flushed first, so the backup needs no log replay).
  absl::StatusOr<BackupInfo> Create(const Store& store);
  std::vector<BackupInfo> List() const;
  // Re-reads every file of backup `id` against its checksum: DataLoss when
  // one is missing, truncated or changed.
  absl::Status Verify(uint32_t id) const;
  // Keeps the newest `keep` backups (at least 1) and deletes the rest.
  absl::Status Purge(uint32_t keep);

 private:
  explicit Backups(std::string dir, rocksdb::BackupEngine* engine);
  const std::string dir_;
  mutable absl::Mutex mu_;
  std::unique_ptr<rocksdb::BackupEngine> engine_ ABSL_GUARDED_BY(mu_);
};

// Restores backup `id` (0: the newest) from `backup_dir` into `data_dir`,
// which must not exist or be empty: a restore never overwrites live data.
absl::StatusOr<BackupInfo> RestoreBackup(const std::string& backup_dir, uint32_t id,
                                         const std::string& data_dir);

}  // namespace steward::storage

#endif  // STEWARD_STORAGE_BACKUP_H_
