#include "storage/store.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <pthread.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocks_status.h"

namespace steward::storage {
namespace {

constexpr absl::string_view kCfNames[] = {
    "default",
    "tickets",
    "ticket_index",
    "ticket_messages",
    "audit",
    "audit_index",
    "idempotency",
    "sanctions",
    "mod_index",
    "approvals",
    "appeals",
    "directives",
    "game_servers",
    "announcements",
    "reports",
    "cases",
    "bugs",
    "bug_reports",
    "attachments",
    "report_index",
    "vip",
    "care_tasks",
    "vip_index",
    "rules",
    "alerts",
    "metrics",
    "monitoring_index",
    "knowledge",
    "knowledge_index",
    "desk",
    "idempotency_by_time",
    "announcement_index",
    "directive_index",
    "incidents",
    "grants",
};
static_assert(std::size(kCfNames) == static_cast<size_t>(Cf::kCount));

constexpr absl::string_view kSchemaKey = "schema_version";
constexpr absl::string_view kSequencePrefix = "seq/";

struct Job {
  TxnFn fn;
  DoneFn done;
};

}  // namespace

absl::string_view CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

struct Txn::Impl {
  rocksdb::DB* db;
  rocksdb::WriteBatch* batch;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles;
  // Sequence values live on the commit thread; each group writes the final
  // value of every sequence it advanced once, in the same batch.
  absl::flat_hash_map<std::string, uint64_t>* sequences;
  absl::flat_hash_set<std::string>* advanced;
  // Read-your-writes for the group: every key written so far (cf byte +
  // key) -> value, or nullopt for a delete. A hash map costs far less per
  // write than an ordered index over the batch, and transactions only do
  // point reads.
  using Overlay = absl::flat_hash_map<std::string, std::optional<std::string>>;
  Overlay* overlay;
  // Undo log of the running transaction: key and its previous overlay
  // entry (outer nullopt: key was absent).
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>>* undo;

  rocksdb::ColumnFamilyHandle* h(Cf cf) const {
    return (*handles)[static_cast<int>(cf)];
  }
  static std::string OverlayKey(Cf cf, absl::string_view key) {
    std::string k;
    k.reserve(key.size() + 1);
    k.push_back(static_cast<char>(cf));
    k.append(key.data(), key.size());
    return k;
  }
  void Record(Cf cf, absl::string_view key, std::optional<std::string> value) {
    std::string k = OverlayKey(cf, key);
    auto it = overlay->find(k);
    if (it == overlay->end()) {
      undo->emplace_back(k, std::nullopt);
      overlay->emplace(std::move(k), std::move(value));
    } else {
      undo->emplace_back(k, std::move(it->second));
      it->second = std::move(value);
    }
  }
  void Rollback() {
    for (auto it = undo->rbegin(); it != undo->rend(); ++it) {
      if (it->second.has_value()) {
        (*overlay)[it->first] = std::move(*it->second);
      } else {
        overlay->erase(it->first);
      }
    }
    undo->clear();
  }
};

absl::Status Txn::Get(Cf cf, absl::string_view key, std::string* value) {
  auto it = impl_->overlay->find(Impl::OverlayKey(cf, key));
  if (it != impl_->overlay->end()) {
    if (!it->second.has_value()) return absl::NotFoundError("read: deleted");
    *value = *it->second;
    return absl::OkStatus();
  }
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->h(cf),
                                     rocksdb::Slice(key.data(), key.size()), value);
  return FromRocks(s, "read");
}

void Txn::Put(Cf cf, absl::string_view key, absl::string_view value) {
  rocksdb::Slice k(key.data(), key.size()), v(value.data(), value.size());
  // WriteBatch::Put only fails past max_bytes, which is unset.
  impl_->batch->Put(impl_->h(cf), k, v).PermitUncheckedError();
  impl_->Record(cf, key, std::string(value.data(), value.size()));
}

void Txn::Delete(Cf cf, absl::string_view key) {
  impl_->batch->Delete(impl_->h(cf), rocksdb::Slice(key.data(), key.size()))
      .PermitUncheckedError();
  impl_->Record(cf, key, std::nullopt);
}

absl::StatusOr<uint64_t> Txn::NextId(absl::string_view sequence) {
  std::string key = absl::StrCat(kSequencePrefix, sequence);
  auto it = impl_->sequences->find(key);
  if (it == impl_->sequences->end()) {
    std::string value;
    uint64_t current = 0;
    rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->h(Cf::kMeta), key, &value);
    if (s.ok()) {
      auto cur = KeyReader(value).U64();
      if (!cur) return absl::DataLossError(absl::StrCat("sequence ", sequence, " is corrupt"));
      current = *cur;
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read sequence");
    }
    it = impl_->sequences->emplace(key, current).first;
  }
  // A value handed to a transaction that later fails is skipped, never
  // reused: the in-memory value only grows.
  impl_->advanced->insert(key);
  return ++it->second;
}

