// Store: Steward's one embedded RocksDB per data directory.
//
// Writes are transactions (TxnFn) executed one at a time, in submission
// order, on a single commit thread; each sees the effects of every earlier
// transaction, including those of groups not yet synced. The commit thread
// gathers whatever transactions are queued into one WriteBatch and writes
// it; a sync thread then syncs the WAL once for all groups written since
// its last sync (group commit) and reports each transaction's outcome, in
// order. A transaction reported OK is durable: it survives a crash of the
// process or the machine.
//
// Reads go straight to the database and see every acknowledged commit;
// they may also see a group a few milliseconds before its sync completes
// (and, should that sync fail or the process die first, never again).
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_STORAGE_STORE_H_
#define STEWARD_STORAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rocksdb {
class DB;
class Env;
}

namespace steward::storage {

// Column families, one per domain. Never reorder: the names are on disk.
enum class Cf : int {
  kMeta = 0,        // "default": schema version, id sequences
  kTickets,         // ticket id -> steward.v1.Ticket
  kTicketIndex,     // secondary indexes over tickets
  kTicketMessages,  // (ticket id, seq) -> steward.v1.TicketMessage
  kAudit,           // (at_ms, id) -> steward.v1.AuditRecord
  kAuditIndex,      // (target, at_ms, id) -> ""
  kIdempotency,     // (principal, key) -> ticket id / sanction ids
  kSanctions,       // sanction id -> steward.v1.Sanction
  kModIndex,        // moderation indexes (by subject, time, state)
  kApprovals,       // approval id -> steward.v1.Approval
  kAppeals,         // appeal id -> steward.v1.Appeal
  kDirectives,      // seq -> steward.v1.Directive
  kGameServers,     // server id -> steward.v1.GameServerInfo
  kAnnouncements,   // announcement id -> steward.v1.Announcement
  kReports,         // report id -> steward.v1.Report
  kCases,           // case id -> steward.v1.Case
  kBugs,            // bug id -> steward.v1.Bug
  kBugReports,      // bug report id -> steward.v1.BugReport
  kAttachments,     // (bug report id, index) -> attachment bytes
  kReportIndex,     // report, case and bug indexes
  kVip,             // (realm, player) -> steward.v1.VipProfile
  kCareTasks,       // task id -> steward.v1.CareTask
  kVipIndex,        // care task and purchase indexes
  kRules,           // rule id -> steward.v1.Rule
  kAlerts,          // alert id -> steward.v1.Alert
  kMetrics,         // (resolution, type, realm, server, start) -> steward.v1.MetricPoint
  kMonIndex,        // alert, rule-name and metric-retention indexes
  kKnowledge,       // kb entry id -> steward.v1.KbEntry (current version)
  kKbIndex,         // kb versions, word and tag indexes
  kDesk,            // handovers, quality samples and reviews, and their indexes
  kIdemIndex,       // (written_ms, idempotency key) -> "": expiry order
  kAnnouncementIndex,  // announcements by creation time, and the scheduled ones
  kDirectiveIndex,  // (target scope, seq) -> "": each server reads only its own directives
  kIncidents,       // incident records, their tickets and indexes
  kGrants,          // compensation grants, their recipients and indexes
  kCount,
};

absl::string_view CfName(Cf cf);

// On-disk layout version this build writes. Open refuses a data dir with
// a higher version.
inline constexpr int kSchemaVersion = 1;

struct StoreOptions {
  // Data directory; created when missing.
  std::string path;
  // Sync the WAL before acknowledging a commit. Default: true. Only tests
  // that measure something other than durability turn this off.
  bool sync = true;
  // Most transactions gathered into one group commit. Default: 2048.
  size_t max_group = 2048;
  // Block cache shared by all column families. Default: 64 MiB.
  size_t block_cache_bytes = 64 << 20;
  // Writes queued or written but not yet acknowledged, by their callers'
  // estimate of their size (Commit's `bytes`): past it, Commit refuses at
  // once with ResourceExhausted, so a flood or a slow disk sheds load with
  // a clear error instead of growing memory until the process dies.
  // 0: no bound. Default: 256 MiB.
  size_t max_pending_bytes = size_t{256} << 20;
  // File system access. Default: nullptr, the operating system's. Tests
  // pass an Env that injects I/O faults; it must outlive the Store.
  rocksdb::Env* env = nullptr;
};

// A transaction's view of the database: reads see committed data plus this
// group's earlier writes; writes are buffered until the group commits.
// Only valid inside the TxnFn it is passed to.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // NotFound when the key is absent.
  absl::Status Get(Cf cf, absl::string_view key, std::string* value);
  void Put(Cf cf, absl::string_view key, absl::string_view value);
  void Delete(Cf cf, absl::string_view key);
  // Next value of the named sequence, starting at 1. Values are never
  // handed out twice, across restarts too.
  absl::StatusOr<uint64_t> NextId(absl::string_view sequence);

