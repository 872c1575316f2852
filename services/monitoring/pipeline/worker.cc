// Workers: each owns its keys' window state, lock-free, and turns work
// items into pane updates, firings and roll-ups; ticks judge closed
// windows and absence, and evict expired keys.
#include "services/monitoring/pipeline/pipeline_rep.h"

namespace steward {

void Pipeline::Rep::Run(size_t index) {
  Worker& w = *workers[index];
  const int64_t wait_us = std::max<int64_t>(1000, opt.tick_ms * 1000 / 2);
  while (true) {
    Chunk* c = nullptr;
    if (w.queue.wait_dequeue_timed(c, wait_us)) {
      if (c == nullptr) break;  // stop
      if (c->barrier != nullptr) {
        if (c->task) {
          c->task(index);
        } else {
          Tick(w, Now(), index);
        }
        c->barrier->set_value();
        delete c;
        continue;
      }
      Process(w, *c);
      w.depth.fetch_sub(static_cast<int64_t>(c->items.size()));
      delete c;
      ReleaseHeld(Now(), false);
    }
    int64_t now = Now();
    if (now - w.last_tick_ms >= opt.tick_ms) Tick(w, now, index);
  }
}

RuleState* Pipeline::Rep::StateFor(Worker& w, const std::shared_ptr<const CompiledRule>& r) {
  auto& slot = w.rules[r->rule.id()];
  if (slot == nullptr || slot->version != r->rule.version()) {
    if (slot != nullptr) DropState(w, *slot);
    slot = std::make_unique<RuleState>();
    slot->rule = r;
    slot->version = r->rule.version();
  }
  return slot.get();
}

void Pipeline::Rep::DropState(Worker& w, RuleState& rs) {
  w.bytes_local -= static_cast<int64_t>(rs.keys.size() * KeyBytes(*rs.rule)) + rs.keys.Bytes();
  w.keys_local -= rs.keys.size();
  rs.keys.ForEach([&](uint64_t, const KeyState& ks) {
    if (ks.extra) w.bytes_local -= static_cast<int64_t>(ks.extra->distinct.Bytes(rs.rule->panes));
  });
}

std::string Pipeline::Rep::Label(const CompiledRule& r, const EventBatchView& b, const EventView& e) {
  std::string out;
  for (const auto& d : r.group_by) {
    if (!out.empty()) out += ',';
    switch (d.kind) {
      case Dim::kRealm: out += "realm="; break;
      case Dim::kServer: out += "server="; break;
      case Dim::kType: out += "type="; break;
      case Dim::kPlayer: out += "player="; break;
      case Dim::kAttr: absl::StrAppend(&out, d.attr, "="); break;
    }
    absl::StrAppend(&out, DimValue(d, b, e));
  }
  return out;
}

void Pipeline::Rep::AddToPane(const CompiledRule& r, KeyState& ks, int64_t idx, double value) {
  const Agg agg = AggOf(r);
  const auto v = static_cast<float>(value);
  Cell* cells = ks.cells(r.panes);
  if (ks.newest != kNoPane && idx > ks.newest) {
    for (int64_t j = std::max<int64_t>(ks.newest + 1, idx - r.panes + 1); j <= idx; ++j) {
      cells[j % r.panes] = Cell{};
    }
  }
  Cell& c = cells[idx % r.panes];
  switch (agg) {
    case Agg::kSum: c.sum += value; break;
    case Agg::kCount: ++c.n.count; break;
    case Agg::kMin: c.n.extreme = c.n.count == 0 ? v : std::min(c.n.extreme, v); ++c.n.count; break;
    case Agg::kMax: c.n.extreme = c.n.count == 0 ? v : std::max(c.n.extreme, v); ++c.n.count; break;
  }
}

double Pipeline::Rep::WindowValue(const CompiledRule& r, const KeyState& ks, int64_t end) {
  const int64_t first = end - r.panes + 1;
  if (r.rule.kind() == v1::RULE_KIND_DISTINCT) return ks.extra->distinct.Count(end, r.panes);
  const Agg agg = AggOf(r);
  if (ks.newest == kNoPane) return 0;
  // The cells hold panes newest-panes+1 .. newest.
  const Cell* cells = ks.cells(r.panes);
  const int64_t lo = std::max<int64_t>(first, ks.newest - r.panes + 1);
  const int64_t hi = std::min<int64_t>(end, ks.newest);
  double total = 0;
  bool any = false;
  for (int64_t j = lo; j <= hi; ++j) {
    const Cell& c = cells[j % r.panes];
    switch (agg) {
      case Agg::kSum: total += c.sum; break;
      case Agg::kCount: total += c.n.count; break;
      case Agg::kMin:
      case Agg::kMax:
        if (c.n.count == 0) break;
        total = !any ? c.n.extreme
                : agg == Agg::kMin ? std::min<double>(total, c.n.extreme)
                                   : std::max<double>(total, c.n.extreme);
        any = true;
        break;
    }
  }
  return total;
}

KeyState* Pipeline::Rep::FindOrCreate(Worker& w, RuleState& rs, uint64_t key, bool* created) {
  *created = false;
  KeyTable::Map& table = rs.keys.ShardOf(key);
  auto it = table.find(key);
  if (it != table.end()) return &it->second;
  const int64_t per_worker_limit = static_cast<int64_t>(opt.memory_limit_bytes / workers.size());
  if (w.bytes_local > per_worker_limit) {
    keys_refused.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const int64_t table_before = KeyTable::Bytes(table);
  KeyState& ks = table[key];
  w.bytes_local += KeyTable::Bytes(table) - table_before;  // when the table grew
  const CompiledRule& r = *rs.rule;
  if (HasRing(r)) ks.ring = new Cell[static_cast<size_t>(r.panes)]();
  if (HasExtra(r)) ks.extra = std::make_unique<KeyExtra>();
  w.bytes_local += static_cast<int64_t>(KeyBytes(r));
  ++w.keys_local;
  *created = true;
  return &ks;
}

void Pipeline::Rep::Process(Worker& w, const Chunk& c) {
  const EventBatchView& b = *c.ctx->batch;
  std::vector<RuleState*> states(c.rules->rules.size(), nullptr);
  // Window maps hold millions of keys: nearly every lookup misses the
  // cache, so ask for the slots of items a few places ahead.
  constexpr size_t kAhead = 8;
  const size_t n = c.items.size();
  auto prefetch = [&](size_t j) {
    const Item& it = c.items[j];
    if (it.rule == kRollupRule) return;  // a few per batch
    RuleState*& rs = states[it.rule];
    if (rs == nullptr) rs = StateFor(w, c.rules->rules[it.rule]);
    rs->keys.ShardOf(it.key).prefetch(it.key);
  };
  for (size_t j = 0; j < std::min(kAhead, n); ++j) prefetch(j);
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) prefetch(i + kAhead);
    const Item& it = c.items[i];
    if (it.rule == kRollupRule) {
      AddRollup(w, b, c.ctx->rollups[it.event], it.key);
      continue;
    }
    const EventView& e = b.events(static_cast<int>(it.event));
    const int64_t t = c.ctx->times[it.event];
    RuleState*& rs = states[it.rule];
    if (rs == nullptr) rs = StateFor(w, c.rules->rules[it.rule]);
    const CompiledRule& r = *rs->rule;
    bool created = false;
    KeyState* ks = FindOrCreate(w, *rs, it.key, &created);
    if (ks == nullptr) continue;
    if (created && (r.checked_on_close || r.rule.kind() == v1::RULE_KIND_ABSENCE)) {
      ks->extra->label = Label(r, b, e);
    }
    if (r.rule.kind() == v1::RULE_KIND_ABSENCE) {
      ks->extra->last_seen_ms = std::max(ks->extra->last_seen_ms, Now());
      ks->extra->absent_fired = false;
      continue;
    }
    const int64_t idx = FloorDiv(t, r.pane_ms);
    if (ks->newest != kNoPane && idx <= ks->newest - r.panes) continue;  // before the window
    if (r.rule.kind() == v1::RULE_KIND_DISTINCT) {
      KeyExtra& x = *ks->extra;
      const size_t before = x.distinct.Bytes(r.panes);
      x.distinct.Add(idx, HashStr(DimValue(r.distinct_of, b, e)), r.panes);
      w.bytes_local += static_cast<int64_t>(x.distinct.Bytes(r.panes)) - static_cast<int64_t>(before);
    } else {
      AddToPane(r, *ks, idx, e.value());
    }
    if (idx > ks->newest) ks->newest = static_cast<int32_t>(idx);
    if (ks->extra && (ks->extra->first == kNoPane || idx < ks->extra->first)) {
      ks->extra->first = static_cast<int32_t>(idx);
    }
    if (r.checked_on_close) continue;
    const double value = WindowValue(r, *ks, ks->newest);
    const double bound = r.rule.threshold();
    // Evidence from keys nearing their bound, until they fire in this pane.
    if (value >= bound * 0.5 && ks->fired_pane != ks->newest) KeepSample(*rs, it.key, e, t);
    if (value >= bound && ks->fired_pane != ks->newest) {
      ks->fired_pane = ks->newest;
      Firing f;
      f.rule = rs->rule;
      f.key = Label(r, b, e);
      f.realm_id = std::string(b.realm_id());
      f.player_id = std::string(e.player_id());
      f.value = value;
      f.window_end_ms = (ks->newest + 1) * r.pane_ms;
      f.window_start_ms = f.window_end_ms - r.window_ms;
      f.trigger_time_ms = t;
      f.arrival_ns = c.ctx->arrival_ns;
      for (const Sample& s : rs->samples) {
        if (s.used && s.key == it.key && f.samples.size() < kMaxSamples) f.samples.push_back(s.event);
      }
      Fire(std::move(f));
    }
  }
  w.keys.store(w.keys_local, std::memory_order_relaxed);
  w.bytes.store(w.bytes_local, std::memory_order_relaxed);
}