struct Store::Rep {
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // ours, by Cf
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles;
  std::shared_ptr<rocksdb::Cache> block_cache;

  absl::Mutex mu;
  std::deque<Job> queue ABSL_GUARDED_BY(mu);
  bool closing ABSL_GUARDED_BY(mu) = false;
  std::thread committer;

  // Groups written to the WAL and memtables, waiting for their fsync. The
  // sync thread acknowledges them while the commit thread builds the next
  // groups, so CPU work and disk waits overlap.
  struct Written {
    std::vector<DoneFn> dones;
    std::vector<absl::Status> results;
    bool wrote = false;
  };
  absl::Mutex sync_mu;
  std::deque<Written> written ABSL_GUARDED_BY(sync_mu);
  bool committer_done ABSL_GUARDED_BY(sync_mu) = false;
  std::thread syncer;

  // Commit-thread only.
  absl::flat_hash_map<std::string, uint64_t> sequences;

  std::atomic<uint64_t> transactions{0};
  std::atomic<uint64_t> groups{0};
  std::atomic<int64_t> pending_bytes{0};
  // Acknowledged OK transactions, for WaitForChange.
  mutable absl::Mutex ack_mu;
  uint64_t acknowledged ABSL_GUARDED_BY(ack_mu) = 0;
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> write_failures{0};
  std::atomic<uint64_t> sync_failures{0};

  rocksdb::ColumnFamilyHandle* h(Cf cf) const {
    return handles[static_cast<int>(cf)];
  }

  void Run();
  void RunSync();
  void CommitGroup(std::vector<Job>& jobs);
};

void Store::Rep::Run() {
  std::vector<Job> jobs;
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](Rep* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu) {
            return !r->queue.empty() || r->closing;
          },
          this));
      if (queue.empty()) {  // closing and drained
        absl::MutexLock sync_lock(&sync_mu);
        committer_done = true;
        return;
      }
      size_t n = std::min(queue.size(), options.max_group);
      jobs.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        jobs.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    CommitGroup(jobs);
    jobs.clear();
  }
}

void Store::Rep::CommitGroup(std::vector<Job>& jobs) {
  rocksdb::WriteBatch batch;
  absl::flat_hash_set<std::string> advanced;
  Txn::Impl::Overlay overlay;
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>> undo;
  Txn::Impl impl{db.get(), &batch, &handles, &sequences, &advanced, &overlay, &undo};
  std::vector<absl::Status> results(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    batch.SetSavePoint();
    Txn txn(&impl);
    results[i] = jobs[i].fn(txn);
    if (results[i].ok()) {
      batch.PopSavePoint().PermitUncheckedError();
      undo.clear();
    } else {
      batch.RollbackToSavePoint().PermitUncheckedError();
      impl.Rollback();
    }
  }
  for (const auto& key : advanced) {
    batch.Put(h(Cf::kMeta), key, KeyWriter().U64(sequences[key]).key()).PermitUncheckedError();
  }
  transactions.fetch_add(jobs.size(), std::memory_order_relaxed);
  bool wrote = false;
  if (batch.Count() > 0) {
    // Not synced here: the sync thread's SyncWAL covers this group (and any
    // written after it) before anyone is told it committed. Later
    // transactions may read it meanwhile; they are acknowledged after the
    // same or a later sync, so nothing acknowledged depends on lost data.
    rocksdb::WriteOptions wo;
    wo.sync = false;
    absl::Status s = FromRocks(db->Write(wo, &batch), "commit");
    if (!s.ok()) {
      write_failures.fetch_add(1, std::memory_order_relaxed);
      for (auto& r : results) {
        if (r.ok()) r = s;
      }
    } else {
      wrote = true;
    }
  }
  Written w;
  w.dones.reserve(jobs.size());
  for (auto& j : jobs) w.dones.push_back(std::move(j.done));
  w.results = std::move(results);
  w.wrote = wrote;
  // With sync on, every outcome waits its turn behind earlier groups' sync,
  // even a read-only or failed one: it may have read data of theirs.
  if (options.sync) {
    absl::MutexLock lock(&sync_mu);
    written.push_back(std::move(w));
    return;
  }
  for (size_t i = 0; i < w.dones.size(); ++i) w.dones[i](std::move(w.results[i]));
}