 private:
  friend class Store;
  struct Impl;
  explicit Txn(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

// Runs on the commit thread: read, decide, write. Returning an error
// discards this transaction's writes (others in the group are unaffected).
// Must not block.
using TxnFn = absl::AnyInvocable<absl::Status(Txn&)>;
// Called on the commit thread once the outcome is known: OK after the
// group is durable, else the TxnFn's error or the commit's. Must not block.
using DoneFn = absl::AnyInvocable<void(absl::Status)>;

struct StoreStats {
  uint64_t transactions = 0;
  uint64_t groups = 0;  // WAL syncs
  // RocksDB's own estimates, summed over the column families.
  uint64_t live_data_bytes = 0;
  uint64_t sst_files_bytes = 0;
  uint64_t memtable_bytes = 0;
  uint64_t block_cache_bytes = 0;  // in use, of StoreOptions::block_cache_bytes
  uint64_t pending_compaction_bytes = 0;
  uint64_t background_errors = 0;
  uint64_t pending_bytes = 0;    // queued writes not yet acknowledged
  uint64_t refused_writes = 0;   // refused past max_pending_bytes
  uint64_t write_failures = 0;   // group writes RocksDB refused
  uint64_t sync_failures = 0;    // WAL syncs that failed (their writes were not acknowledged)
};

class Store {
 public:
  // Opens (creating if needed) the database at options.path. Fails with
  // FailedPrecondition when the data was written by a newer schema.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Commits everything already queued, then closes the database.
  ~Store();

  // What a transaction is reckoned to hold until it is acknowledged, when
  // its caller does not say: small records (a ticket's change, a sanction).
  static constexpr size_t kDefaultWriteBytes = 1024;
  // Transactions acknowledged OK so far (a number that only grows), and a
  // wait until it passes `seen` or `timeout` elapses; returns the count.
  // For readers that re-read when something changed (live views).
  uint64_t acknowledged() const;
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const;
  // Queues a transaction. After the store starts closing, done receives
  // Unavailable at once; with StoreOptions::max_pending_bytes already
  // queued, ResourceExhausted at once. `bytes` estimates what it holds
  // until acknowledged (its request's size, for big ones).
  void Commit(TxnFn fn, DoneFn done, size_t bytes = kDefaultWriteBytes);
  // Commit and wait for the outcome. Not for gRPC reaction threads.
  absl::Status CommitAndWait(TxnFn fn);

  // Point read of committed data. NotFound when absent.
  absl::Status Get(Cf cf, absl::string_view key, std::string* value) const;

  // Visits keys in [start, limit) (limit "" = to the end of the family),
  // ascending, or descending when `reverse`. Stops when fn returns false.
  // CacheUse::kBypass: blocks read are not kept in the block cache, for one-off
  // bulk reads (state restored at start) that would otherwise evict the
  // working set and hold the cache's whole budget for data never read again.
  enum class CacheUse { kFill, kBypass };
  using ScanFn =
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;
  absl::Status Scan(Cf cf, absl::string_view start, absl::string_view limit,
                    bool reverse, ScanFn fn, CacheUse cache = CacheUse::kFill) const;

  // Consistent on-line copy of the database into `dir` (must not exist).
  absl::Status Checkpoint(const std::string& dir) const;

  StoreStats stats() const;

 private:
  // The database itself, for backup.cc's BackupEngine.
  friend rocksdb::DB* StoreDb(const Store& store);
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward::storage

#endif  // STEWARD_STORAGE_STORE_H_
