// DirectiveHub: the persisted, sequenced log of directives to game servers
// (sanction changes, appeal outcomes, announcements) and the registry of
// live watchers.
//
// A directive is written in the same transaction as the change that causes
// it (Append), so it is durable exactly when the change is. Once that
// transaction is acknowledged, the writer calls Published(); watchers are
// woken and read the log from their own cursor. Watchers therefore never
// hold a private copy of the backlog: a server that reconnects, or was
// offline for hours, reads what it missed from RocksDB with the same code
// that serves live traffic.
//
// Fan-out reads each newly published range of the log once and hands it
// to every watcher, so a realm-wide ban reaching ten thousand connected
// servers costs one RocksDB read, not ten thousand. A watcher that is
// behind (busy writing, or reconnecting with a backlog) reads through the
// target index instead, which holds only the directives that concern its
// server, its realm or everyone.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_GAMESERVERS_DIRECTIVES_H_
#define STEWARD_SERVICES_GAMESERVERS_DIRECTIVES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/periodic.h"
#include "storage/store.h"

namespace steward::v1 {
class Directive;
class DirectiveBatch;
class DirectiveTarget;
}  // namespace steward::v1

namespace steward {

// One published stretch of the log, read once and shared by every
// watcher: the directives with after < seq <= through, oldest first.
struct PublishedRange {
  uint64_t after = 0;
  uint64_t through = 0;
  std::vector<v1::Directive> directives;
};

class DirectiveWatcher {
 public:
  virtual ~DirectiveWatcher() = default;
  // New directives up to range->through are durable. Called on the hub's
  // fan-out thread without the hub's lock; `range` is null when the
  // stretch was too long to share (the watcher reads the log itself).
  // Should be quick: ten thousand watchers share the thread.
  virtual void OnPublished(std::shared_ptr<const PublishedRange> range) = 0;
  // The server is stopping: end the watch now.
  virtual void OnClose() = 0;
};

// Whether a directive aimed at `target` concerns server (realm, server).
bool DirectiveMatches(const v1::DirectiveTarget& target, absl::string_view realm,
                      absl::string_view server);

class DirectiveHub {
 public:
  explicit DirectiveHub(storage::Store* store, const Clock* clock = Clock::Wall())
      : store_(store), clock_(clock) {}
  DirectiveHub(const DirectiveHub&) = delete;
  DirectiveHub& operator=(const DirectiveHub&) = delete;
  ~DirectiveHub();

  // Loads the oldest and newest sequences and starts the fan-out thread.
  // With `retention_ms` > 0, directives older than that are removed every
  // `trim_every` (the newest one always stays). Call once before serving.
  absl::Status Init(int64_t retention_ms = 0, absl::Duration trim_every = absl::Hours(1));
  // Tells every watcher to end (OnClose) and refuses new ones.
  void CloseWatchers();

  // Assigns d->seq and writes it inside `txn`. The caller reports the
  // returned seq to Published() once the transaction is durable.
  absl::Status Append(storage::Txn& txn, int64_t now_ms, v1::Directive* d);
  void Published(uint64_t seq);
  uint64_t latest_seq() const { return latest_.load(std::memory_order_acquire); }

  // Removes the directives written before `cutoff_ms`, except the newest
  // one; returns how many went. A reader resuming from before them is told
  // through DirectiveBatch.missed_through.
  absl::StatusOr<int> Trim(int64_t cutoff_ms);
  // The oldest sequence a reader can still get (1 until a trim removes some).
  uint64_t oldest_seq() const { return oldest_.load(std::memory_order_acquire); }

  // Up to `max` directives after `after_seq` that concern (realm, server),
  // oldest first. `*cursor` becomes the last sequence examined (matching or
  // not), never beyond latest_seq(). When directives after `after_seq` were
  // trimmed, out->missed_through() names the last of them. With `shared`
  // covering `after_seq`, the directives come from it, not from RocksDB.
  absl::Status Read(uint64_t after_seq, absl::string_view realm, absl::string_view server,
                    size_t max, v1::DirectiveBatch* out, uint64_t* cursor,
                    const PublishedRange* shared = nullptr) const;

  // False once CloseWatchers ran.
  bool Watch(DirectiveWatcher* w);
  // After Unwatch returns, `w` is never called again (it waits for a
  // fan-out round in progress, unless called from within one).
  void Unwatch(DirectiveWatcher* w);
  // Directive streams open now.
  size_t watcher_count() const;

 private:
  // Wakes watchers off the commit thread, so a thousand connected servers
  // never slow a commit down.
  void FanOut();
  // Reads (after, through] once for FanOut; null when it is too long.
  std::shared_ptr<const PublishedRange> ReadShared(uint64_t after, uint64_t through) const;
  // Builds the target index for a log written before it existed.
  absl::Status BackfillIndex();

  storage::Store* store_;
  const Clock* clock_;
  std::atomic<uint64_t> latest_{0};
  std::atomic<uint64_t> oldest_{1};
  mutable absl::Mutex mu_;
  std::vector<DirectiveWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t announced_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool dispatching_ ABSL_GUARDED_BY(mu_) = false;
  std::thread fanout_;
  PeriodicTask trimmer_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_GAMESERVERS_DIRECTIVES_H_
