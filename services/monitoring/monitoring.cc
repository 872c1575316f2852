#include "services/monitoring/monitoring.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/audit/audit.h"
#include "services/gameservers/game_servers.h"
#include "steward/v1/gameserver.pb.h"
#include "services/common/log.h"
#include "services/common/metrics_text.h"
#include "services/moderation/moderation.h"
#include "services/common/pagination.h"
#include "services/common/records.h"
#include "services/reports/reports.h"
#include "services/common/validation.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;

// Index entries in Cf::kMonIndex.
constexpr uint8_t kIdxAlertTime = 't';  // I64(raised) U64(alert id)
constexpr uint8_t kIdxAlertRule = 'r';  // U64(rule id) I64(raised) U64(alert id)
constexpr uint8_t kIdxRuleName = 'n';   // Str(name) -> U64(rule id)
constexpr uint8_t kIdxMetricTime = 'M';  // Byte(res) I64(start) + metric key -> ""
constexpr uint8_t kIdxWindowState = 'W';  // U64(rule) Byte(table, worker, workers) -> StateSlice bytes
// Metric keys in Cf::kMetrics: Byte(res) Str(type) Str(realm) Str(server) I64(start).
constexpr uint8_t kMinute = 1;
constexpr uint8_t kHour = 2;

std::string WindowStateKey(const StateSlice& s) {
  return KeyWriter()
      .Byte(kIdxWindowState)
      .U64(s.rule_id)
      .Byte(static_cast<uint8_t>(s.table))
      .Byte(static_cast<uint8_t>(s.worker))
      .Byte(static_cast<uint8_t>(s.workers))
      .Release();
}
// The worker count a stored slice was taken under (0: an older form).
int WorkersOfStateKey(absl::string_view key) {
  return key.size() == 12 ? static_cast<uint8_t>(key[11]) : 0;
}

constexpr size_t kMaxTypeLen = 64;
constexpr int64_t kMaxFutureMs = int64_t{24} * 3600 * 1000;  // events dated further ahead are refused
constexpr size_t kMaxAttrKeyLen = 32;
constexpr size_t kMaxAttrValueLen = 64;
constexpr size_t kMaxEventText = 512;
constexpr int kMaxAttrs = 8;

std::string MetricKey(uint8_t res, absl::string_view type, absl::string_view realm,
                      absl::string_view server, int64_t start) {
  return KeyWriter().Byte(res).Str(type).Str(realm).Str(server).I64(start).Release();
}

bool IsPurchase(const EventView& e) { return e.type().size() == 8 && e.type() == "purchase"; }

// Purchase, login or logout, decided mostly on the type's length.
bool IsVipEvent(const EventView& e) {
  const absl::string_view t = e.type();
  switch (t.size()) {
    case 5: return t == "login";
    case 6: return t == "logout";
    case 8: return t == "purchase";
    default: return false;
  }
}

const AttributeView* OrderId(const EventView& e) {
  for (const auto& a : e.attributes()) {
    if (a.key() == "order_id") return &a;
  }
  return nullptr;
}

absl::Status CheckPurchase(const EventView& e, int i) {
  const AttributeView* order = OrderId(e);
  if (e.player_id().empty() || order == nullptr || order->value().empty() || !(e.value() > 0 && e.value() <= 1e6)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events[", i, "]: a purchase needs player_id, value (the amount, above 0 and at most 1,000,000) and an "
        "order_id attribute"));
  }
  return absl::OkStatus();
}

// Batches reach ValidateBatch parsed from the wire (the embedded plugin
// too goes through an in-process channel), and protobuf refuses a proto3
// string that is not UTF-8 while parsing, so only lengths are left to check
// here.
absl::Status CheckEventText(absl::string_view field, int i, absl::string_view v, size_t min,
                            size_t max) {
  if (v.size() < min || v.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat("events[", i, "].", field, ": length ", v.size(),
                                                   " outside [", min, ", ", max, "]"));
  }
  return absl::OkStatus();
}

void Merge(v1::MetricPoint* into, const RollupPoint& p) {
  if (into->count() == 0) {
    into->set_min(p.min);
    into->set_max(p.max);
  } else {
    into->set_min(std::min(into->min(), p.min));
    into->set_max(std::max(into->max(), p.max));
  }
  into->set_count(into->count() + p.count);
  into->set_sum(into->sum() + p.sum);
}

}  // namespace

Monitoring::Monitoring(storage::Store* store, Moderation* moderation, Reports* reports,
                       MonitoringOptions options)
    : store_(store), moderation_(moderation), reports_(reports), options_(std::move(options)) {
  monitor_principal_.name = std::string(kMonitorPrincipal);
  monitor_principal_.kind = PrincipalKind::kGm;
  // A lead's reach: temp bans and mutes take effect at once; permanent
  // bans go through two-person approval like anyone's.
  monitor_principal_.role = Role::kLead;
  if (options_.pipeline.clock == nullptr) {
    options_.pipeline.clock = Clock::Wall();
  }
  if (options_.pipeline.checkpoint_period_ms > 0) {
    options_.pipeline.checkpoint_sink = [store, c = checkpoints_](StateSlice&& slice) {
      const auto size = static_cast<int64_t>(slice.bytes.size());
      const int64_t queued = c->in_flight_bytes.load();
      if (queued > 0 && queued + size > kMaxCheckpointBytes) {  // (a huge slice goes alone)
        c->skipped.fetch_add(1);
        return;
      }
      c->in_flight_bytes.fetch_add(size);
      store->Commit(
          [key = WindowStateKey(slice), bytes = std::move(slice.bytes)](Txn& txn) {
            txn.Put(Cf::kMonIndex, key, bytes);
            return absl::OkStatus();
          },
          [c, size](absl::Status s) {
            (s.ok() ? c->written : c->failed).fetch_add(1);
            c->in_flight_bytes.fetch_sub(size);
          });
    };
  }
  pipeline_ = std::make_unique<Pipeline>(
      options_.pipeline, [this](Firing&& f) { OnFiring(std::move(f)); },
      [this](std::vector<RollupPoint>&& p) { OnRollup(std::move(p)); });
}

