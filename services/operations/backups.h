// Operations: backups on demand and on a schedule, with retention,
// audit and metrics. The copying itself is storage::Backups.
//
// Calls block for as long as a backup takes: the gRPC adapter runs them on
// the slow lane. Thread-safety: all methods are safe to call from any
// thread.
#ifndef STEWARD_SERVICES_OPERATIONS_BACKUPS_H_
#define STEWARD_SERVICES_OPERATIONS_BACKUPS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/metrics_text.h"
#include "services/common/periodic.h"
#include "steward/v1/admin.pb.h"
#include "storage/backup.h"
#include "storage/store.h"

namespace steward {

struct BackupOptions {
  std::string dir;           // empty: backups are off
  int64_t every_ms = 0;      // 0: on demand only
  uint32_t keep = 7;         // scheduled backups keep the newest this many
  const Clock* clock = Clock::Wall();
};

class BackupDesk {
 public:
  BackupDesk(storage::Store* store, BackupOptions options);
  BackupDesk(const BackupDesk&) = delete;
  BackupDesk& operator=(const BackupDesk&) = delete;
  ~BackupDesk();

  // Opens the directory and starts the schedule (when set). A directory
  // that cannot be opened fails the start: an operator who asked for
  // backups must not run without them unknowingly.
  absl::Status Start();

  absl::Status Create(const Caller& c, const v1::CreateBackupRequest& req, v1::BackupResponse* resp) const;
  absl::Status List(const Caller& c, const v1::ListBackupsRequest& req, v1::ListBackupsResponse* resp) const;
  absl::Status Verify(const Caller& c, const v1::VerifyBackupRequest& req, v1::BackupResponse* resp) const;
  absl::Status Purge(const Caller& c, const v1::PurgeBackupsRequest& req, v1::ListBackupsResponse* resp) const;

  // steward_backup_* families for /metrics.
  void AppendMetrics(MetricsText* out) const;

 private:
  absl::Status Ready(const Caller& c, absl::string_view what) const;
  absl::StatusOr<storage::BackupInfo> Take(const Caller& c) const;
  void Audit(const Caller& c, absl::string_view action, std::string target, std::string reason) const;

  storage::Store* store_;
  BackupOptions options_;
  std::unique_ptr<storage::Backups> backups_;
  PeriodicTask schedule_;
  mutable std::atomic<int64_t> last_ms_{0}, last_took_ms_{0};
  mutable std::atomic<uint64_t> last_size_{0}, failures_{0}, taken_{0};
};

}  // namespace steward

#endif  // STEWARD_SERVICES_OPERATIONS_BACKUPS_H_