void Pipeline::Rep::KeepSample(RuleState& rs, uint64_t key, const EventView& e, int64_t t) {
  Sample& s = rs.samples[rs.next_sample++ % kSampleRing];
  s.key = key;
  s.used = true;
  e.CopyTo(&s.event);
  s.event.set_time_ms(t);
}

void Pipeline::Rep::Fire(Firing&& f) {
  firings.fetch_add(1, std::memory_order_relaxed);
  if (f.arrival_ns != 0) {
    latency_us.Record(static_cast<uint64_t>(std::max<int64_t>(1, (SteadyNs() - f.arrival_ns) / 1000)));
  }
  on_fire(std::move(f));
}

void Pipeline::Rep::AddRollup(Worker& w, const EventBatchView& b, const PartialRollup& part, uint64_t key) {
  RollupKey k{key, part.minute};
  auto [it, fresh] = w.rollups.try_emplace(k);
  RollupPoint& p = it->second;
  if (fresh) {
    p.realm_id = std::string(b.realm_id());
    p.server_id = std::string(b.server_id());
    p.type = std::string(b.events(static_cast<int>(part.first_event)).type());
    p.minute_start_ms = k.minute * 60'000;
    p.min = part.min;
    p.max = part.max;
  } else {
    p.min = std::min(p.min, part.min);
    p.max = std::max(p.max, part.max);
  }
  p.count += part.count;
  p.sum += part.sum;
}