Monitoring::~Monitoring() {
  housekeeping_.Stop();
  pipeline_.reset();  // no more firings after this
  CloseWatchers();
}

int64_t Monitoring::Now() const { return options_.pipeline.clock->NowMs(); }

absl::Status Monitoring::Init(absl::Duration retention_every) {
  STEWARD_RETURN_IF_ERROR(ReloadRules());
  STEWARD_RETURN_IF_ERROR(RestoreWindowState());
  STEWARD_RETURN_IF_ERROR(SeedAbsence());
  housekeeping_.Start(absl::Seconds(1), [this, retention_every,
                                         next_retention = options_.pipeline.clock->Now() + retention_every]() mutable {
    Housekeep();
    if (options_.pipeline.clock->Now() < next_retention) return;
    next_retention = options_.pipeline.clock->Now() + retention_every;
    auto n = RunRetention();
    if (!n.ok()) LogWarning("metrics retention: ", n.status().ToString());
  });
  return absl::OkStatus();
}

namespace {
// Deletes `keys` of Cf::kMonIndex in one transaction.
absl::Status DeleteIndexKeys(storage::Store* store, const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  return store->CommitAndWait([&](Txn& txn) {
    for (const auto& k : keys) txn.Delete(Cf::kMonIndex, k);
    return absl::OkStatus();
  });
}
}  // namespace

absl::Status Monitoring::SaveWindowState() { return WriteWindowState("for the next start"); }

absl::Status Monitoring::WriteWindowState(const char* why) {
  const absl::Time started = options_.pipeline.clock->Now();
  std::vector<std::pair<std::string, std::string>> batch;
  size_t batch_bytes = 0, total_bytes = 0;
  absl::Status st = absl::OkStatus();
  auto flush = [&] {
    if (batch.empty() || !st.ok()) return;
    st = store_->CommitAndWait([&](Txn& txn) {
      for (const auto& [k, v] : batch) txn.Put(Cf::kMonIndex, k, v);
      return absl::OkStatus();
    });
    batch.clear();
    batch_bytes = 0;
  };
  const size_t keys = pipeline_->SaveState([&](StateSlice&& slice) {
    batch_bytes += slice.bytes.size();
    total_bytes += slice.bytes.size();
    batch.emplace_back(WindowStateKey(slice), std::move(slice.bytes));
    if (batch_bytes >= (size_t{16} << 20)) flush();
  });
  flush();
  if (!st.ok()) return st;
  LogInfo("window state saved ", why, ": ", keys, " keys, ", total_bytes >> 20, " MiB in ",
          absl::ToInt64Milliseconds(options_.pipeline.clock->Now() - started), " ms");
  return absl::OkStatus();
}

absl::Status Monitoring::RestoreWindowState() {
  const std::string prefix = KeyWriter().Byte(kIdxWindowState).Release();
  const absl::Time started = options_.pipeline.clock->Now();
  std::vector<std::string> keys, stale_keys, chunk_keys, chunks;
  size_t restored = 0, bytes = 0;
  int damaged = 0;
  bool same_workers = true;  // every slice from a run with today's worker count
  auto restore = [&] {
    int d = 0;
    std::vector<bool> stale;
    restored += pipeline_->RestoreState(chunks, &d, &stale);
    damaged += d;
    for (size_t i = 0; i < stale.size(); ++i) {
      if (stale[i]) stale_keys.push_back(std::move(chunk_keys[i]));
    }
    chunks.clear();
    chunk_keys.clear();
  };
  // A few dozen megabytes at a time, not the whole state at once.
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kMonIndex, prefix, storage::PrefixSuccessor(prefix), false,
                               [&](absl::string_view k, absl::string_view v) {
                                 keys.emplace_back(k);
                                 chunk_keys.emplace_back(k);
                                 chunks.emplace_back(v);
                                 bytes += v.size();
                                 same_workers = same_workers && WorkersOfStateKey(k) == options_.pipeline.workers;
                                 if (chunks.size() >= 32) restore();
                                 return true;
                               },
                               storage::Store::CacheUse::kBypass));
  if (!chunks.empty()) restore();
  if (keys.empty()) return absl::OkStatus();
  LogInfo("window state of the last run restored: ", restored, " keys (", bytes >> 20, " MiB) in ",
          absl::ToInt64Milliseconds(options_.pipeline.clock->Now() - started), " ms");
  if (damaged > 0) LogWarning("window state: ", damaged, " damaged chunks were skipped");
  const bool checkpointing = options_.pipeline.checkpoint_period_ms > 0;
  if (checkpointing && same_workers) return DeleteIndexKeys(store_, stale_keys);
  STEWARD_RETURN_IF_ERROR(DeleteIndexKeys(store_, keys));
  // Slices of another worker count hold keys that today's slices would
  // hold too; the checkpoint starts from a whole state of today's layout.
  return checkpointing ? WriteWindowState("under the new worker count") : absl::OkStatus();
}

absl::Status Monitoring::SeedAbsence() {
  // The event types absence rules watch per realm or server (a rule keyed
  // by player or attribute has no known set of keys to seed).
  std::set<std::string> types;
  {
    absl::MutexLock l(&rules_mu_);
    for (const auto& [id, r] : rules_) {
      if (r->rule.kind() != v1::RULE_KIND_ABSENCE || !r->rule.enabled()) continue;
      bool per_place = std::all_of(r->group_by.begin(), r->group_by.end(), [](const Dim& d) {
        return d.kind == Dim::kRealm || d.kind == Dim::kServer || d.kind == Dim::kType;
      });
      if (per_place) types.insert(r->rule.event_types().begin(), r->rule.event_types().end());
    }
  }
  if (types.empty()) return absl::OkStatus();
  int seeded = 0;
  absl::Status scanned = ScanRegisteredGameServers(*store_, [&](const v1::GameServerInfo& info) {
    auto b = std::make_shared<v1::EventBatch>();
    b->set_realm_id(info.realm_id());
    b->set_server_id(info.server_id());
    for (const auto& t : types) b->add_events()->set_type(t);
    pipeline_->SeedAbsence(std::move(b));
    ++seeded;
    return true;
  });
  if (seeded > 0) LogInfo("absence rules watch ", seeded, " registered game servers from start");
  return scanned;
}

