// Ingest: a batch is routed, rule by rule and key by key, into work items
// for the workers that own the keys; a full queue holds it, then sheds it.
#include "services/monitoring/pipeline/pipeline_rep.h"

namespace steward {

absl::string_view Pipeline::Rep::AttrOf(const EventView& e, absl::string_view name) {
  for (const auto& a : e.attributes()) {
    if (a.key() == name) return a.value();
  }
  return {};
}

absl::string_view Pipeline::Rep::DimValue(const Dim& d, const EventBatchView& b, const EventView& e) {
  switch (d.kind) {
    case Dim::kRealm: return b.realm_id();
    case Dim::kServer: return b.server_id();
    case Dim::kType: return e.type();
    case Dim::kPlayer: return e.player_id();
    case Dim::kAttr: return AttrOf(e, d.attr);
  }
  return {};
}

uint64_t Pipeline::Rep::KeyHash(const CompiledRule& r, const EventBatchView& b, const EventView& e,
                        uint64_t realm_h, uint64_t server_h, uint64_t type_h, uint64_t* player_h) {
  uint64_t h = r.rule.id() * 0x94d049bb133111ebULL + 1;
  for (const auto& d : r.group_by) {
    uint64_t v;
    switch (d.kind) {
      case Dim::kRealm: v = realm_h; break;
      case Dim::kServer: v = server_h; break;
      case Dim::kType: v = type_h; break;
      case Dim::kPlayer:
        if (*player_h == 0) *player_h = HashStr(e.player_id()) | 1;
        v = *player_h;
        break;
      default: v = HashStr(DimValue(d, b, e)); break;
    }
    h = Mix(h, v);
  }
  return h;
}

bool Pipeline::Rep::Matches(const CompiledRule& r, const EventView& e) {
  for (const auto& [k, v] : r.attribute_equals) {
    if (AttrOf(e, k) != v) return false;
  }
  return true;
}

void Pipeline::Rep::Submit(std::shared_ptr<const EventBatchView> batch, DoneFn done, bool absence_only) {
  const int64_t now = Now();
  auto ctx = std::make_shared<BatchCtx>();
  ctx->arrival_ns = SteadyNs();
  const EventBatchView& b = *batch;
  ctx->batch = std::move(batch);
  auto set = CurrentRules();
  const size_t n = workers.size();
  std::vector<Chunk*> chunks(n, nullptr);
  auto push = [&](uint64_t key, uint32_t ev, uint16_t rule) {
    size_t w = WorkerOf(key);
    if (chunks[w] == nullptr) {
      chunks[w] = new Chunk{ctx, set, {}, nullptr, {}};
      chunks[w]->items.reserve(b.events_size() * 2 / n + 8);
    }
    chunks[w]->items.push_back({key, ev, rule});
  };
  IngestResult result;
  ctx->times.resize(b.events_size());
  const uint64_t realm_h = HashStr(b.realm_id());
  const uint64_t server_h = HashStr(b.server_id());
  const uint64_t place_h = Mix(realm_h, server_h);
  std::vector<uint16_t> matched;  // pattern rules matching the current event
  for (int i = 0; i < b.events_size(); ++i) {
    const EventView& e = b.events(i);
    int64_t t = e.time_ms() == 0 ? now : e.time_ms();
    if (t < now - opt.allowed_lateness_ms) {
      ++result.late;
      continue;
    }
    if (t > now + opt.allowed_lateness_ms) t = now;  // a skewed server clock
    ctx->times[i] = t;
    if (!absence_only) ++result.accepted;
    const uint64_t type_h = HashStr(e.type());
    uint64_t player_h = 0;
    if (!absence_only) {
      AddPartial(ctx->rollups, type_h, FloorDiv(t, 60'000), static_cast<uint32_t>(i), e.value());
    }
    auto visit = [&](const RuleGroup& g) {
      // Pattern rules see only the events whose text they match (one
      // scan for all of them), so the others never reach a worker.
      // Cleared per group, so no group sees another group's matches.
      matched.clear();
      if (g.patterns != nullptr && !absence_only) g.MatchPatterns(e.text(), &matched);
      for (uint16_t idx : g.rules) {
        const CompiledRule& r = *set->rules[idx];
        if (absence_only && r.rule.kind() != v1::RULE_KIND_ABSENCE) continue;
        if (r.pattern != nullptr && std::find(matched.begin(), matched.end(), idx) == matched.end()) {
          continue;
        }
        if (!Matches(r, e)) continue;
        push(KeyHash(r, b, e, realm_h, server_h, type_h, &player_h), static_cast<uint32_t>(i), idx);
      }
    };
    if (auto it = set->by_type.find(type_h); it != set->by_type.end()) visit(it->second);
    visit(set->any_type);
  }
  for (size_t k = 0; k < ctx->rollups.size(); ++k) {
    push(Mix(place_h, ctx->rollups[k].type_h), static_cast<uint32_t>(k), kRollupRule);
  }
  if (result.late > 0) {
    result.detail = absl::StrCat(result.late, " events older than the allowed lateness of ",
                                 opt.allowed_lateness_ms, " ms were not counted");
  }
  late.fetch_add(result.late, std::memory_order_relaxed);
  Held h{std::move(chunks), std::move(result), std::move(done), now + opt.max_hold_ms};
  {
    absl::MutexLock l(&held_mu);
    if (held.empty() && Fits(h.chunks)) {
      Enqueue(h.chunks);
    } else {
      held.push_back(std::move(h));
      held_count.fetch_add(1);
      return;
    }
  }
  accepted.fetch_add(h.result.accepted, std::memory_order_relaxed);
  h.done(std::move(h.result));
}

void Pipeline::Rep::AddPartial(std::vector<PartialRollup>& parts, uint64_t type_h, int64_t minute,
                       uint32_t event, double v) {
  for (auto& p : parts) {  // a batch carries a handful of types
    if (p.type_h == type_h && p.minute == minute) {
      ++p.count;
      p.sum += v;
      p.min = std::min(p.min, v);
      p.max = std::max(p.max, v);
      return;
    }
  }
  parts.push_back({type_h, minute, event, 1, v, v, v});
}

bool Pipeline::Rep::Fits(const std::vector<Chunk*>& chunks) const {
  for (size_t w = 0; w < chunks.size(); ++w) {
    if (chunks[w] == nullptr) continue;
    int64_t d = workers[w]->depth.load(std::memory_order_relaxed);
    // An empty queue takes any batch, so one larger than the capacity
    // still gets through.
    if (d > 0 && d + static_cast<int64_t>(chunks[w]->items.size()) >
                     static_cast<int64_t>(opt.queue_capacity)) {
      return false;
    }
  }
  return true;
}

void Pipeline::Rep::Enqueue(std::vector<Chunk*>& chunks) {
  for (size_t w = 0; w < chunks.size(); ++w) {
    if (chunks[w] == nullptr) continue;
    workers[w]->depth.fetch_add(static_cast<int64_t>(chunks[w]->items.size()));
    workers[w]->queue.enqueue(chunks[w]);
    chunks[w] = nullptr;
  }
}

void Pipeline::Rep::ReleaseHeld(int64_t now, bool shed_all) {
  if (held_count.load() == 0) return;
  std::vector<Held> finished;
  {
    absl::MutexLock l(&held_mu);
    while (!held.empty()) {
      Held& h = held.front();
      if (!shed_all && Fits(h.chunks)) {
        Enqueue(h.chunks);
        accepted.fetch_add(h.result.accepted, std::memory_order_relaxed);
      } else if (shed_all || now >= h.deadline_ms) {
        for (Chunk* c : h.chunks) delete c;
        h.result.shed += h.result.accepted;
        h.result.accepted = 0;
        h.result.detail = absl::StrCat(shed_all ? "the pipeline is shutting down"
                                                : "the pipeline stayed full for ",
                                       shed_all ? "" : absl::StrCat(opt.max_hold_ms, " ms"),
                                       "; the batch was shed");
        shed.fetch_add(h.result.shed, std::memory_order_relaxed);
      } else {
        break;
      }
      finished.push_back(std::move(h));
      held.pop_front();
      held_count.fetch_sub(1);
    }
  }
  for (Held& h : finished) h.done(std::move(h.result));
}

}  // namespace steward