void Pipeline::Rep::FireFromTick(RuleState& rs, const KeyState& ks, double value, int64_t window_end) {
  Firing f;
  f.rule = rs.rule;
  f.key = ks.extra ? ks.extra->label : std::string();
  for (absl::string_view part : absl::StrSplit(f.key, ',')) {
    if (absl::ConsumePrefix(&part, "realm=")) f.realm_id = std::string(part);
    if (absl::ConsumePrefix(&part, "player=")) f.player_id = std::string(part);
  }
  f.value = value;
  f.window_end_ms = window_end;
  f.window_start_ms = window_end - rs.rule->window_ms;
  f.trigger_time_ms = window_end;
  Fire(std::move(f));
}

void Pipeline::Rep::Tick(Worker& w, int64_t now, size_t index) {
  w.last_tick_ms = now;
  if (index == 0) ReleaseHeld(now, false);
  // Roll-ups of minutes that can take no more events, and now and then
  // those of open minutes too, so a crash cannot take a minute's worth.
  std::vector<RollupPoint> out;
  if (w.last_rollup_flush_ms == 0) w.last_rollup_flush_ms = now;
  const bool flush_open = opt.rollup_flush_ms > 0 && now - w.last_rollup_flush_ms >= opt.rollup_flush_ms;
  if (flush_open) w.last_rollup_flush_ms = now;
  for (auto it = w.rollups.begin(); it != w.rollups.end();) {
    if (flush_open || it->second.minute_start_ms + 60'000 + opt.allowed_lateness_ms <= now) {
      out.push_back(std::move(it->second));
      w.rollups.erase(it++);
    } else {
      ++it;
    }
  }
  if (!out.empty()) on_rollup(std::move(out));

  auto set = CurrentRules();
  if (set->generation != w.generation) {
    w.generation = set->generation;
    absl::flat_hash_map<uint64_t, uint64_t> live;
    for (const auto& r : set->rules) live[r->rule.id()] = r->rule.version();
    for (auto it = w.rules.begin(); it != w.rules.end();) {
      auto l = live.find(it->first);
      if (l == live.end() || l->second != it->second->version) {
        DropState(w, *it->second);
        w.rules.erase(it++);
      } else {
        ++it;
      }
    }
  }
  // Absence is judged for rules even before any event reached them on
  // this worker, so make sure every absence rule has a state.
  for (auto& [id, rs_ptr] : w.rules) {
    RuleState& rs = *rs_ptr;
    const CompiledRule& r = *rs.rule;
    if (r.rule.kind() == v1::RULE_KIND_ABSENCE) {
      rs.keys.ForEach([&](uint64_t, KeyState& ks) {
        if (!ks.extra->absent_fired && now - ks.extra->last_seen_ms >= r.absence_ms) {
          ks.extra->absent_fired = true;
          FireFromTick(rs, ks, static_cast<double>(now - ks.extra->last_seen_ms) / 1000.0, now);
        }
      });
    } else if (r.checked_on_close) {
      const int64_t closed = FloorDiv(now - opt.allowed_lateness_ms, r.pane_ms) - 1;
      if (closed > rs.last_closed) {
        rs.last_closed = closed;
        JudgeClosed(rs, closed);
      }
    }
    Evict(w, rs, now);
    Checkpoint(index, rs, now);
  }
  w.keys.store(w.keys_local, std::memory_order_relaxed);
  w.bytes.store(w.bytes_local, std::memory_order_relaxed);
}