absl::Status Monitoring::ReloadRules() {
  std::map<uint64_t, std::shared_ptr<const CompiledRule>> loaded;
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kRules, "", "", false, [&](absl::string_view k, absl::string_view v) {
    v1::Rule r;
    if (!r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      bad = absl::DataLossError("a stored rule is unreadable");
      return false;
    }
    auto c = CompileRule(r);
    if (!c.ok()) {
      // A rule valid when saved but not now (a stricter build): keep
      // serving, say so.
      LogWarning("rule ", r.id(), " (", r.name(), ") no longer compiles and is skipped: ",
                 c.status().message());
      return true;
    }
    loaded[r.id()] = *std::move(c);
    return true;
  }));
  STEWARD_RETURN_IF_ERROR(bad);
  absl::MutexLock l(&rules_mu_);
  rules_ = std::move(loaded);
  std::vector<std::shared_ptr<const CompiledRule>> list;
  for (const auto& [id, r] : rules_) list.push_back(r);
  pipeline_->SetRules(MakeRuleSet(std::move(list), ++generation_));
  return absl::OkStatus();
}

// ------------------------------------------------------------------ ingest

absl::Status Monitoring::ValidateBatch(const Caller& c, const EventBatchView& b, size_t bytes,
                                       std::vector<int>* vip_events) const {
  if (vip_events != nullptr) vip_events->clear();
  if (!c.is_game_server()) return absl::PermissionDeniedError("events come from game servers");
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", b.realm_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", b.server_id(), true));
  if (!c.principal->realm.empty() && c.principal->realm != b.realm_id()) {
    return absl::PermissionDeniedError(
        absl::StrCat(c.name(), " publishes for realm ", c.principal->realm, " only"));
  }
  if (!c.principal->server.empty() && c.principal->server != b.server_id()) {
    return absl::PermissionDeniedError(
        absl::StrCat(c.name(), " publishes for server ", c.principal->server, " only"));
  }
  if (b.events_size() > options_.max_batch_events) {
    return absl::InvalidArgumentError(absl::StrCat("a batch holds at most ", options_.max_batch_events,
                                                   " events; this one has ", b.events_size(),
                                                   "; split it"));
  }
  if (bytes > options_.max_batch_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("a batch is at most ", options_.max_batch_bytes,
                                                   " bytes; this one is ", bytes, "; split it"));
  }
  const int64_t now = Now();
  for (int i = 0; i < b.events_size(); ++i) {
    const EventView& e = b.events(i);
    STEWARD_RETURN_IF_ERROR(CheckEventText("type", i, e.type(), 1, kMaxTypeLen));
    if (e.player_id().size() > kMaxIdLen) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].player_id: longer than ", kMaxIdLen));
    }
    if (e.time_ms() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].time_ms: negative"));
    }
    // A clock a little ahead is a skewed server clock (re-dated to arrival
    // by the pipeline); a day or more ahead is a wrong unit or a broken
    // clock, refused rather than silently re-dated.
    if (e.time_ms() > now + kMaxFutureMs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].time_ms: ", e.time_ms(), " is more than a day ahead of the server's clock (",
          now, "); send Unix milliseconds"));
    }
    if (!std::isfinite(e.value())) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].value: not a finite number"));
    }
    if (e.text().size() > kMaxEventText) {
      STEWARD_RETURN_IF_ERROR(CheckEventText("text", i, e.text(), 0, kMaxEventText));
    }
    if (e.attributes_size() > kMaxAttrs) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].attributes: at most ", kMaxAttrs));
    }
    if (IsVipEvent(e)) {
      if (IsPurchase(e)) STEWARD_RETURN_IF_ERROR(CheckPurchase(e, i));
      if (vip_events != nullptr) vip_events->push_back(i);
    }
    for (const auto& a : e.attributes()) {
      STEWARD_RETURN_IF_ERROR(CheckEventText("attributes.key", i, a.key(), 1, kMaxAttrKeyLen));
      if (a.value().size() > kMaxAttrValueLen) {
        return absl::InvalidArgumentError(absl::StrCat("events[", i, "].attributes[", a.key(),
                                                       "]: value longer than ", kMaxAttrValueLen));
      }
    }
  }
  return absl::OkStatus();
}

EventBatchView::Limits Monitoring::BatchLimits() const {
  EventBatchView::Limits l;
  l.max_events = static_cast<size_t>(std::max(0, options_.max_batch_events));
  l.max_attributes_per_event = kMaxAttrs;
  return l;
}

void Monitoring::ForwardVipEvents(const Caller& c, const EventBatchView& batch,
                                  const std::vector<int>& positions) const {
  if (!vip_hook_) return;
  for (int i : positions) vip_hook_(c, batch.events(i));
}

void Monitoring::Ingest(std::shared_ptr<const EventBatchView> batch, Pipeline::DoneFn done) {
  pipeline_->Submit(std::move(batch), std::move(done));
}

void Monitoring::Heartbeat(absl::string_view realm, absl::string_view server, int64_t players) {
  auto b = std::make_shared<v1::EventBatch>();
  b->set_realm_id(std::string(realm));
  b->set_server_id(std::string(server));
  auto* e = b->add_events();
  e->set_type("heartbeat");
  e->set_value(static_cast<double>(players));
  pipeline_->Submit(std::move(b), [](IngestResult) {});
}