void Store::Rep::RunSync() {
  for (;;) {
    std::deque<Written> batch;
    {
      absl::MutexLock lock(&sync_mu);
      sync_mu.Await(absl::Condition(
          +[](Rep* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->sync_mu) {
            return !r->written.empty() || r->committer_done;
          },
          this));
      if (written.empty()) return;  // committer finished and all synced
      batch.swap(written);
    }
    absl::Status s;
    if (std::any_of(batch.begin(), batch.end(), [](const Written& w) { return w.wrote; })) {
      s = FromRocks(db->SyncWAL(), "sync WAL");
      groups.fetch_add(1, std::memory_order_relaxed);
      if (!s.ok()) sync_failures.fetch_add(1, std::memory_order_relaxed);
    }
    for (auto& w : batch) {
      for (size_t i = 0; i < w.dones.size(); ++i) {
        absl::Status r = std::move(w.results[i]);
        if (r.ok() && !s.ok()) r = s;  // written but not known durable
        w.dones[i](std::move(r));
      }
    }
  }
}

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {
  Rep* r = rep_.get();
  rep_->committer = std::thread([r] {
    pthread_setname_np(pthread_self(), "steward-commit");
    r->Run();
  });
  rep_->syncer = std::thread([r] {
    pthread_setname_np(pthread_self(), "steward-sync");
    r->RunSync();
  });
}

Store::~Store() {
  {
    absl::MutexLock lock(&rep_->mu);
    rep_->closing = true;
  }
  if (rep_->committer.joinable()) rep_->committer.join();
  if (rep_->syncer.joinable()) rep_->syncer.join();
  for (auto* h : rep_->all_handles) {
    rep_->db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rep_->db->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("store: data directory path is empty");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create data directory ", options.path, ": ", ec.message()));
  }

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  if (options.env != nullptr) db_options.env = options.env;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // One writer (the commit thread) lets memtable inserts use position
  // hints: ids, times and index keys mostly arrive in ascending order.
  db_options.allow_concurrent_memtable_write = false;
  rocksdb::ColumnFamilyOptions cf_options(db_options);
  cf_options.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewCappedPrefixTransform(2));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.OptimizeLevelStyleCompaction(64 << 20);

  // Open every family on disk, including ones a newer build may have added,
  // so the schema check below can give its own clear error.
  std::vector<std::string> existing;
  rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing)
      .PermitUncheckedError();  // a fresh directory has none
  std::vector<std::string> names(std::begin(kCfNames), std::end(kCfNames));
  for (const auto& e : existing) {
    if (std::find(names.begin(), names.end(), e) == names.end()) {
      names.push_back(e);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, cf_options);

  auto rep = std::make_unique<Rep>();
  rep->options = options;
  rep->block_cache = table.block_cache;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors,
                                        &rep->all_handles, &raw);
  if (!s.ok()) {
    absl::Status st = FromRocks(s, absl::StrCat("open ", options.path));
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", options.path,
          " is in use by another process: ", s.ToString()));
    }
    return st;
  }
  rep->db.reset(raw);
  rep->handles.assign(rep->all_handles.begin(),
                      rep->all_handles.begin() + std::size(kCfNames));

  std::string version;
  s = rep->db->Get(rocksdb::ReadOptions(), rep->h(Cf::kMeta),
                   rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()),
                   &version);
  auto close = [&rep] {
    for (auto* h : rep->all_handles) {
      rep->db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    rep->db->Close().PermitUncheckedError();
  };
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = rep->db->Put(wo, rep->h(Cf::kMeta),
                     rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()),
                     std::to_string(kSchemaVersion));
    if (!s.ok()) {
      close();
      return FromRocks(s, "write schema version");
    }
  } else if (!s.ok()) {
    close();
    return FromRocks(s, "read schema version");
  } else {
    int on_disk = 0;
    if (!absl::SimpleAtoi(version, &on_disk)) {
      close();
      return absl::DataLossError(absl::StrCat(
          "schema version record in ", options.path, " is unreadable"));
    }
    if (on_disk > kSchemaVersion) {
      close();
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", options.path, " uses schema version ", on_disk,
          " but this build of Steward understands up to ", kSchemaVersion,
          "; run a newer stewardd or restore a backup"));
    }
  }
  return std::unique_ptr<Store>(new Store(std::move(rep)));
}

