// Monitoring: the event pipeline's owner. Keeps rules in RocksDB and in
// force in the Pipeline, turns firings into stored alerts (de-duplicated,
// with a cooldown per rule and key), runs rule actions (sanction, case,
// page) as the "monitor" principal, persists per-minute and per-hour
// roll-ups with retention, and fans alerts out to watchers.
//
// Roles: rules are read by agents and changed by leads (audited); alerts
// are read and acknowledged by agents (acknowledgement audited); metrics
// are read by agents. Events come from game servers, within their scope.
#ifndef STEWARD_SERVICES_MONITORING_MONITORING_H_
#define STEWARD_SERVICES_MONITORING_MONITORING_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/common/caller.h"
#include "services/common/event_batch.h"
#include "services/common/periodic.h"
#include "services/monitoring/pipeline/pipeline.h"
#include "steward/v1/events.pb.h"
#include "storage/store.h"

namespace steward {

class MetricsText;

class Moderation;
class Reports;

struct MonitoringOptions {
  PipelineOptions pipeline;
  // Roll-up retention. Defaults: minutes 48 hours, hours 90 days.
  int64_t minute_retention_ms = 48LL * 3600 * 1000;
  int64_t hour_retention_ms = 90LL * 24 * 3600 * 1000;
  // Batch limits. Defaults: 4,096 events, 4 MiB.
  int max_batch_events = 4096;
  size_t max_batch_bytes = size_t{4} << 20;
  // Alerts one rule may raise in a minute (keys without an open alert).
  // Past it the rule is in a storm: one summary alert stands for the
  // firings held back, which are counted but neither stored one by one
  // nor acted on, so a rule that misfires for every player cannot bury
  // the alert store, the watchers and the GMs, nor sanction a million
  // players.
  int alerts_per_rule_per_minute = 6000;
};

class Monitoring {
 public:
  Monitoring(storage::Store* store, Moderation* moderation, Reports* reports,
             MonitoringOptions options);
  Monitoring(const Monitoring&) = delete;
  Monitoring& operator=(const Monitoring&) = delete;
  ~Monitoring();

  // Loads the stored rules into the pipeline and starts the retention
  // sweep. Call once before serving.
  absl::Status Init(absl::Duration retention_every = absl::Minutes(10));

  // Checks a batch from `c`, parsed from `bytes` bytes on the wire (so
  // the parse has checked its strings are UTF-8): scope, sizes, fields.
  // InvalidArgument or PermissionDenied naming what is wrong. When
  // `vip_events` is given it receives the positions of the events VIP care
  // wants (see ForwardVipEvents), found in the same pass.
  absl::Status ValidateBatch(const Caller& c, const EventBatchView& batch, size_t bytes,
                             std::vector<int>* vip_events = nullptr) const;
  // What a batch may hold, for the parse to stop at (ValidateBatch checks
  // the same and more).
  EventBatchView::Limits BatchLimits() const;
  // Hands a validated batch to the pipeline; `done` as Pipeline::Submit.
  void Ingest(std::shared_ptr<const EventBatchView> batch, Pipeline::DoneFn done);
  // A game server's heartbeat, as a "heartbeat" event (value: players
  // online) so absence rules and the CCU roll-up see it.
  void Heartbeat(absl::string_view realm, absl::string_view server, int64_t players_online);
  // Counts a batch refused by ValidateBatch.
  void CountRejected() { rejected_batches_.fetch_add(1); }

  // VIP care sees some events too: "purchase" (player_id, value: the
  // amount in the game's accounting currency, attribute order_id), and
  // "login" and "logout" of players. ForwardVipEvents hands the events at
  // `positions` (from ValidateBatch) of a validated batch to `hook`, with
  // the publishing game server as the caller. Set before serving.
  using VipEventFn = std::function<void(const Caller&, const EventView&)>;
  void set_vip_hook(VipEventFn hook) { vip_hook_ = std::move(hook); }
  void ForwardVipEvents(const Caller& c, const EventBatchView& batch,
                        const std::vector<int>& positions) const;

  void SaveRule(const Caller& c, const v1::SaveRuleRequest& req, v1::SaveRuleResponse* resp,
                storage::DoneFn done);
  absl::Status ListRules(const Caller& c, const v1::ListRulesRequest& req,
                         v1::ListRulesResponse* resp) const;
  void DeleteRule(const Caller& c, const v1::DeleteRuleRequest& req, v1::DeleteRuleResponse* resp,
                  storage::DoneFn done);

  absl::Status ListAlerts(const Caller& c, const v1::ListAlertsRequest& req,
                          v1::ListAlertsResponse* resp) const;
  void AcknowledgeAlert(const Caller& c, const v1::AcknowledgeAlertRequest& req,
                        v1::AcknowledgeAlertResponse* resp, storage::DoneFn done);
  absl::Status QueryMetrics(const Caller& c, const v1::QueryMetricsRequest& req,
                            v1::QueryMetricsResponse* resp) const;
  absl::Status Stats(const Caller& c, const v1::PipelineStatsRequest& req,
                     v1::PipelineStats* resp) const;
  // The same figures (and the firing-latency histogram, and rules in
  // force) for /metrics; no caller, as the endpoint has its own access.
  void AppendMetrics(MetricsText* out) const;