void Pipeline::Rep::JudgeClosed(RuleState& rs, int64_t closed) {
  const CompiledRule& r = *rs.rule;
  const int64_t end_ms = (closed + 1) * r.pane_ms;
  rs.keys.ForEach([&](uint64_t, KeyState& ks) {
    if (ks.newest == kNoPane || ks.extra->first > closed) return;  // not yet seen by then
    const double value = ks.newest < closed - r.panes + 1 ? 0 : WindowValue(r, ks, closed);
    if (r.rule.kind() == v1::RULE_KIND_RATE_OF_CHANGE) {
      // z-score of the closed window against the key's own history
      // (exponentially weighted), then fold the window into it.
      const double alpha = 2.0 / (r.rule.baseline_windows() + 1);
      if (ks.extra->windows >= static_cast<uint32_t>(r.rule.baseline_windows())) {
        const double sd = std::sqrt(std::max<double>(ks.extra->var, 1e-9));
        const double z = (value - ks.extra->mean) / std::max(sd, 1.0);
        if (std::fabs(z) >= r.rule.threshold()) FireFromTick(rs, ks, z, end_ms);
      }
      if (ks.extra->windows == 0) {
        ks.extra->mean = static_cast<float>(value);
      } else {
        const double diff = value - ks.extra->mean;
        ks.extra->mean = static_cast<float>(ks.extra->mean + alpha * diff);
        ks.extra->var = static_cast<float>((1 - alpha) * (ks.extra->var + alpha * diff * diff));
      }
      ++ks.extra->windows;
    } else if (value < r.rule.threshold()) {  // BELOW
      FireFromTick(rs, ks, value, end_ms);
    }
  });
}

void Pipeline::Rep::Evict(Worker& w, RuleState& rs, int64_t now) {
  const CompiledRule& r = *rs.rule;
  const int64_t period = std::max<int64_t>(1000, r.pane_ms);
  if (now < rs.sweep_start_ms) rs.sweep_start_ms = now;  // the clock stepped back
  const int64_t elapsed = now - rs.sweep_start_ms;
  const int due = elapsed >= period ? KeyTable::kShards
                                    : static_cast<int>(elapsed * KeyTable::kShards / period);
  if (rs.next_shard >= due) return;
  const int64_t current = FloorDiv(now - opt.allowed_lateness_ms, r.pane_ms);
  int64_t keep_panes = r.panes;
  if (r.rule.kind() == v1::RULE_KIND_RATE_OF_CHANGE) keep_panes = 3LL * r.rule.baseline_windows();
  const size_t per_key = KeyBytes(r);
  for (; rs.next_shard < due; ++rs.next_shard) {
    KeyTable::Map& table = rs.keys.shard(rs.next_shard);
    for (auto it = table.begin(); it != table.end();) {
      const KeyState& ks = it->second;
      bool expired = r.rule.kind() == v1::RULE_KIND_ABSENCE
                         ? ks.extra->absent_fired && now - ks.extra->last_seen_ms > 24LL * 3600 * 1000
                         : ks.newest != kNoPane && ks.newest < current - keep_panes;
      if (expired) {
        w.bytes_local -= static_cast<int64_t>(per_key);
        if (ks.extra) w.bytes_local -= static_cast<int64_t>(ks.extra->distinct.Bytes(r.panes));
        --w.keys_local;
        FreeRing(r, it->second);
        table.erase(it++);
      } else {
        ++it;
      }
    }
    // Give back a table's memory once it is under a quarter full:
    // rehash(0) shrinks it to fit (an empty one is freed). A shrunk table
    // may soon grow again, but a table is shrunk at most once a sweep.
    if (table.size() * 4 < table.capacity()) {
      const int64_t table_before = KeyTable::Bytes(table);
      table.rehash(0);
      w.bytes_local -= table_before - KeyTable::Bytes(table);
    }
  }
  if (rs.next_shard == KeyTable::kShards) {  // a sweep ends; the next begins now
    rs.next_shard = 0;
    rs.sweep_start_ms = now;
  }
}

}  // namespace steward