// ------------------------------------------------------------------ alerts

namespace {

constexpr int64_t kMinuteMs = 60'000;

// Stores a new alert (id, record, time and rule indexes); `then` runs
// with the stored alert once committed.
void InsertAlert(storage::Store* store, std::shared_ptr<v1::Alert> alert,
                 std::function<void(absl::Status)> then) {
  store->Commit(
      [alert](Txn& txn) -> absl::Status {
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("alert"));
        alert->set_id(id);
        txn.Put(Cf::kAlerts, RecordKey(id), alert->SerializeAsString());
        txn.Put(Cf::kMonIndex, KeyWriter().Byte(kIdxAlertTime).I64(alert->raised_at_ms()).U64(id).key(), "");
        txn.Put(Cf::kMonIndex,
                KeyWriter().Byte(kIdxAlertRule).U64(alert->rule_id()).I64(alert->raised_at_ms()).U64(id).key(),
                "");
        return absl::OkStatus();
      },
      std::move(then));
}

// Adds `n` firings to a stored alert; `value`, when given, replaces its
// value (a repeat firing's latest aggregate).
void FoldIntoAlert(storage::Store* store, uint64_t id, uint64_t n, int64_t now,
                   std::optional<double> value) {
  store->Commit(
      [id, n, now, value, out = std::make_shared<v1::Alert>()](Txn& txn) -> absl::Status {
        v1::Alert& a = *out;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kAlerts, id, "alert", &a));
        a.set_occurrences(static_cast<uint32_t>(
            std::min<uint64_t>(a.occurrences() + n, std::numeric_limits<uint32_t>::max())));
        a.set_last_seen_ms(now);
        if (value) a.set_value(*value);
        txn.Put(Cf::kAlerts, RecordKey(a.id()), a.SerializeAsString());
        return absl::OkStatus();
      },
      [](absl::Status s) {
        if (!s.ok()) LogWarning("alert fold not stored: ", s.ToString());
      });
}

}  // namespace

void Monitoring::OnFiring(Firing&& f) {
  const CompiledRule& r = *f.rule;
  const int64_t now = Now();
  std::string ck = absl::StrCat(r.rule.id(), "/", f.key);
  uint64_t fold_into = 0;
  bool held = false, storm_begins = false;
  CooldownShard& shard = ShardOf(ck);
  {
    absl::MutexLock l(&shard.mu);
    auto it = shard.map.find(ck);
    if (it != shard.map.end() && it->second.alert_id != 0 && now < it->second.until_ms) {
      fold_into = it->second.alert_id;
    } else {
      absl::MutexLock bl(&budget_mu_);
      Budget& b = budgets_[r.rule.id()];
      if (b.minute != now / kMinuteMs) {
        b.minute = now / kMinuteMs;
        b.raised = 0;
      }
      if (b.raised >= options_.alerts_per_rule_per_minute) {
        held = true;
        b.last_held_ms = now;
        if (b.in_storm) {
          ++b.held_unwritten;
        } else {  // this firing is the summary's first
          b.in_storm = true;
          b.summary_id = 0;
          storm_begins = true;
        }
      } else {
        ++b.raised;
        Cooldown& cd = it != shard.map.end() ? it->second : shard.map[ck];
        cd.until_ms = now + r.cooldown_ms;
        cd.alert_id = 0;  // set once stored
      }
    }
  }
  if (held) {
    alerts_held_.fetch_add(1);
    if (storm_begins) RaiseStormSummary(r, now);
    return;
  }
  if (fold_into != 0) {
    alerts_suppressed_.fetch_add(1);
    FoldIntoAlert(store_, fold_into, 1, now, f.value);
    return;
  }
  auto alert = std::make_shared<v1::Alert>();
  alert->set_rule_id(r.rule.id());
  alert->set_rule_name(r.rule.name());
  alert->set_severity(r.rule.severity());
  alert->set_key(f.key);
  alert->set_value(f.value);
  alert->set_threshold(r.rule.threshold());
  alert->set_window_start_ms(f.window_start_ms);
  alert->set_window_end_ms(f.window_end_ms);
  for (auto& s : f.samples) *alert->add_samples() = std::move(s);
  alert->set_raised_at_ms(now);
  alert->set_last_seen_ms(now);
  alert->set_occurrences(1);
  alert->set_state(v1::ALERT_STATE_OPEN);
  alert->set_realm_id(f.realm_id);
  alert->set_player_id(f.player_id);
  alert->set_page(r.rule.action().kind() == v1::ACTION_KIND_PAGE);
  alert->set_trigger_time_ms(f.trigger_time_ms);
  auto rule = f.rule;
  InsertAlert(store_, alert, [this, alert, rule, ck](absl::Status s) {
    if (!s.ok()) {
      LogWarning("alert for rule ", alert->rule_id(), " not stored: ", s.ToString());
      return;
    }
    {
      CooldownShard& shard = ShardOf(ck);
      absl::MutexLock l(&shard.mu);
      auto it = shard.map.find(ck);
      if (it != shard.map.end()) it->second.alert_id = alert->id();
    }
    alerts_raised_.fetch_add(1);
    Publish(*alert);
    Act(rule, *alert);
  });
}

