// Pipeline::Rep, the pipeline's insides, split by concern the way
// RocksDB splits DBImpl: ingest.cc (routing a batch to the workers, holding
// and shedding), worker.cc (each worker's loop: panes, firings, ticks,
// eviction, roll-ups), checkpoint.cc (window state saved and restored
// across restarts), pipeline.cc (the public API). Internal to pipeline/.
#ifndef STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_REP_H_
#define STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_REP_H_

#include "services/monitoring/pipeline/window_state.h"

namespace steward {

using namespace pipeline_internal;  // NOLINT: internal header of pipeline/ only

struct Pipeline::Rep {
  Pipeline* self;
  const PipelineOptions& opt;
  FiringSink on_fire;
  RollupSink on_rollup;

  struct Worker {
    moodycamel::BlockingConcurrentQueue<Chunk*> queue;
    std::atomic<int64_t> depth{0};
    std::atomic<uint64_t> keys{0};
    std::atomic<int64_t> bytes{0};
    std::thread thread;
    // Owned by the worker thread:
    absl::flat_hash_map<uint64_t, std::unique_ptr<RuleState>> rules;
    absl::flat_hash_map<RollupKey, RollupPoint> rollups;
    uint64_t generation = 0;
    int64_t last_tick_ms = 0;
    int64_t last_rollup_flush_ms = 0;
    int64_t bytes_local = 0;
    uint64_t keys_local = 0;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<bool> stopping{false};

  absl::Mutex rules_mu;
  std::shared_ptr<const RuleSet> rules ABSL_GUARDED_BY(rules_mu);

  absl::Mutex held_mu;
  std::deque<Held> held ABSL_GUARDED_BY(held_mu);
  std::atomic<size_t> held_count{0};

  std::atomic<uint64_t> accepted{0}, shed{0}, late{0}, keys_refused{0}, firings{0};
  // Arrival-to-firing latency in microseconds.
  Log2Histogram latency_us;

  Rep(Pipeline* p, const PipelineOptions& o, FiringSink f, RollupSink r)
      : self(p), opt(o), on_fire(std::move(f)), on_rollup(std::move(r)) {
    rules = MakeRuleSet({}, 0);
  }

  int64_t Now() const { return opt.clock->NowMs(); }

  // The worker that owns a key: Submit routes its events there, and
  // RestoreState its saved state. (The key's top bits pick the table
  // shard within the worker.)
  size_t WorkerOf(uint64_t key) const { return (key >> 17) % workers.size(); }

  std::shared_ptr<const RuleSet> CurrentRules() {
    absl::MutexLock l(&rules_mu);
    return rules;
  }


  static absl::string_view AttrOf(const EventView& e, absl::string_view name);

  static absl::string_view DimValue(const Dim& d, const EventBatchView& b, const EventView& e);

  // `player_h` is computed on first use and kept for the event's other rules.
  static uint64_t KeyHash(const CompiledRule& r, const EventBatchView& b, const EventView& e,
                          uint64_t realm_h, uint64_t server_h, uint64_t type_h, uint64_t* player_h);

  static bool Matches(const CompiledRule& r, const EventView& e);

  void Submit(std::shared_ptr<const EventBatchView> batch, DoneFn done, bool absence_only = false);

  static void AddPartial(std::vector<PartialRollup>& parts, uint64_t type_h, int64_t minute,
                         uint32_t event, double v);

  bool Fits(const std::vector<Chunk*>& chunks) const;

  void Enqueue(std::vector<Chunk*>& chunks);

  // Moves held batches into the queues while they fit; sheds those that
  // waited too long. Callbacks run outside the lock.
  void ReleaseHeld(int64_t now, bool shed_all);


  void Run(size_t index);

  RuleState* StateFor(Worker& w, const std::shared_ptr<const CompiledRule>& r);

  void DropState(Worker& w, RuleState& rs);

  static std::string Label(const CompiledRule& r, const EventBatchView& b, const EventView& e);

  // Adds one event's value to pane `idx` of a key, `idx` being inside the
  // key's window. The cells of panes past the key's newest are cleared on
  // the way, as they still hold panes that have left the window.
  static void AddToPane(const CompiledRule& r, KeyState& ks, int64_t idx, double value);

  // The rule's aggregate over the window ending at pane `end`.
  static double WindowValue(const CompiledRule& r, const KeyState& ks, int64_t end);

  KeyState* FindOrCreate(Worker& w, RuleState& rs, uint64_t key, bool* created);

  void Process(Worker& w, const Chunk& c);

  // Evidence is stored with its alert: the fields this build knows (the
  // parse skipped any others), with the time the window counted it at.
  static void KeepSample(RuleState& rs, uint64_t key, const EventView& e, int64_t t);

  void Fire(Firing&& f);

  void AddRollup(Worker& w, const EventBatchView& b, const PartialRollup& part, uint64_t key);

  // Fires a rule judged on the tick for a key that keeps its label.
  void FireFromTick(RuleState& rs, const KeyState& ks, double value, int64_t window_end);

  void Tick(Worker& w, int64_t now, size_t index);

  void JudgeClosed(RuleState& rs, int64_t closed);

  // Drops keys whose window has passed. Every table is swept once per
  // pane (at least a second), spread over the ticks of that period so a
  // large map costs a little on each tick rather than a stall on one.
  void Evict(Worker& w, RuleState& rs, int64_t now);


  static constexpr uint32_t kStateMagic = 0x31535753;  // "SWS1"

  // Cells a key keeps for rule r (distinct rules keep a sketch instead).
  static int CellsOf(const CompiledRule& r);

  // On the owning worker's thread: the keys of rule state `rs` in table
  // `table`, as one chunk that starts with the rule it belongs to and the
  // time it was taken.
  static std::string SaveTable(const RuleState& rs, int table, int64_t now, size_t* keys);

  StateSlice Slice(const RuleState& rs, int table, size_t index, int64_t now, size_t* keys) const;

  // On worker `index`'s thread: every table of its rules.
  void SaveWorker(size_t index, int64_t now, std::vector<StateSlice>* out, size_t* keys) const;

  // The rolling checkpoint of one rule on worker `index`, in the manner of
  // Evict: every table once a period, spread over the period's ticks. Each
  // rule and worker is offset by a fraction of a table's turn, so the
  // slices of different rules reach the store one by one rather than all
  // on the same tick (where, written in one group, they would hold up the
  // alerts committed with them).
  void Checkpoint(size_t index, RuleState& rs, int64_t now);

  struct StateHeader {
    int64_t saved_at = 0;
    uint64_t rule_id = 0, version = 0;
    int32_t panes = 0, kind = 0;
  };
  static bool ReadHeader(StateReader& in, StateHeader* h);
  // The rule in force that a chunk's state belongs to, or null when that
  // rule changed or went.
  static const std::shared_ptr<const CompiledRule>* LiveRule(
      const StateHeader& h,
      const absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>>& live);

  struct RestoreCounts {
    size_t restored = 0, refused = 0;
    int damaged = 0;
  };
  // On worker `index`'s thread: the keys of `chunks` that route to it, for
  // the rules in `live`. A damaged chunk is counted; the keys read before
  // the damage stay.
  void RestoreWorker(Worker& w, size_t index, const std::vector<std::string>& chunks,
                     const absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>>& live,
                     int64_t now, RestoreCounts* counts);

  // Runs task(worker index) on that worker's thread and waits for it.
  void RunOn(size_t i, std::function<void(size_t)> task);
};

}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_PIPELINE_PIPELINE_REP_H_