void Store::Commit(TxnFn fn, DoneFn done, size_t bytes) {
  const auto cost = static_cast<int64_t>(bytes);
  const auto limit = static_cast<int64_t>(rep_->options.max_pending_bytes);
  // Reserve the bytes only when they fit, so what is pending never goes
  // past the bound, not even for a moment (a refused write is never
  // counted). One write always goes through on an idle store, however big.
  int64_t before = rep_->pending_bytes.load(std::memory_order_acquire);
  bool fits;
  do {
    fits = limit <= 0 || before <= 0 || before + cost <= limit;
  } while (fits && !rep_->pending_bytes.compare_exchange_weak(before, before + cost, std::memory_order_acq_rel));
  if (!fits) {
    rep_->refused.fetch_add(1, std::memory_order_relaxed);
    done(absl::ResourceExhaustedError(absl::StrCat(
        "the store is behind: ", before >> 20, " MiB of writes are waiting for the disk (limit ",
        limit >> 20, " MiB); nothing was written, retry in a few seconds")));
    return;
  }
  DoneFn counted = [rep = rep_.get(), cost, done = std::move(done)](absl::Status s) mutable {
    rep->pending_bytes.fetch_sub(cost, std::memory_order_acq_rel);
    const bool ok = s.ok();
    done(std::move(s));
    if (ok) {
      absl::MutexLock lock(&rep->ack_mu);
      ++rep->acknowledged;
    }
  };
  {
    absl::MutexLock lock(&rep_->mu);
    if (!rep_->closing) {
      rep_->queue.push_back(Job{std::move(fn), std::move(counted)});
      return;
    }
  }
  counted(absl::UnavailableError("store is shutting down"));
}

uint64_t Store::acknowledged() const {
  absl::MutexLock lock(&rep_->ack_mu);
  return rep_->acknowledged;
}

uint64_t Store::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock lock(&rep_->ack_mu);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(rep_->ack_mu) { return rep_->acknowledged > seen; };
  rep_->ack_mu.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return rep_->acknowledged;
}

absl::Status Store::CommitAndWait(TxnFn fn) {
  std::promise<absl::Status> p;
  auto f = p.get_future();
  Commit(std::move(fn), [&p](absl::Status s) { p.set_value(std::move(s)); });
  return f.get();
}

absl::Status Store::Get(Cf cf, absl::string_view key, std::string* value) const {
  return FromRocks(
      rep_->db->Get(rocksdb::ReadOptions(), rep_->h(cf),
                    rocksdb::Slice(key.data(), key.size()), value),
      "read");
}

absl::Status Store::Scan(Cf cf, absl::string_view start, absl::string_view limit,
                         bool reverse, ScanFn fn, CacheUse cache) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = cache == CacheUse::kFill;
  rocksdb::Slice lower(start.data(), start.size());
  rocksdb::Slice upper(limit.data(), limit.size());
  ro.iterate_lower_bound = &lower;
  if (!limit.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ro, rep_->h(cf)));
  if (reverse) {
    it->SeekToLast();
  } else {
    it->Seek(lower);
  }
  while (it->Valid()) {
    rocksdb::Slice k = it->key(), v = it->value();
    if (!fn(absl::string_view(k.data(), k.size()),
            absl::string_view(v.data(), v.size()))) {
      break;
    }
    if (reverse) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  return FromRocks(it->status(), "scan");
}

absl::Status Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* cp = nullptr;
  absl::Status s = FromRocks(rocksdb::Checkpoint::Create(rep_->db.get(), &cp),
                             "checkpoint");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::Checkpoint> owned(cp);
  return FromRocks(owned->CreateCheckpoint(dir), "checkpoint");
}

rocksdb::DB* StoreDb(const Store& store) { return store.rep_->db.get(); }

StoreStats Store::stats() const {
  StoreStats s;
  s.transactions = rep_->transactions.load(std::memory_order_relaxed);
  s.groups = rep_->groups.load(std::memory_order_relaxed);
  s.pending_bytes = static_cast<uint64_t>(std::max<int64_t>(0, rep_->pending_bytes.load(std::memory_order_relaxed)));
  s.refused_writes = rep_->refused.load(std::memory_order_relaxed);
  s.write_failures = rep_->write_failures.load(std::memory_order_relaxed);
  s.sync_failures = rep_->sync_failures.load(std::memory_order_relaxed);
  auto sum = [&](const std::string& property) {
    uint64_t v = 0;
    return rep_->db->GetAggregatedIntProperty(property, &v) ? v : 0;
  };
  s.live_data_bytes = sum(rocksdb::DB::Properties::kEstimateLiveDataSize);
  s.sst_files_bytes = sum(rocksdb::DB::Properties::kTotalSstFilesSize);
  s.memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  s.block_cache_bytes = rep_->block_cache->GetUsage();
  s.pending_compaction_bytes = sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  uint64_t errors = 0;
  if (rep_->db->GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors, &errors)) {
    s.background_errors = errors;
  }
  return s;
}

}  // namespace steward::storage