void Monitoring::RaiseStormSummary(const CompiledRule& r, int64_t now) {
  const uint64_t rule_id = r.rule.id();
  auto alert = std::make_shared<v1::Alert>();
  alert->set_rule_id(rule_id);
  alert->set_rule_name(r.rule.name());
  alert->set_severity(r.rule.severity());
  alert->set_key(absl::StrCat("storm: more than ", options_.alerts_per_rule_per_minute,
                              " alerts in a minute; further firings held back"));
  alert->set_storm(true);
  alert->set_value(options_.alerts_per_rule_per_minute);
  alert->set_threshold(options_.alerts_per_rule_per_minute);
  alert->set_window_start_ms(now / kMinuteMs * kMinuteMs);
  alert->set_window_end_ms(now / kMinuteMs * kMinuteMs + kMinuteMs);
  alert->set_raised_at_ms(now);
  alert->set_last_seen_ms(now);
  alert->set_occurrences(1);  // the firing that began the storm
  alert->set_state(v1::ALERT_STATE_OPEN);
  alert->set_page(r.rule.action().kind() == v1::ACTION_KIND_PAGE);
  // No action: a storm is when a rule's actions are least to be trusted.
  InsertAlert(store_, alert, [this, alert, rule_id](absl::Status s) {
    {
      absl::MutexLock l(&budget_mu_);
      Budget& b = budgets_[rule_id];
      // Unstored, the storm ends so the next held firing begins another.
      if (!s.ok()) b.in_storm = false;
      else if (b.in_storm && b.summary_id == 0) b.summary_id = alert->id();
    }
    if (!s.ok()) {
      LogWarning("storm summary for rule ", rule_id, " not stored: ", s.ToString());
      return;
    }
    alerts_raised_.fetch_add(1);
    Publish(*alert);
  });
}

Monitoring::CooldownShard& Monitoring::ShardOf(absl::string_view key) {
  return cooldowns_[HashStr(key) % kCooldownShards];
}

void Monitoring::Housekeep() {
  const int64_t now = Now();
  std::vector<std::pair<uint64_t, uint64_t>> folds;  // summary id, firings held back
  {
    absl::MutexLock l(&budget_mu_);
    for (auto it = budgets_.begin(); it != budgets_.end();) {
      Budget& b = it->second;
      if (b.in_storm && b.summary_id != 0) {
        if (b.held_unwritten > 0) folds.emplace_back(b.summary_id, b.held_unwritten);
        b.held_unwritten = 0;
        if (now - b.last_held_ms >= kMinuteMs) b.in_storm = false;  // a quiet minute ends it
      }
      if (!b.in_storm && now / kMinuteMs > b.minute) {
        budgets_.erase(it++);  // a new minute starts a fresh budget anyway
      } else {
        ++it;
      }
    }
  }
  {
    // One shard a call: every entry is looked at within kCooldownShards
    // calls (seconds) of its end.
    CooldownShard& shard = cooldowns_[next_prune_.fetch_add(1) % kCooldownShards];
    absl::MutexLock l(&shard.mu);
    for (auto it = shard.map.begin(); it != shard.map.end();) {
      // Also drops an entry whose alert was never stored (its commit
      // failed); one still committing finds no entry and is harmless.
      if (it->second.until_ms <= now) {
        shard.map.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (auto [id, n] : folds) FoldIntoAlert(store_, id, n, now, std::nullopt);
}

void Monitoring::RaiseDeskAlert(v1::Alert a) {
  auto alert = std::make_shared<v1::Alert>(std::move(a));
  const int64_t now = Now();
  alert->set_raised_at_ms(now);
  alert->set_last_seen_ms(now);
  alert->set_occurrences(1);
  alert->set_state(v1::ALERT_STATE_OPEN);
  InsertAlert(store_, alert, [this, alert](absl::Status s) {
    if (!s.ok()) {
      LogWarning("alert ", alert->rule_name(), " not stored: ", s.ToString());
      return;
    }
    Publish(*alert);
  });
}

void Monitoring::Publish(const v1::Alert& a) {
  absl::MutexLock l(&watch_mu_);
  for (auto& [id, fn] : watchers_) fn(a);
}

void Monitoring::Act(const std::shared_ptr<const CompiledRule>& rule, v1::Alert alert) {
  const v1::RuleAction& a = rule->rule.action();
  if (a.kind() == v1::ACTION_KIND_NONE || a.kind() == v1::ACTION_KIND_PAGE) return;
  if (alert.player_id().empty() || alert.realm_id().empty()) {
    RecordAction(alert.id(), "none: the key names no player");
    return;
  }
  Caller monitor;
  monitor.principal = &monitor_principal_;
  const std::string alert_ref = absl::StrCat("alert/", alert.id());
  const std::string rule_ref = absl::StrCat("rule/", rule->rule.id());
  if (a.kind() == v1::ACTION_KIND_SANCTION) {
    auto req = std::make_shared<v1::IssueSanctionRequest>();
    auto resp = std::make_shared<v1::IssueSanctionResponse>();
    req->set_idempotency_key(alert_ref);
    auto* spec = req->mutable_spec();
    spec->set_type(a.sanction_type());
    spec->set_subject_id(alert.player_id());
    spec->mutable_scope()->set_realm_id(alert.realm_id());
    spec->set_reason(a.reason());
    spec->set_policy_code(a.policy_code());
    spec->add_evidence(alert_ref);
    spec->add_evidence(rule_ref);
    spec->set_duration_ms(a.sanction_duration_ms());
    uint64_t id = alert.id();
    moderation_->Issue(monitor, *req, resp.get(), [this, req, resp, id](absl::Status s) {
      RecordAction(id, s.ok() ? absl::StrCat("sanction/", resp->sanction().id(),
                                             resp->sanction().state() == v1::SANCTION_STATE_PENDING_APPROVAL
                                                 ? " (awaiting approval)"
                                                 : "")
                              : absl::StrCat("sanction failed: ", s.message()));
    });
    return;
  }
  if (a.kind() == v1::ACTION_KIND_OPEN_CASE && reports_ != nullptr) {
    v1::ReportCategory cat = v1::REPORT_CATEGORY_OTHER;
    v1::ReportCategory_Parse("REPORT_CATEGORY_" + absl::AsciiStrToUpper(a.case_category()), &cat);
    uint64_t id = alert.id();
    reports_->OpenCaseFromAlert(monitor, alert.realm_id(), alert.player_id(), cat, alert_ref,
                                rule->rule.name(),
                                [this, id](absl::StatusOr<uint64_t> case_id) {
                                  RecordAction(id, case_id.ok()
                                                       ? absl::StrCat("case/", *case_id)
                                                       : absl::StrCat("case failed: ",
                                                                      case_id.status().message()));
                                });
  }
}

void Monitoring::RecordAction(uint64_t alert_id, std::string action) {
  Caller monitor;
  monitor.principal = &monitor_principal_;
  store_->Commit(
      [this, alert_id, action, monitor](Txn& txn) -> absl::Status {
        v1::Alert before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kAlerts, alert_id, "alert", &before));
        v1::Alert after = before;
        after.set_action_taken(action);
        txn.Put(Cf::kAlerts, RecordKey(alert_id), after.SerializeAsString());
        // The automatic action, with the rule that caused it.
        std::string target = absl::StrCat("alert/", alert_id);
        std::string why = absl::StrCat("rule ", after.rule_id(), " (", after.rule_name(), "): ", action);
        return AppendAudit(txn, monitor, Now(),
                           {.action = "alert.action", .target = target, .reason = why,
                            .before = &before, .after = &after});
      },
      [alert_id](absl::Status s) {
        if (!s.ok()) LogWarning("alert ", alert_id, " action not recorded: ", s.ToString());
      });
}

uint64_t Monitoring::Watch(AlertFn fn) {
  absl::MutexLock l(&watch_mu_);
  if (closed_) return 0;
  uint64_t id = next_watch_++;
  watchers_[id] = std::move(fn);
  return id;
}

void Monitoring::Unwatch(uint64_t id) {
  absl::MutexLock l(&watch_mu_);
  watchers_.erase(id);
}

void Monitoring::CloseWatchers() {
  std::map<uint64_t, AlertFn> w;
  {
    absl::MutexLock l(&watch_mu_);
    closed_ = true;
    w.swap(watchers_);
  }
  v1::Alert end;
  for (auto& [id, fn] : w) fn(end);
}

absl::Status Monitoring::ListAlerts(const Caller& c, const v1::ListAlertsRequest& req,
                                    v1::ListAlertsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListAlerts"));
  STEWARD_RETURN_IF_ERROR(CheckEnum("state", req.state(), v1::AlertState_IsValid(req.state()), true));
  if (req.limit() < 0) return absl::InvalidArgumentError("limit: must not be negative");
  TimeScan scan;
  scan.cf = Cf::kMonIndex;
  scan.prefix = req.rule_id() != 0 ? KeyWriter().Byte(kIdxAlertRule).U64(req.rule_id()).Release()
                                   : KeyWriter().Byte(kIdxAlertTime).Release();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(static_cast<uint32_t>(req.limit()));
  STEWARD_ASSIGN_OR_RETURN(std::string next,
                   ScanByTime(*store_, scan,
                              [&](int64_t, uint64_t id, absl::string_view,
                                  absl::string_view) -> absl::StatusOr<bool> {
                                v1::Alert a;
                                STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kAlerts, id, "alert", &a));
                                if (req.state() != v1::ALERT_STATE_UNSPECIFIED && a.state() != req.state()) {
                                  return false;
                                }
                                *resp->add_alerts() = std::move(a);
                                return true;
                              }));
  resp->set_next_page_token(next);
  return absl::OkStatus();
}

