// Pipeline: the in-memory event monitoring engine, free of gRPC and RocksDB.
//
// Submit() runs on the caller's thread (a gRPC reaction): it stamps event
// times, drops events older than the allowed lateness (counted), finds the
// rules each event matters to, and hands compact work items to per-worker
// bounded queues (moodycamel). A work item goes to the worker owning its
// key's hash, so each window key lives on exactly one worker and needs no
// locks. When a worker's queue is full the batch is held (the gRPC stream
// stops reading, which pushes back on the sender) and is shed, counted,
// only after it waited max_hold_ms.
//
// Workers keep per-rule window state (panes of count/sum/min/max and
// distinct sets), fire rules whose bound is crossed as events arrive,
// and on a periodic tick evaluate what can only be judged when a pane
// closes (BELOW thresholds, rate of change, absence), flush per-minute
// roll-ups and evict expired keys. Firings and roll-ups go to sinks the
// owner supplies; they run on worker threads and must not block.
//
// Thread-safety: every public method is safe from any thread.
#ifndef STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_H_
#define STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "services/common/clock.h"
#include "services/common/event_batch.h"
#include "services/common/log2_histogram.h"
#include "services/monitoring/rules.h"
#include "steward/v1/events.pb.h"

namespace steward {

// Saved window state: the keys of one rule in one of the 64 tables of one
// of `workers` workers (its key in storage names all four, so a newer
// slice replaces an older one). `bytes` is private to Pipeline and says
// when it was taken; a table with no keys still gives a slice, which
// replaces the keys an older one held.
struct StateSlice {
  uint64_t rule_id = 0;
  int table = 0;
  int worker = 0;
  int workers = 0;
  std::string bytes;
};

struct PipelineOptions {
  // Worker threads. Default: 2.
  int workers = 2;
  // Work items (one per event and matching rule, plus one for roll-ups)
  // a worker's queue holds before batches wait. Small enough that a full
  // queue is tens of milliseconds of work (alert latency), large enough
  // to ride out bursts. Default: 64K.
  size_t queue_capacity = 1 << 16;
  // Events older than this (against the clock) are late: counted, not
  // aggregated. A pane is judged once it is this far in the past.
  // Default: 5 s.
  int64_t allowed_lateness_ms = 5000;
  // Window state limit; past it, new keys are refused (counted) until
  // expired keys are evicted. Default: 1 GiB.
  size_t memory_limit_bytes = size_t{1024} << 20;
  // How long a batch may wait for queue room before it is shed. Default: 250 ms.
  int64_t max_hold_ms = 250;
  // Period of the workers' tick. Default: 50 ms.
  int64_t tick_ms = 50;
  // Rolling checkpoint of window state, so a crash loses at most this
  // much: each rule's tables go to checkpoint_sink once a period, one
  // table at a time spread over the period's ticks (so no worker stalls
  // for a whole rule), on the worker's thread. The sink must not block.
  // 0 (or no sink): off. Default: off.
  int64_t checkpoint_period_ms = 0;
  std::function<void(StateSlice&&)> checkpoint_sink;
  // Roll-ups of the minute still open go to the roll-up sink this often
  // as partial points (stored points add up), so a crash loses at most
  // this much of the metrics. 0: only when the minute closes. Default: 10 s.
  int64_t rollup_flush_ms = 10'000;
  // Unix time in ms. Default: the system clock. Tests drive time here and
  // call Sync().
  const Clock* clock = Clock::Wall();
};

// A rule fired for one key.
struct Firing {
  std::shared_ptr<const CompiledRule> rule;
  std::string key;  // "realm=eu1,player=p-9"
  std::string realm_id;
  std::string player_id;
  double value = 0;  // the window aggregate, or the z-score
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  int64_t trigger_time_ms = 0;  // event time of the last event counted
  int64_t arrival_ns = 0;       // steady-clock time its batch arrived (0 for tick firings)
  std::vector<v1::Event> samples;
};

// One minute of one event type on one server.
struct RollupPoint {
  std::string realm_id, server_id, type;
  int64_t minute_start_ms = 0;
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
};

struct IngestResult {
  uint64_t accepted = 0, shed = 0, late = 0;
  std::string detail;
};

struct PipelineCounters {
  uint64_t accepted = 0, shed = 0, late = 0, keys = 0, memory_bytes = 0, queue_depth = 0;
  uint64_t keys_refused = 0, firings = 0;
  // Batch arrival to firing, for firings made as events arrive.
  Log2Histogram::Snapshot fire_latency_us;
};

class Pipeline {
 public:
  using FiringSink = std::function<void(Firing&&)>;
  using RollupSink = std::function<void(std::vector<RollupPoint>&&)>;

  Pipeline(PipelineOptions options, FiringSink on_fire, RollupSink on_rollup);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  // Stops the workers; batches still waiting are reported shed.
  ~Pipeline();

  // Replaces the rules in force. Window state of a rule survives when its
  // version is unchanged; a changed rule starts afresh.
  void SetRules(std::shared_ptr<const RuleSet> rules);

  // Takes a validated batch. `done` runs exactly once: inline when the
  // batch fits, else later on a worker thread (accepted, or shed after
  // max_hold_ms). It must not block.
  using DoneFn = absl::AnyInvocable<void(IngestResult)>;
  void Submit(std::shared_ptr<const EventBatchView> batch, DoneFn done);
  // The same for a batch built in memory.
  void Submit(std::shared_ptr<const v1::EventBatch> batch, DoneFn done) {
    Submit(EventBatchView::Of(std::move(batch)), std::move(done));
  }
  // Marks the batch's keys as just seen for absence rules only: no other
  // rule, roll-up or counter sees it. After a restart this gives every
  // known source a fresh start, so one that never returns is noticed.
  void SeedAbsence(std::shared_ptr<const v1::EventBatch> batch);

  // Waits until everything submitted before the call is processed, then
  // runs one tick on every worker at the clock's current time.
  void Sync();

  // Window state across a restart. SaveState, once no more batches
  // arrive, hands `sink` every rule's per-key state (windows, baselines,
  // absence clocks, distinct sketches, labels), one slice per table of
  // each worker; it returns the number of keys saved. RestoreState,
  // before the first batch, takes slices' bytes back (from this or
  // another worker count, or from the rolling checkpoint) and returns the
  // number of keys restored: those of rules whose id and version are
  // still in force (others are dropped, as a changed rule starts afresh),
  // up to the memory limit. Time spent down is not held against anyone:
  // absence clocks resume where they stopped, and windows that closed
  // while the service was down are not judged. A damaged chunk is skipped
  // and counted in `*damaged`; when `stale` is given, it gets one flag per
  // chunk: damaged, or of a rule (version) no longer in force.
  size_t SaveState(absl::FunctionRef<void(StateSlice&&)> sink);
  size_t RestoreState(const std::vector<std::string>& chunks, int* damaged,
                      std::vector<bool>* stale = nullptr);

  // Hands every worker's roll-ups, the open minutes' too, to `sink` (on
  // the worker's thread, one call per worker) and forgets them; later
  // events of those minutes start new partial points. For a graceful
  // stop, once no more batches arrive.
  void TakeRollups(absl::FunctionRef<void(std::vector<RollupPoint>&&)> sink);

  PipelineCounters Counters() const;
  const PipelineOptions& options() const { return options_; }

 private:
  struct Rep;
  PipelineOptions options_;
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_H_
