#include "storage/backup.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/rocks_status.h"
#include "storage/store.h"

namespace steward::storage {

rocksdb::DB* StoreDb(const Store& store);  // store.cc

namespace {

BackupInfo From(const rocksdb::BackupInfo& b) {
  return {.id = b.backup_id, .created_unix = b.timestamp, .size_bytes = b.size, .files = b.number_files};
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& dir) {
  rocksdb::BackupEngineOptions o(dir);
  o.share_table_files = true;               // incremental
  o.share_files_with_checksum = true;       // and safe when files are renamed
  o.sync = true;                            // a backup is on disk when Create returns
  o.max_background_operations = 2;
  return o;
}

}  // namespace

Backups::Backups(std::string dir, rocksdb::BackupEngine* engine) : dir_(std::move(dir)), engine_(engine) {}
Backups::~Backups() = default;

absl::StatusOr<std::unique_ptr<Backups>> Backups::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("no backup directory configured ([backup] dir)");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("backup directory ", dir, ": ", ec.message()));
  rocksdb::BackupEngine* engine = nullptr;
  absl::Status s = FromRocks(rocksdb::BackupEngine::Open(EngineOptions(dir), rocksdb::Env::Default(), &engine),
                             absl::StrCat("opening backup directory ", dir));
  if (!s.ok()) return s;
  return std::unique_ptr<Backups>(new Backups(dir, engine));
}

absl::StatusOr<BackupInfo> Backups::Create(const Store& store) {
  absl::MutexLock l(&mu_);
  rocksdb::CreateBackupOptions o;
  o.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  absl::Status s = FromRocks(engine_->CreateNewBackup(o, StoreDb(store), &id), "backup");
  if (!s.ok()) return s;
  rocksdb::BackupInfo info;
  s = FromRocks(engine_->GetBackupInfo(id, &info), "backup info");
  if (!s.ok()) return s;
  return From(info);
}

std::vector<BackupInfo> Backups::List() const {
  absl::MutexLock l(&mu_);
  std::vector<rocksdb::BackupInfo> infos;
  engine_->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  for (const auto& b : infos) out.push_back(From(b));
  return out;
}

absl::Status Backups::Verify(uint32_t id) const {
  absl::MutexLock l(&mu_);
  rocksdb::IOStatus s = engine_->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("backup ", id, " not found in ", dir_));
  return absl::DataLossError(absl::StrCat("backup ", id, " is damaged: ", s.ToString()));
}

absl::Status Backups::Purge(uint32_t keep) {
  if (keep == 0) return absl::InvalidArgumentError("keep at least one backup");
  absl::MutexLock l(&mu_);
  return FromRocks(engine_->PurgeOldBackups(keep), "purging backups");
}

absl::StatusOr<BackupInfo> RestoreBackup(const std::string& backup_dir, uint32_t id, const std::string& data_dir) {
  std::error_code ec;
  if (std::filesystem::exists(data_dir, ec) && !std::filesystem::is_empty(data_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", data_dir, " is not empty; restore into a new or empty one"));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  absl::Status s = FromRocks(rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw),
                             absl::StrCat("opening backup directory ", backup_dir));
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  rocksdb::BackupInfo info;
  if (id == 0) {
    std::vector<rocksdb::BackupInfo> all;
    engine->GetBackupInfo(&all);
    if (all.empty()) return absl::NotFoundError(absl::StrCat("no backups in ", backup_dir));
    id = all.back().backup_id;
  }
  s = FromRocks(engine->GetBackupInfo(id, &info), absl::StrCat("backup ", id));
  if (!s.ok()) return s;
  rocksdb::IOStatus v = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!v.ok()) return absl::DataLossError(absl::StrCat("backup ", id, " is damaged: ", v.ToString()));
  std::filesystem::create_directories(data_dir, ec);
  s = FromRocks(engine->RestoreDBFromBackup(id, data_dir, data_dir), absl::StrCat("restoring backup ", id));
  if (!s.ok()) return s;
  return From(info);
}

}  // namespace steward::storage
