// Window state across restarts: each rule table saved as a slice (a rolling
// checkpoint, and at a graceful stop), and read back at start.
#include "services/monitoring/pipeline/pipeline_rep.h"

namespace steward {

int Pipeline::Rep::CellsOf(const CompiledRule& r) {
  return r.rule.kind() == v1::RULE_KIND_DISTINCT ? 0 : HasRing(r) ? r.panes : 1;
}

std::string Pipeline::Rep::SaveTable(const RuleState& rs, int table, int64_t now, size_t* keys) {
  const CompiledRule& r = *rs.rule;
  std::string chunk;
  PutRaw(&chunk, kStateMagic);
  PutRaw<int64_t>(&chunk, now);
  PutRaw<uint64_t>(&chunk, r.rule.id());
  PutRaw<uint64_t>(&chunk, rs.version);
  PutRaw<int32_t>(&chunk, r.panes);
  PutRaw<int32_t>(&chunk, r.rule.kind());
  const int cells = CellsOf(r);
  for (const auto& [key, ks] : rs.keys.shard(table)) {
    PutRaw(&chunk, key);
    PutRaw(&chunk, ks.newest);
    PutRaw(&chunk, ks.fired_pane);
    if (cells > 0) chunk.append(reinterpret_cast<const char*>(ks.cells(r.panes)), sizeof(Cell) * cells);
    PutRaw<uint8_t>(&chunk, ks.extra ? 1 : 0);
    if (ks.extra) {
      const KeyExtra& x = *ks.extra;
      PutRaw(&chunk, x.first);
      PutRaw(&chunk, x.last_seen_ms);
      PutRaw(&chunk, x.mean);
      PutRaw(&chunk, x.var);
      PutRaw(&chunk, x.windows);
      PutRaw<uint8_t>(&chunk, x.absent_fired ? 1 : 0);
      PutRaw<uint32_t>(&chunk, static_cast<uint32_t>(x.label.size()));
      chunk.append(x.label);
      x.distinct.Save(&chunk, r.panes);
    }
    ++*keys;
  }
  return chunk;
}

StateSlice Pipeline::Rep::Slice(const RuleState& rs, int table, size_t index, int64_t now, size_t* keys) const {
  StateSlice s;
  s.rule_id = rs.rule->rule.id();
  s.table = table;
  s.worker = static_cast<int>(index);
  s.workers = static_cast<int>(workers.size());
  s.bytes = SaveTable(rs, table, now, keys);
  return s;
}

void Pipeline::Rep::SaveWorker(size_t index, int64_t now, std::vector<StateSlice>* out, size_t* keys) const {
  for (const auto& [id, rs] : workers[index]->rules) {
    for (int t = 0; t < KeyTable::kShards; ++t) out->push_back(Slice(*rs, t, index, now, keys));
  }
}

void Pipeline::Rep::Checkpoint(size_t index, RuleState& rs, int64_t now) {
  const int64_t period = opt.checkpoint_period_ms;
  if (period <= 0 || !opt.checkpoint_sink) return;
  if (rs.checkpoint_start_ms == kNone || now < rs.checkpoint_start_ms) rs.checkpoint_start_ms = now;
  const int64_t elapsed = now - rs.checkpoint_start_ms;
  const double phase = std::fmod(static_cast<double>(rs.rule->rule.id()) * 0.6180339887 +
                                     static_cast<double>(index) / static_cast<double>(workers.size()),
                                 1.0);
  const int due = elapsed >= period
                      ? KeyTable::kShards
                      : std::min(KeyTable::kShards,
                                 static_cast<int>(static_cast<double>(elapsed) * KeyTable::kShards / period + phase));
  size_t keys = 0;
  for (; rs.next_checkpoint < due; ++rs.next_checkpoint) {
    opt.checkpoint_sink(Slice(rs, rs.next_checkpoint, index, now, &keys));
  }
  if (rs.next_checkpoint == KeyTable::kShards) {
    rs.next_checkpoint = 0;
    rs.checkpoint_start_ms = now;
  }
}

bool Pipeline::Rep::ReadHeader(StateReader& in, StateHeader* h) {
  uint32_t magic = 0;
  return in.Get(&magic) && magic == kStateMagic && in.Get(&h->saved_at) && in.Get(&h->rule_id) &&
         in.Get(&h->version) && in.Get(&h->panes) && in.Get(&h->kind);
}

const std::shared_ptr<const CompiledRule>* Pipeline::Rep::LiveRule(
    const StateHeader& h,
    const absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>>& live) {
  auto it = live.find(h.rule_id);
  if (it == live.end() || it->second->rule.version() != h.version || it->second->panes != h.panes ||
      it->second->rule.kind() != h.kind) {
    return nullptr;
  }
  return &it->second;
}

void Pipeline::Rep::RestoreWorker(Worker& w, size_t index, const std::vector<std::string>& chunks,
                   const absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>>& live,
                   int64_t now, RestoreCounts* counts) {
  const int64_t per_worker_limit = static_cast<int64_t>(opt.memory_limit_bytes / workers.size());
  for (const std::string& chunk : chunks) {
    StateReader in(chunk);
    StateHeader h;
    if (!ReadHeader(in, &h)) {
      ++counts->damaged;
      continue;
    }
    const std::shared_ptr<const CompiledRule>* live_rule = LiveRule(h, live);
    if (live_rule == nullptr) continue;  // the rule changed or went: its state starts afresh
    const CompiledRule& r = **live_rule;
    const int64_t saved_at = h.saved_at;
    RuleState& rs = *StateFor(w, *live_rule);
    if (r.checked_on_close) {  // windows that closed while down are not judged
      rs.last_closed = std::max(rs.last_closed, FloorDiv(now - opt.allowed_lateness_ms, r.pane_ms) - 1);
    }
    const int64_t down_ms = std::max<int64_t>(0, now - saved_at);
    const int cells = CellsOf(r);
    // Pane numbers within a million panes of now, or none: anything else
    // is damage (and would overflow the window arithmetic).
    const int64_t current = FloorDiv(now, r.pane_ms);
    auto sane = [current](int32_t pane) {
      return pane == kNoPane || std::abs(int64_t{pane} - current) <= (int64_t{1} << 20);
    };
    bool ok = true;
    while (ok && !in.done()) {
      uint64_t key = 0;
      int32_t newest = 0, fired = 0;
      absl::string_view cell_bytes;
      uint8_t has_extra = 0;
      ok = in.Get(&key) && in.Get(&newest) && in.Get(&fired) && sane(newest) && sane(fired) &&
           in.Bytes(sizeof(Cell) * cells, &cell_bytes) && in.Get(&has_extra) && has_extra <= 1;
      std::unique_ptr<KeyExtra> extra;
      if (ok && has_extra == 1) {
        extra = std::make_unique<KeyExtra>();
        uint8_t fired_flag = 0;
        uint32_t label_len = 0;
        absl::string_view label;
        ok = in.Get(&extra->first) && in.Get(&extra->last_seen_ms) && in.Get(&extra->mean) &&
             in.Get(&extra->var) && in.Get(&extra->windows) && in.Get(&fired_flag) &&
             in.Get(&label_len) && in.Bytes(label_len, &label) && extra->distinct.Load(in, r.panes) &&
             sane(extra->first);
        extra->absent_fired = fired_flag != 0;
        extra->label = std::string(label);
        extra->last_seen_ms += down_ms;
      }
      if (!ok) break;
      if (WorkerOf(key) != index || HasExtra(r) != (extra != nullptr)) continue;
      KeyTable::Map& table = rs.keys.ShardOf(key);
      if (table.contains(key)) continue;
      if (w.bytes_local > per_worker_limit) {
        ++counts->refused;
        continue;
      }
      const int64_t table_before = KeyTable::Bytes(table);
      KeyState& ks = table[key];
      w.bytes_local += KeyTable::Bytes(table) - table_before;
      ks.newest = newest;
      ks.fired_pane = fired;
      if (HasRing(r)) ks.ring = new Cell[static_cast<size_t>(r.panes)]();
      if (cells > 0) std::memcpy(ks.cells(r.panes), cell_bytes.data(), cell_bytes.size());
      ks.extra = std::move(extra);
      w.bytes_local += static_cast<int64_t>(KeyBytes(r));
      if (ks.extra) w.bytes_local += static_cast<int64_t>(ks.extra->distinct.Bytes(r.panes));
      ++w.keys_local;
      ++counts->restored;
    }
    if (!ok) ++counts->damaged;
  }
  w.keys.store(w.keys_local, std::memory_order_relaxed);
  w.bytes.store(w.bytes_local, std::memory_order_relaxed);
}

void Pipeline::TakeRollups(absl::FunctionRef<void(std::vector<RollupPoint>&&)> sink) {
  for (size_t i = 0; i < rep_->workers.size(); ++i) {
    rep_->RunOn(i, [&](size_t index) {
      Rep::Worker& w = *rep_->workers[index];
      std::vector<RollupPoint> out;
      out.reserve(w.rollups.size());
      for (auto& [key, point] : w.rollups) out.push_back(std::move(point));
      w.rollups.clear();
      if (!out.empty()) sink(std::move(out));
    });
  }
}

void Pipeline::Rep::RunOn(size_t i, std::function<void(size_t)> task) {
  std::promise<void> done;
  auto* c = new Chunk{};
  c->barrier = &done;
  c->task = std::move(task);
  workers[i]->queue.enqueue(c);
  done.get_future().wait();
}

}  // namespace steward
