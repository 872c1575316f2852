#include "services/operations/backups.h"

#include "absl/strings/str_cat.h"
#include "services/audit/audit.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

void Fill(const storage::BackupInfo& b, v1::Backup* out) {
  out->set_id(b.id);
  out->set_created_at_ms(b.created_unix * 1000);
  out->set_size_bytes(b.size_bytes);
  out->set_files(b.files);
}

}  // namespace

BackupDesk::BackupDesk(storage::Store* store, BackupOptions options) : store_(store), options_(std::move(options)) {}

BackupDesk::~BackupDesk() { schedule_.Stop(); }

absl::Status BackupDesk::Start() {
  if (options_.dir.empty()) return absl::OkStatus();
  STEWARD_ASSIGN_OR_RETURN(backups_, storage::Backups::Open(options_.dir));
  auto list = backups_->List();
  if (!list.empty()) last_ms_ = list.back().created_unix * 1000;
  if (options_.every_ms > 0) {
    schedule_.Start(absl::Milliseconds(options_.every_ms), [this] {
      Caller system;
      system.principal = &StewardPrincipal();
      if (!Take(system).ok()) return;  // logged and counted by Take
      if (absl::Status s = backups_->Purge(options_.keep); !s.ok()) LogWarning("backup retention: ", s.ToString());
    });
  }
  return absl::OkStatus();
}

absl::Status BackupDesk::Ready(const Caller& c, absl::string_view what) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAdmin, what));
  if (backups_ == nullptr) {
    return absl::FailedPreconditionError("backups are off: set [backup] dir in the config and restart");
  }
  return absl::OkStatus();
}

void BackupDesk::Audit(const Caller& c, absl::string_view action, std::string target, std::string reason) const {
  absl::Status s = store_->CommitAndWait([&](storage::Txn& txn) {
    return AppendAudit(txn, c, options_.clock->NowMs(), {.action = action, .target = target, .reason = reason});
  });
  if (!s.ok()) LogWarning("audit of ", action, " not stored: ", s.ToString());
}

absl::StatusOr<storage::BackupInfo> BackupDesk::Take(const Caller& c) const {
  const int64_t t0 = options_.clock->NowMs();
  auto info = backups_->Create(*store_);
  const int64_t took = options_.clock->NowMs() - t0;
  if (!info.ok()) {
    failures_.fetch_add(1);
    LogWarning("backup into ", options_.dir, " failed: ", info.status().ToString());
    Audit(c, "backup.create", "backup", absl::StrCat("failed: ", info.status().message()));
    return info.status();
  }
  taken_.fetch_add(1);
  last_ms_ = info->created_unix * 1000;
  last_took_ms_ = took;
  last_size_ = info->size_bytes;
  LogInfo("backup ", info->id, " into ", options_.dir, ": ", info->files, " files, ", info->size_bytes >> 20,
          " MiB, ", took, " ms");
  Audit(c, "backup.create", absl::StrCat("backup/", info->id), absl::StrCat(info->size_bytes, " bytes"));
  return info;
}

absl::Status BackupDesk::Create(const Caller& c, const v1::CreateBackupRequest&, v1::BackupResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(Ready(c, "CreateBackup"));
  STEWARD_ASSIGN_OR_RETURN(storage::BackupInfo info, Take(c));
  Fill(info, resp->mutable_backup());
  resp->set_took_ms(last_took_ms_.load());
  return absl::OkStatus();
}

absl::Status BackupDesk::List(const Caller& c, const v1::ListBackupsRequest&, v1::ListBackupsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(Ready(c, "ListBackups"));
  for (const auto& b : backups_->List()) Fill(b, resp->add_backups());
  resp->set_dir(options_.dir);
  return absl::OkStatus();
}

absl::Status BackupDesk::Verify(const Caller& c, const v1::VerifyBackupRequest& req, v1::BackupResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(Ready(c, "VerifyBackup"));
  if (req.backup_id() == 0) return absl::InvalidArgumentError("backup_id is required");
  const int64_t t0 = options_.clock->NowMs();
  absl::Status s = backups_->Verify(req.backup_id());
  Audit(c, "backup.verify", absl::StrCat("backup/", req.backup_id()), s.ok() ? "intact" : std::string(s.message()));
  STEWARD_RETURN_IF_ERROR(s);
  for (const auto& b : backups_->List()) {
    if (b.id == req.backup_id()) Fill(b, resp->mutable_backup());
  }
  resp->set_took_ms(options_.clock->NowMs() - t0);
  return absl::OkStatus();
}

absl::Status BackupDesk::Purge(const Caller& c, const v1::PurgeBackupsRequest& req, v1::ListBackupsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(Ready(c, "PurgeBackups"));
  if (req.keep() == 0) return absl::InvalidArgumentError("keep must be at least 1 (the newest backup always stays)");
  STEWARD_RETURN_IF_ERROR(backups_->Purge(req.keep()));
  Audit(c, "backup.purge", "backup", absl::StrCat("kept the newest ", req.keep()));
  return List(c, {}, resp);
}

void BackupDesk::AppendMetrics(MetricsText* out) const {
  using T = MetricsText::Type;
  out->Family("steward_backup_enabled", T::kGauge, "1 when [backup] dir is set and open.");
  out->Sample(static_cast<uint64_t>(backups_ != nullptr));
  out->Family("steward_backup_last_success_timestamp_seconds", T::kGauge,
              "When the newest backup was taken (Unix seconds; 0: none yet).");
  out->Sample(static_cast<double>(last_ms_.load()) / 1000.0);
  out->Family("steward_backup_last_size_bytes", T::kGauge, "Size of the newest backup this process took.");
  out->Sample(last_size_.load());
  out->Family("steward_backup_last_duration_seconds", T::kGauge, "How long the newest backup this process took ran.");
  out->Sample(static_cast<double>(last_took_ms_.load()) / 1000.0);
  out->Family("steward_backups_total", T::kCounter, "Backups taken by this process.");
  out->Sample(taken_.load());
  out->Family("steward_backup_failures_total", T::kCounter, "Backups that failed (see the log).");
  out->Sample(failures_.load());
}

}  // namespace steward