void Monitoring::AcknowledgeAlert(const Caller& c, const v1::AcknowledgeAlertRequest& req,
                                  v1::AcknowledgeAlertResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "AcknowledgeAlert");
  if (s.ok()) s = CheckText("note", req.note(), 0, kMaxReasonLen);
  if (s.ok() && req.id() == 0) s = absl::InvalidArgumentError("id: required");
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        v1::Alert before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kAlerts, req.id(), "alert", &before));
        if (before.state() == v1::ALERT_STATE_ACKNOWLEDGED) {
          return absl::FailedPreconditionError(absl::StrCat("alert ", req.id(), " was acknowledged by ",
                                                            before.acknowledged_by()));
        }
        v1::Alert& after = *resp->mutable_alert();
        after = before;
        after.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
        after.set_acknowledged_by(c.name());
        after.set_acknowledged_at_ms(Now());
        txn.Put(Cf::kAlerts, RecordKey(after.id()), after.SerializeAsString());
        std::string target = absl::StrCat("alert/", after.id());
        return AppendAudit(txn, c, Now(),
                           {.action = "alert.acknowledge", .target = target, .reason = req.note(),
                            .before = &before, .after = &after});
      },
      std::move(done));
}

// ------------------------------------------------------------------- rules

void Monitoring::SaveRule(const Caller& c, const v1::SaveRuleRequest& req, v1::SaveRuleResponse* resp,
                          storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "SaveRule");
  if (!s.ok()) return done(s);
  auto compiled = CompileRule(req.rule());
  if (!compiled.ok()) return done(compiled.status());
  store_->Commit(
      [this, c, &req, resp, rule = (*compiled)->rule](Txn& txn) mutable -> absl::Status {
        v1::Rule before;
        bool is_new = req.rule().id() == 0;
        if (!is_new) {
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kRules, req.rule().id(), "rule", &before));
          if (req.rule().version() != 0 && req.rule().version() != before.version()) {
            return absl::AbortedError(absl::StrCat("rule ", before.id(), " changed meanwhile (version ",
                                                   before.version(), "); reload and retry"));
          }
        }
        std::string name_key = KeyWriter().Byte(kIdxRuleName).Str(rule.name()).Release();
        std::string owner;
        absl::Status got = txn.Get(Cf::kMonIndex, name_key, &owner);
        if (got.ok() && KeyReader(owner).U64().value_or(0) != before.id()) {
          return absl::AlreadyExistsError(absl::StrCat("a rule named \"", rule.name(), "\" exists"));
        }
        if (!got.ok() && !absl::IsNotFound(got)) return got;
        if (is_new) {
          STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("rule"));
          rule.set_id(id);
          rule.set_created_by(c.name());
        } else {
          rule.set_id(before.id());
          rule.set_created_by(before.created_by());
          if (before.name() != rule.name()) {
            txn.Delete(Cf::kMonIndex, KeyWriter().Byte(kIdxRuleName).Str(before.name()).Release());
          }
        }
        rule.set_version(before.version() + 1);
        rule.set_updated_at_ms(Now());
        txn.Put(Cf::kRules, RecordKey(rule.id()), rule.SerializeAsString());
        txn.Put(Cf::kMonIndex, name_key, KeyWriter().U64(rule.id()).key());
        *resp->mutable_rule() = rule;
        std::string target = absl::StrCat("rule/", rule.id());
        return AppendAudit(txn, c, Now(),
                           {.action = is_new ? "rule.create" : "rule.update", .target = target,
                            .before = is_new ? nullptr : &before, .after = &rule});
      },
      [this, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) s = ReloadRules();
        done(s);
      });
}