  // Alert watchers: called (on a worker or commit thread, must not block)
  // with each new or re-fired alert once it is stored. Returns an id for
  // Unwatch.
  using AlertFn = std::function<void(const v1::Alert&)>;
  uint64_t Watch(AlertFn fn);
  void Unwatch(uint64_t id);
  // Ends every watch (shutdown): each receives an alert with id 0.
  void CloseWatchers();
  // An alert raised by another part of Steward rather than a rule (rule_id
  // 0; e.g. "incident-detector"): stored and sent to the watchers like any
  // other. Does not block.
  void RaiseDeskAlert(v1::Alert alert);

  // Window state across restarts (Pipeline::SaveState). Save writes all
  // of it to RocksDB once ingest has stopped (stewardd's shutdown). With
  // the rolling checkpoint on (options.pipeline.checkpoint_period_ms),
  // the pipeline also rewrites each table of each rule once a period, so
  // after a crash Init restores windows at most a period old. Stored
  // slices are keyed by rule, table and worker: a newer one replaces the
  // older. Init restores whatever is stored; it then deletes it when the
  // checkpoint is off (so a later crash cannot bring back state that old),
  // and otherwise keeps it, except the slices of rules no longer in force,
  // and rewrites it all at once when the worker count changed.
  absl::Status SaveWindowState();
  // Stores the roll-ups not yet written, the open minute's included, and
  // waits until they are durable (stewardd's shutdown, once ingest has
  // stopped). Between stops, options.pipeline.rollup_flush_ms bounds what
  // a crash loses.
  absl::Status SaveRollups();

  // Deletes roll-ups past retention now. Returns how many were deleted.
  absl::StatusOr<int> RunRetention();
  // Writes the firings held back since the last call into each storm's
  // summary alert, ends storms that held nothing back for a whole minute,
  // and forgets cooldowns that have run out. Runs every second; public
  // for tests.
  void Housekeep();

  Pipeline& pipeline() { return *pipeline_; }

 private:
  VipEventFn vip_hook_;
  // Gives every registered game server a fresh start for absence rules.
  absl::Status SeedAbsence();
  absl::Status RestoreWindowState();
  // Writes every slice of the pipeline's state, in commits of a few MiB.
  absl::Status WriteWindowState(const char* why);
  // The rolling checkpoint's writes: at most kMaxCheckpointBytes wait for
  // the store at once, and a slice past that is skipped (the next cycle
  // rewrites its table). Shared with the writes' completions, which may
  // run after this object is gone.
  struct CheckpointCounters {
    std::atomic<int64_t> in_flight_bytes{0};
    std::atomic<uint64_t> written{0}, skipped{0}, failed{0};
  };
  static constexpr int64_t kMaxCheckpointBytes = int64_t{64} << 20;
  std::shared_ptr<CheckpointCounters> checkpoints_ = std::make_shared<CheckpointCounters>();
  struct Cooldown {
    int64_t until_ms = 0;  // the end of the cooldown
    uint64_t alert_id = 0;
  };
  // A rule's alert budget for the current minute, and its storm if any.
  struct Budget {
    int64_t minute = 0;
    int raised = 0;               // alerts raised in `minute`
    int64_t last_held_ms = 0;     // the latest firing held back
    uint64_t summary_id = 0;      // the storm's summary alert, once stored
    bool in_storm = false;
    uint64_t held_unwritten = 0;  // held back, not yet in the summary
  };
  void RaiseStormSummary(const CompiledRule& r, int64_t now);

  int64_t Now() const;
  void OnFiring(Firing&& f);
  void OnRollup(std::vector<RollupPoint>&& points);
  void Publish(const v1::Alert& a);
  void Act(const std::shared_ptr<const CompiledRule>& rule, v1::Alert alert);
  void RecordAction(uint64_t alert_id, std::string action);
  absl::Status ReloadRules();

  storage::Store* store_;
  Moderation* moderation_;
  Reports* reports_;
  MonitoringOptions options_;
  PrincipalConfig monitor_principal_;
  std::unique_ptr<Pipeline> pipeline_;

  mutable absl::Mutex rules_mu_;
  std::map<uint64_t, std::shared_ptr<const CompiledRule>> rules_ ABSL_GUARDED_BY(rules_mu_);
  uint64_t generation_ ABSL_GUARDED_BY(rules_mu_) = 0;

  // Cooldowns by "rule id/key", in shards: Housekeep prunes one shard a
  // second, so a pass over a storm's worth of entries never holds up the
  // firings of the other shards. Lock order: a shard, then budget_mu_.
  static constexpr size_t kCooldownShards = 16;
  struct CooldownShard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Cooldown> map ABSL_GUARDED_BY(mu);
  };
  CooldownShard& ShardOf(absl::string_view key);
  std::array<CooldownShard, kCooldownShards> cooldowns_;
  std::atomic<size_t> next_prune_{0};
  absl::Mutex budget_mu_;
  absl::flat_hash_map<uint64_t, Budget> budgets_ ABSL_GUARDED_BY(budget_mu_);

  absl::Mutex watch_mu_;
  std::map<uint64_t, AlertFn> watchers_ ABSL_GUARDED_BY(watch_mu_);
  uint64_t next_watch_ ABSL_GUARDED_BY(watch_mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(watch_mu_) = false;

  std::atomic<uint64_t> rejected_batches_{0}, alerts_raised_{0}, alerts_suppressed_{0},
      alerts_held_{0};

  PeriodicTask housekeeping_;  // Housekeep() every second, retention every retention_every
};

}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_MONITORING_H_