absl::Status Monitoring::ListRules(const Caller& c, const v1::ListRulesRequest&,
                                   v1::ListRulesResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListRules"));
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kRules, "", "", false, [&](absl::string_view, absl::string_view v) {
    if (!resp->add_rules()->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      bad = absl::DataLossError("a stored rule is unreadable");
      return false;
    }
    return true;
  }));
  return bad;
}

void Monitoring::DeleteRule(const Caller& c, const v1::DeleteRuleRequest& req, v1::DeleteRuleResponse*,
                            storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "DeleteRule");
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req](Txn& txn) -> absl::Status {
        v1::Rule before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kRules, req.id(), "rule", &before));
        txn.Delete(Cf::kRules, RecordKey(req.id()));
        txn.Delete(Cf::kMonIndex, KeyWriter().Byte(kIdxRuleName).Str(before.name()).Release());
        std::string target = absl::StrCat("rule/", req.id());
        return AppendAudit(txn, c, Now(),
                           {.action = "rule.delete", .target = target, .reason = req.reason(),
                            .before = &before});
      },
      [this, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) s = ReloadRules();
        done(s);
      });
}

// ----------------------------------------------------------------- metrics

namespace {

// Adds `points` to the stored minute and hour points, creating them.
absl::Status WriteRollups(Txn& txn, const std::vector<RollupPoint>& points) {
  for (const RollupPoint& p : points) {
    const int64_t hour = p.minute_start_ms - p.minute_start_ms % (3600 * 1000);
    for (auto [res, start] : {std::pair<uint8_t, int64_t>{kMinute, p.minute_start_ms}, {kHour, hour}}) {
      std::string key = MetricKey(res, p.type, p.realm_id, p.server_id, start);
      v1::MetricPoint m;
      std::string v;
      absl::Status got = txn.Get(Cf::kMetrics, key, &v);
      if (got.ok()) {
        if (!m.ParseFromString(v)) return absl::DataLossError("a metric point is unreadable");
      } else if (absl::IsNotFound(got)) {
        m.set_start_ms(start);
        m.set_realm_id(p.realm_id);
        m.set_server_id(p.server_id);
        m.set_type(p.type);
        txn.Put(Cf::kMonIndex, KeyWriter().Byte(kIdxMetricTime).Byte(res).I64(start).Raw(key).key(), "");
      } else {
        return got;
      }
      Merge(&m, p);
      txn.Put(Cf::kMetrics, key, m.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

}  // namespace

void Monitoring::OnRollup(std::vector<RollupPoint>&& points) {
  auto pts = std::make_shared<std::vector<RollupPoint>>(std::move(points));
  store_->Commit([pts](Txn& txn) { return WriteRollups(txn, *pts); },
                 [](absl::Status s) {
                   if (!s.ok()) LogWarning("metric roll-up not stored: ", s.ToString());
                 });
}

absl::Status Monitoring::SaveRollups() {
  std::vector<RollupPoint> all;
  pipeline_->TakeRollups([&](std::vector<RollupPoint>&& points) {
    std::move(points.begin(), points.end(), std::back_inserter(all));
  });
  if (all.empty()) return absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](Txn& txn) { return WriteRollups(txn, all); }));
  LogInfo("metric roll-ups not yet stored saved at stop: ", all.size(), " points");
  return absl::OkStatus();
}

absl::Status Monitoring::QueryMetrics(const Caller& c, const v1::QueryMetricsRequest& req,
                                      v1::QueryMetricsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "QueryMetrics"));
  STEWARD_RETURN_IF_ERROR(CheckId("type", req.type(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", req.server_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckEnum("resolution", req.resolution(), v1::Resolution_IsValid(req.resolution()), true));
  if (!req.server_id().empty() && req.realm_id().empty()) {
    return absl::InvalidArgumentError("server_id needs realm_id");
  }
  if (req.limit() < 0 || req.limit() > 10000) return absl::InvalidArgumentError("limit: 0 to 10000");
  const bool hours = req.resolution() == v1::RESOLUTION_HOUR;
  const uint8_t res = hours ? kHour : kMinute;
  const int64_t now = Now();
  const int64_t to = req.to_ms() != 0 ? req.to_ms() : now + 1;
  const int64_t from = req.from_ms() != 0 ? req.from_ms() : to - (hours ? 30LL * 24 * 3600 * 1000 : 24LL * 3600 * 1000);
  if (from >= to) return absl::InvalidArgumentError("from_ms must be before to_ms");
  const size_t limit = req.limit() == 0 ? 1000 : static_cast<size_t>(req.limit());
  KeyWriter w;
  w.Byte(res).Str(req.type());
  if (!req.realm_id().empty()) {
    w.Str(req.realm_id());
    if (!req.server_id().empty()) w.Str(req.server_id());
  }
  std::string prefix = w.Release();
  std::vector<v1::MetricPoint> out;
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kMetrics, prefix, storage::PrefixSuccessor(prefix), false,
                               [&](absl::string_view, absl::string_view v) {
                                 v1::MetricPoint m;
                                 if (!m.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                   bad = absl::DataLossError("a metric point is unreadable");
                                   return false;
                                 }
                                 if (m.start_ms() >= from && m.start_ms() < to) out.push_back(std::move(m));
                                 return out.size() < 100'000;
                               }));
  STEWARD_RETURN_IF_ERROR(bad);
  std::stable_sort(out.begin(), out.end(), [](const v1::MetricPoint& a, const v1::MetricPoint& b) {
    return a.start_ms() < b.start_ms();
  });
  for (auto& m : out) {
    if (static_cast<size_t>(resp->points_size()) >= limit) break;
    *resp->add_points() = std::move(m);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Monitoring::RunRetention() {
  int deleted = 0;
  const int64_t now = Now();
  for (auto [res, keep] : {std::pair<uint8_t, int64_t>{kMinute, options_.minute_retention_ms},
                           {kHour, options_.hour_retention_ms}}) {
    std::string prefix = KeyWriter().Byte(kIdxMetricTime).Byte(res).Release();
    std::string limit = KeyWriter().Byte(kIdxMetricTime).Byte(res).I64(now - keep).Release();
    std::vector<std::string> doomed;
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kMonIndex, prefix, limit, false, [&](absl::string_view k, absl::string_view) {
      doomed.emplace_back(k);
      return doomed.size() < 50'000;
    }));
    if (doomed.empty()) continue;
    const size_t skip = prefix.size() + 8;  // the index's I64(start)
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](Txn& txn) {
      for (const auto& k : doomed) {
        txn.Delete(Cf::kMetrics, absl::string_view(k).substr(skip));
        txn.Delete(Cf::kMonIndex, k);
      }
      return absl::OkStatus();
    }));
    deleted += static_cast<int>(doomed.size());
  }
  return deleted;
}

absl::Status Monitoring::Stats(const Caller& c, const v1::PipelineStatsRequest&,
                               v1::PipelineStats* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "GetPipelineStats"));
  PipelineCounters k = pipeline_->Counters();
  resp->set_accepted(k.accepted);
  resp->set_shed(k.shed);
  resp->set_late(k.late);
  resp->set_rejected_batches(rejected_batches_.load());
  resp->set_alerts_raised(alerts_raised_.load());
  resp->set_alerts_suppressed(alerts_suppressed_.load());
  resp->set_alerts_held(alerts_held_.load());
  resp->set_window_keys(k.keys);
  resp->set_memory_bytes(k.memory_bytes);
  resp->set_memory_limit_bytes(options_.pipeline.memory_limit_bytes);
  resp->set_queue_depth(k.queue_depth);
  resp->set_workers(options_.pipeline.workers);
  resp->set_keys_refused(k.keys_refused);
  resp->set_fire_latency_p50_ms(k.fire_latency_us.Quantile(0.5) / 1000.0);
  resp->set_fire_latency_p99_ms(k.fire_latency_us.Quantile(0.99) / 1000.0);
  return absl::OkStatus();
}

void Monitoring::AppendMetrics(MetricsText* out) const {
  PipelineCounters k = pipeline_->Counters();
  size_t rules = 0;
  {
    absl::MutexLock lock(&rules_mu_);
    rules = rules_.size();
  }
  using T = MetricsText::Type;
  auto one = [out](absl::string_view name, T type, absl::string_view help, uint64_t v) {
    out->Family(name, type, help);
    out->Sample(v);
  };
  one("steward_events_accepted_total", T::kCounter, "Events taken into the pipeline.", k.accepted);
  one("steward_events_shed_total", T::kCounter,
      "Events shed because the pipeline stayed full past the hold time.", k.shed);
  one("steward_events_late_total", T::kCounter,
      "Events older than the allowed lateness, counted but not windowed.", k.late);
  one("steward_event_batches_rejected_total", T::kCounter,
      "Event batches refused as malformed or over a limit (INVALID_ARGUMENT).", rejected_batches_.load());
  one("steward_alerts_raised_total", T::kCounter, "Alerts raised by rules.", alerts_raised_.load());
  one("steward_alerts_suppressed_total", T::kCounter,
      "Rule firings within cooldown or folded into an open alert.", alerts_suppressed_.load());
  one("steward_alerts_held_total", T::kCounter,
      "Rule firings held back by a rule's alert budget (storms).", alerts_held_.load());
  one("steward_rules", T::kGauge, "Monitoring rules stored (enabled or not).", rules);
  one("steward_window_keys", T::kGauge, "Live keys across all windows.", k.keys);
  one("steward_window_keys_refused_total", T::kCounter,
      "New window keys refused at the memory limit.", k.keys_refused);
  one("steward_window_memory_bytes", T::kGauge, "Estimated memory of window state.", k.memory_bytes);
  one("steward_window_memory_limit_bytes", T::kGauge, "Configured limit of window state.",
      static_cast<uint64_t>(options_.pipeline.memory_limit_bytes));
  one("steward_pipeline_queue_depth", T::kGauge, "Events waiting for a pipeline worker.", k.queue_depth);
  one("steward_pipeline_workers", T::kGauge, "Pipeline worker threads.",
      static_cast<uint64_t>(options_.pipeline.workers));
  out->Family("steward_window_checkpoint_slices_total", T::kCounter,
              "Tables of window state written by the rolling checkpoint, by outcome "
              "(skipped: the store was behind; the next cycle rewrites them).");
  out->Sample(checkpoints_->written.load(), {{"outcome", "written"}});
  out->Sample(checkpoints_->skipped.load(), {{"outcome", "skipped"}});
  out->Sample(checkpoints_->failed.load(), {{"outcome", "failed"}});
  out->Family("steward_alert_fire_latency_seconds", T::kHistogram,
              "Batch arrival to rule firing, for rules judged as events arrive.");
  out->Histogram(k.fire_latency_us, 1e6, 6, 24);  // 64 us .. 16.8 s
}

}  // namespace steward
