#include "services/monitoring/pipeline/pipeline.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <thread>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace steward {
namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
// Pane indexes are stored in 32 bits: panes are a second or longer, so
// Unix time / pane fits until 2038 at the shortest (and keys are 4 bytes
// smaller per field, across millions of keys).
constexpr int32_t kNoPane = std::numeric_limits<int32_t>::min();
constexpr uint16_t kRollupRule = 0xFFFF;
constexpr size_t kMaxSamples = 5;
constexpr size_t kSampleRing = 32;
constexpr size_t kExactDistinct = 64;  // values kept exactly before a sketch
constexpr int kHllBits = 10;           // 1,024 registers: about 3% error
constexpr size_t kHllRegs = size_t{1} << kHllBits;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

uint64_t Mix(uint64_t h, uint64_t v) {
  // One round of a 64-bit mixer; good enough to spread combined hashes.
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xbf58476d1ce4e5b9ULL;
}

// The saved-state format (Pipeline::SaveState) is read back by the same
// build on the same machine, so values go in native byte order.
template <typename T>
void PutRaw(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Reads saved state, refusing to run past its end.
class StateReader {
 public:
  explicit StateReader(absl::string_view s) : rest_(s) {}
  template <typename T>
  bool Get(T* v) {
    if (rest_.size() < sizeof(T)) return false;
    std::memcpy(v, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(size_t n, absl::string_view* v) {
    if (rest_.size() < n) return false;
    *v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

// Distinct values of one key over its window: (pane, fingerprint) pairs
// while few (most keys see one or two values), then one HyperLogLog per
// pane. Pane indexes fit 32 bits for panes of a second or more.
class DistinctWindow {
 public:
  void Add(int64_t pane, uint64_t hash, int panes) {
    const uint32_t fp = static_cast<uint32_t>(hash >> 32) ^ static_cast<uint32_t>(hash);
    const auto p = static_cast<uint32_t>(pane);
    if (hll_) {
      const size_t slot = p % static_cast<uint32_t>(panes);
      if (hll_pane_[slot] > p) return;  // that pane has left the window
      AddHll(SketchFor(p, panes), Spread(fp));
      return;
    }
    const uint64_t entry = (uint64_t{p} << 32) | fp;
    if (std::find(exact_.begin(), exact_.end(), entry) != exact_.end()) return;
    // Drop what has left the window before growing.
    const uint32_t oldest = p >= static_cast<uint32_t>(panes) ? p - panes + 1 : 0;
    exact_.erase(std::remove_if(exact_.begin(), exact_.end(),
                                [oldest](uint64_t e) { return (e >> 32) < oldest; }),
                 exact_.end());
    exact_.push_back(entry);
    if (exact_.size() > kExactDistinct) {
      hll_ = std::make_unique<uint8_t[]>(kHllRegs * panes);
      std::fill_n(hll_.get(), kHllRegs * panes, 0);
      hll_pane_ = std::make_unique<uint32_t[]>(panes);
      std::fill_n(hll_pane_.get(), panes, 0);
      for (uint64_t e : exact_) AddHll(SketchFor(static_cast<uint32_t>(e >> 32), panes), Spread(static_cast<uint32_t>(e)));
      std::vector<uint64_t>().swap(exact_);
    }
  }

  // Distinct values in the window ending at pane `end`.
  double Count(int64_t end, int panes) const {
    const auto last = static_cast<uint32_t>(end);
    const uint32_t first = last >= static_cast<uint32_t>(panes) ? last - panes + 1 : 0;
    if (!hll_) {
      std::vector<uint32_t> fps;
      for (uint64_t e : exact_) {
        auto p = static_cast<uint32_t>(e >> 32);
        if (p >= first && p <= last) fps.push_back(static_cast<uint32_t>(e));
      }
      std::sort(fps.begin(), fps.end());
      return static_cast<double>(std::unique(fps.begin(), fps.end()) - fps.begin());
    }
    std::array<uint8_t, kHllRegs> regs{};
    for (int i = 0; i < panes; ++i) {
      if (hll_pane_[i] < first || hll_pane_[i] > last) continue;
      const uint8_t* r = hll_.get() + kHllRegs * i;
      for (size_t j = 0; j < kHllRegs; ++j) regs[j] = std::max(regs[j], r[j]);
    }
    double sum = 0;
    int zeros = 0;
    for (uint8_t r : regs) {
      sum += std::ldexp(1.0, -r);
      zeros += r == 0;
    }
    const double m = kHllRegs;
    double est = (0.7213 / (1 + 1.079 / m)) * m * m / sum;
    if (est <= 2.5 * m && zeros > 0) est = m * std::log(m / zeros);  // small-range correction
    return std::round(est);
  }

  size_t Bytes(int panes) const {
    return hll_ ? (kHllRegs + sizeof(uint32_t)) * panes : exact_.capacity() * sizeof(uint64_t);
  }

  void Save(std::string* out, int panes) const {
    PutRaw<uint8_t>(out, hll_ ? 1 : 0);
    if (hll_) {
      out->append(reinterpret_cast<const char*>(hll_.get()), kHllRegs * panes);
      out->append(reinterpret_cast<const char*>(hll_pane_.get()), sizeof(uint32_t) * panes);
    } else {
      PutRaw<uint32_t>(out, static_cast<uint32_t>(exact_.size()));
      out->append(reinterpret_cast<const char*>(exact_.data()), sizeof(uint64_t) * exact_.size());
    }
  }
  bool Load(StateReader& in, int panes) {
    uint8_t mode = 0;
    absl::string_view a, b;
    if (!in.Get(&mode)) return false;
    if (mode == 1) {
      if (!in.Bytes(kHllRegs * panes, &a) || !in.Bytes(sizeof(uint32_t) * panes, &b)) return false;
      hll_ = std::make_unique<uint8_t[]>(kHllRegs * panes);
      std::memcpy(hll_.get(), a.data(), a.size());
      hll_pane_ = std::make_unique<uint32_t[]>(panes);
      std::memcpy(hll_pane_.get(), b.data(), b.size());
      return true;
    }
    uint32_t n = 0;
    if (mode != 0 || !in.Get(&n) || n > kExactDistinct || !in.Bytes(sizeof(uint64_t) * n, &a)) return false;
    exact_.resize(n);
    std::memcpy(exact_.data(), a.data(), a.size());
    return true;
  }

 private:
  uint8_t* SketchFor(uint32_t pane, int panes) {
    const size_t slot = pane % static_cast<uint32_t>(panes);
    uint8_t* regs = hll_.get() + kHllRegs * slot;
    if (hll_pane_[slot] != pane) {  // a new pane reuses the slot
      std::fill_n(regs, kHllRegs, 0);
      hll_pane_[slot] = pane;
    }
    return regs;
  }
  // 64 well-mixed bits from a fingerprint, for the sketch.
  static uint64_t Spread(uint32_t fp) {
    uint64_t z = fp + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  static void AddHll(uint8_t* regs, uint64_t h) {
    size_t idx = h >> (64 - kHllBits);
    uint64_t rest = (h << kHllBits) | (uint64_t{1} << (kHllBits - 1));
    auto rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    regs[idx] = std::max(regs[idx], rank);
  }
  std::vector<uint64_t> exact_;
  std::unique_ptr<uint8_t[]> hll_;        // panes x kHllRegs
  std::unique_ptr<uint32_t[]> hll_pane_;  // the pane each sketch slot holds
};

// Per key, as small as it can be: most keys belong to per-player rules
// with one pane, and a game has millions of players.
struct KeyExtra {  // distinct, tick-judged and absence rules only
  DistinctWindow distinct;
  std::string label;
  int32_t first = kNoPane;   // pane of the key's first event
  int64_t last_seen_ms = 0;  // ABSENCE
  float mean = 0, var = 0;   // RATE_OF_CHANGE baseline
  uint32_t windows = 0;
  bool absent_fired = false;
};

// One pane of a key's window holds the rule's own aggregate and nothing
// else: a sum, or a count with the pane's min or max. Which pane a cell
// holds follows from the key's newest pane (cells are cleared as it
// advances), so a ring of six panes is 48 bytes where full panes took 144.
union Cell {
  double sum;  // AGGREGATE_SUM
  struct {
    uint32_t count;  // COUNT and pattern rules: the count; MIN/MAX: 0 if empty
    float extreme;   // MIN/MAX: the pane's min or max
  } n;
};
static_assert(sizeof(Cell) == 8, "a cell is one word");

// 24 bytes, a 32-byte slot with its key: a rule of one pane keeps its cell
// inline; a rule of more keeps a ring of cells in its place.
struct KeyState {
  KeyState() : one() {}
  Cell* cells(int panes) { return panes == 1 ? &one : ring; }
  const Cell* cells(int panes) const { return panes == 1 ? &one : ring; }
  int32_t newest = kNoPane;      // newest pane index seen
  int32_t fired_pane = kNoPane;  // the pane an arrival firing last happened in
  union {
    Cell one;    // panes == 1
    Cell* ring;  // panes > 1 (not DISTINCT): new[]'d by FindOrCreate, freed by FreeRing
  };
  std::unique_ptr<KeyExtra> extra;
};

static_assert(sizeof(KeyState) == 24, "per-key state is counted per million keys");

bool HasRing(const CompiledRule& r) { return r.panes > 1 && r.rule.kind() != v1::RULE_KIND_DISTINCT; }
// Keys of distinct, tick-judged and absence rules keep a KeyExtra.
bool HasExtra(const CompiledRule& r) {
  return r.rule.kind() == v1::RULE_KIND_DISTINCT || r.checked_on_close || r.rule.kind() == v1::RULE_KIND_ABSENCE;
}
void FreeRing(const CompiledRule& r, KeyState& ks) {
  if (HasRing(r)) delete[] ks.ring;
}

// One rule's window keys on one worker, split by the key's top bits into
// 64 hash tables. Growing a table rehashes a 64th of the keys, and the
// eviction sweep visits one table at a time, so neither holds the worker
// (and the alerts behind it) for long when a rule has millions of keys.
class KeyTable {
 public:
  static constexpr int kShards = 64;
  using Map = absl::flat_hash_map<uint64_t, KeyState>;
  // What one slot of a table costs, used or not: the key, its state and
  // the control byte. Tables run between 7/16 and 7/8 full, so memory is
  // counted by capacity, not by the number of keys.
  static constexpr size_t kSlotBytes = sizeof(Map::value_type) + 1;
  static int64_t Bytes(const Map& m) { return static_cast<int64_t>(m.capacity() * kSlotBytes); }
  Map& ShardOf(uint64_t key) { return shards_[key >> 58]; }
  Map& shard(int i) { return shards_[static_cast<size_t>(i)]; }
  const Map& shard(int i) const { return shards_[static_cast<size_t>(i)]; }
  size_t size() const {
    size_t n = 0;
    for (const Map& m : shards_) n += m.size();
    return n;
  }
  int64_t Bytes() const {
    int64_t b = 0;
    for (const Map& m : shards_) b += Bytes(m);
    return b;
  }
  template <typename F>
  void ForEach(F&& f) {
    for (Map& m : shards_) {
      for (auto& [key, ks] : m) f(key, ks);
    }
  }

 private:
  std::array<Map, kShards> shards_;
};

struct Sample {
  uint64_t key = 0;
  bool used = false;
  v1::Event event;
};

struct RuleState {
  RuleState() = default;
  RuleState(const RuleState&) = delete;
  RuleState& operator=(const RuleState&) = delete;
  ~RuleState() {
    if (rule != nullptr && HasRing(*rule)) keys.ForEach([&](uint64_t, KeyState& ks) { FreeRing(*rule, ks); });
  }
  std::shared_ptr<const CompiledRule> rule;
  uint64_t version = 0;
  KeyTable keys;
  int64_t last_closed = kNone;
  int64_t sweep_start_ms = 0;  // when the current eviction sweep began
  int next_shard = 0;          // the next table it visits
  int64_t checkpoint_start_ms = kNone;  // when the current checkpoint cycle began
  int next_checkpoint = 0;              // the next table it checkpoints
  std::array<Sample, kSampleRing> samples;
  size_t next_sample = 0;
};

struct RollupKey {
  uint64_t hash;
  int64_t minute;
  bool operator==(const RollupKey& o) const { return hash == o.hash && minute == o.minute; }
  template <typename H>
  friend H AbslHashValue(H h, const RollupKey& k) {
    return H::combine(std::move(h), k.hash, k.minute);
  }
};

// A batch's events of one type and minute, summed on the ingest thread
// (a batch comes from one server, so this is a whole roll-up key).
struct PartialRollup {
  uint64_t type_h;
  int64_t minute;
  uint32_t first_event;  // for the type's name
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
};

struct BatchCtx {
  std::shared_ptr<const EventBatchView> batch;
  std::vector<int64_t> times;  // effective event times
  std::vector<PartialRollup> rollups;
  int64_t arrival_ns = 0;
};

struct Item {
  uint64_t key;
  uint32_t event;
  uint16_t rule;  // index in the chunk's rule set, or kRollupRule
};

struct Chunk {
  std::shared_ptr<const BatchCtx> ctx;
  std::shared_ptr<const RuleSet> rules;
  std::vector<Item> items;
  // With a barrier and no items: run `task` on the worker (a tick when
  // empty), then set the barrier.
  std::promise<void>* barrier = nullptr;
  std::function<void(size_t worker)> task;
};

struct Held {
  std::vector<Chunk*> chunks;  // by worker; null where nothing goes
  IngestResult result;
  Pipeline::DoneFn done;
  int64_t deadline_ms;
};

// What the allocator takes for a block of n bytes (glibc: an 8-byte
// header, 16-byte steps, 32 bytes at least).
size_t HeapBytes(size_t n) { return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15}); }

// Which number a rule's panes keep.
enum class Agg { kCount, kSum, kMin, kMax };
Agg AggOf(const CompiledRule& r) {
  if (r.rule.kind() == v1::RULE_KIND_PATTERN) return Agg::kCount;
  switch (r.rule.aggregate()) {
    case v1::AGGREGATE_SUM: return Agg::kSum;
    case v1::AGGREGATE_MIN: return Agg::kMin;
    case v1::AGGREGATE_MAX: return Agg::kMax;
    default: return Agg::kCount;
  }
}

// Per-key memory beyond the table slot: the pane ring and the extra block.
size_t KeyBytes(const CompiledRule& r) {
  size_t b = 0;
  if (HasRing(r)) b += HeapBytes(r.panes * sizeof(Cell));
  if (HasExtra(r)) {
    b += sizeof(KeyExtra) + 32;  // and the label's characters, roughly
  }
  return b;
}

}  // namespace

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

  // ---------------------------------------------------------------- ingest

  static absl::string_view AttrOf(const EventView& e, absl::string_view name) {
    for (const auto& a : e.attributes()) {
      if (a.key() == name) return a.value();
    }
    return {};
  }

  static absl::string_view DimValue(const Dim& d, const EventBatchView& b, const EventView& e) {
    switch (d.kind) {
      case Dim::kRealm: return b.realm_id();
      case Dim::kServer: return b.server_id();
      case Dim::kType: return e.type();
      case Dim::kPlayer: return e.player_id();
      case Dim::kAttr: return AttrOf(e, d.attr);
    }
    return {};
  }

  // `player_h` is computed on first use and kept for the event's other rules.
  static uint64_t KeyHash(const CompiledRule& r, const EventBatchView& b, const EventView& e,
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

  static bool Matches(const CompiledRule& r, const EventView& e) {
    for (const auto& [k, v] : r.attribute_equals) {
      if (AttrOf(e, k) != v) return false;
    }
    return true;
  }

  void Submit(std::shared_ptr<const EventBatchView> batch, DoneFn done, bool absence_only = false) {
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

  static void AddPartial(std::vector<PartialRollup>& parts, uint64_t type_h, int64_t minute,
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

  bool Fits(const std::vector<Chunk*>& chunks) const {
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

  void Enqueue(std::vector<Chunk*>& chunks) {
    for (size_t w = 0; w < chunks.size(); ++w) {
      if (chunks[w] == nullptr) continue;
      workers[w]->depth.fetch_add(static_cast<int64_t>(chunks[w]->items.size()));
      workers[w]->queue.enqueue(chunks[w]);
      chunks[w] = nullptr;
    }
  }

  // Moves held batches into the queues while they fit; sheds those that
  // waited too long. Callbacks run outside the lock.
  void ReleaseHeld(int64_t now, bool shed_all) {
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

  // ---------------------------------------------------------------- workers

  void Run(size_t index) {
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

  RuleState* StateFor(Worker& w, const std::shared_ptr<const CompiledRule>& r) {
    auto& slot = w.rules[r->rule.id()];
    if (slot == nullptr || slot->version != r->rule.version()) {
      if (slot != nullptr) DropState(w, *slot);
      slot = std::make_unique<RuleState>();
      slot->rule = r;
      slot->version = r->rule.version();
    }
    return slot.get();
  }

  void DropState(Worker& w, RuleState& rs) {
    w.bytes_local -= static_cast<int64_t>(rs.keys.size() * KeyBytes(*rs.rule)) + rs.keys.Bytes();
    w.keys_local -= rs.keys.size();
    rs.keys.ForEach([&](uint64_t, const KeyState& ks) {
      if (ks.extra) w.bytes_local -= static_cast<int64_t>(ks.extra->distinct.Bytes(rs.rule->panes));
    });
  }

  static std::string Label(const CompiledRule& r, const EventBatchView& b, const EventView& e) {
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

  // Adds one event's value to pane `idx` of a key, `idx` being inside the
  // key's window. The cells of panes past the key's newest are cleared on
  // the way, as they still hold panes that have left the window.
  static void AddToPane(const CompiledRule& r, KeyState& ks, int64_t idx, double value) {
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

  // The rule's aggregate over the window ending at pane `end`.
  static double WindowValue(const CompiledRule& r, const KeyState& ks, int64_t end) {
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

  KeyState* FindOrCreate(Worker& w, RuleState& rs, uint64_t key, bool* created) {
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

  void Process(Worker& w, const Chunk& c) {
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

  // Evidence is stored with its alert: the fields this build knows (the
  // parse skipped any others), with the time the window counted it at.
  static void KeepSample(RuleState& rs, uint64_t key, const EventView& e, int64_t t) {
    Sample& s = rs.samples[rs.next_sample++ % kSampleRing];
    s.key = key;
    s.used = true;
    e.CopyTo(&s.event);
    s.event.set_time_ms(t);
  }

  void Fire(Firing&& f) {
    firings.fetch_add(1, std::memory_order_relaxed);
    if (f.arrival_ns != 0) {
      latency_us.Record(static_cast<uint64_t>(std::max<int64_t>(1, (SteadyNs() - f.arrival_ns) / 1000)));
    }
    on_fire(std::move(f));
  }

  void AddRollup(Worker& w, const EventBatchView& b, const PartialRollup& part, uint64_t key) {
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

  // Fires a rule judged on the tick for a key that keeps its label.
  void FireFromTick(RuleState& rs, const KeyState& ks, double value, int64_t window_end) {
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

  void Tick(Worker& w, int64_t now, size_t index) {
    w.last_tick_ms = now;
    if (index == 0) ReleaseHeld(now, false);
    // Roll-ups of minutes that can take no more events.
    std::vector<RollupPoint> out;
    for (auto it = w.rollups.begin(); it != w.rollups.end();) {
      if (it->second.minute_start_ms + 60'000 + opt.allowed_lateness_ms <= now) {
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

  void JudgeClosed(RuleState& rs, int64_t closed) {
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

  // Drops keys whose window has passed. Every table is swept once per
  // pane (at least a second), spread over the ticks of that period so a
  // large map costs a little on each tick rather than a stall on one.
  void Evict(Worker& w, RuleState& rs, int64_t now) {
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

  // ------------------------------------------------- state across restarts

  static constexpr uint32_t kStateMagic = 0x31535753;  // "SWS1"

  // Cells a key keeps for rule r (distinct rules keep a sketch instead).
  static int CellsOf(const CompiledRule& r) {
    return r.rule.kind() == v1::RULE_KIND_DISTINCT ? 0 : HasRing(r) ? r.panes : 1;
  }

  // On the owning worker's thread: the keys of rule state `rs` in table
  // `table`, as one chunk that starts with the rule it belongs to and the
  // time it was taken.
  static std::string SaveTable(const RuleState& rs, int table, int64_t now, size_t* keys) {
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

  StateSlice Slice(const RuleState& rs, int table, size_t index, int64_t now, size_t* keys) const {
    StateSlice s;
    s.rule_id = rs.rule->rule.id();
    s.table = table;
    s.worker = static_cast<int>(index);
    s.workers = static_cast<int>(workers.size());
    s.bytes = SaveTable(rs, table, now, keys);
    return s;
  }

  // On worker `index`'s thread: every table of its rules.
  void SaveWorker(size_t index, int64_t now, std::vector<StateSlice>* out, size_t* keys) const {
    for (const auto& [id, rs] : workers[index]->rules) {
      for (int t = 0; t < KeyTable::kShards; ++t) out->push_back(Slice(*rs, t, index, now, keys));
    }
  }

  // The rolling checkpoint of one rule on worker `index`, in the manner of
  // Evict: every table once a period, spread over the period's ticks. Each
  // rule and worker is offset by a fraction of a table's turn, so the
  // slices of different rules reach the store one by one rather than all
  // on the same tick (where, written in one group, they would hold up the
  // alerts committed with them).
  void Checkpoint(size_t index, RuleState& rs, int64_t now) {
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

  struct StateHeader {
    int64_t saved_at = 0;
    uint64_t rule_id = 0, version = 0;
    int32_t panes = 0, kind = 0;
  };
  static bool ReadHeader(StateReader& in, StateHeader* h) {
    uint32_t magic = 0;
    return in.Get(&magic) && magic == kStateMagic && in.Get(&h->saved_at) && in.Get(&h->rule_id) &&
           in.Get(&h->version) && in.Get(&h->panes) && in.Get(&h->kind);
  }
  // The rule in force that a chunk's state belongs to, or null when that
  // rule changed or went.
  static const std::shared_ptr<const CompiledRule>* LiveRule(
      const StateHeader& h,
      const absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>>& live) {
    auto it = live.find(h.rule_id);
    if (it == live.end() || it->second->rule.version() != h.version || it->second->panes != h.panes ||
        it->second->rule.kind() != h.kind) {
      return nullptr;
    }
    return &it->second;
  }

  struct RestoreCounts {
    size_t restored = 0, refused = 0;
    int damaged = 0;
  };
  // On worker `index`'s thread: the keys of `chunks` that route to it, for
  // the rules in `live`. A damaged chunk is counted; the keys read before
  // the damage stay.
  void RestoreWorker(Worker& w, size_t index, const std::vector<std::string>& chunks,
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

  // Runs task(worker index) on that worker's thread and waits for it.
  void RunOn(size_t i, std::function<void(size_t)> task) {
    std::promise<void> done;
    auto* c = new Chunk{};
    c->barrier = &done;
    c->task = std::move(task);
    workers[i]->queue.enqueue(c);
    done.get_future().wait();
  }
};

Pipeline::Pipeline(PipelineOptions options, FiringSink on_fire, RollupSink on_rollup)
    : options_(std::move(options)) {
  if (options_.workers < 1) options_.workers = 1;
  rep_ = std::make_unique<Rep>(this, options_, std::move(on_fire), std::move(on_rollup));
  for (int i = 0; i < options_.workers; ++i) {
    rep_->workers.push_back(std::make_unique<Rep::Worker>());
  }
  for (int i = 0; i < options_.workers; ++i) {
    rep_->workers[i]->thread = std::thread([this, i] { rep_->Run(static_cast<size_t>(i)); });
  }
}

Pipeline::~Pipeline() {
  rep_->ReleaseHeld(rep_->Now(), true);
  for (auto& w : rep_->workers) w->queue.enqueue(nullptr);
  for (auto& w : rep_->workers) w->thread.join();
  for (auto& w : rep_->workers) {
    Chunk* c = nullptr;
    while (w->queue.try_dequeue(c)) delete c;
  }
}

void Pipeline::SetRules(std::shared_ptr<const RuleSet> rules) {
  absl::MutexLock l(&rep_->rules_mu);
  rep_->rules = std::move(rules);
}

void Pipeline::SeedAbsence(std::shared_ptr<const v1::EventBatch> batch) {
  rep_->Submit(EventBatchView::Of(std::move(batch)), [](IngestResult) {}, /*absence_only=*/true);
}

void Pipeline::Submit(std::shared_ptr<const EventBatchView> batch, DoneFn done) {
  rep_->Submit(std::move(batch), std::move(done));
}

void Pipeline::Sync() {
  // Held batches first, so "everything submitted" includes them.
  while (rep_->held_count.load() > 0) {
    rep_->ReleaseHeld(rep_->Now(), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<std::promise<void>> done(rep_->workers.size());
  for (size_t i = 0; i < rep_->workers.size(); ++i) {
    auto* c = new Chunk{};
    c->barrier = &done[i];
    rep_->workers[i]->queue.enqueue(c);
  }
  for (auto& p : done) p.get_future().wait();
}

size_t Pipeline::SaveState(absl::FunctionRef<void(StateSlice&&)> sink) {
  Sync();
  const int64_t now = rep_->Now();
  size_t keys = 0;
  // One worker at a time, so at most one worker's state is held twice.
  for (size_t i = 0; i < rep_->workers.size(); ++i) {
    std::vector<StateSlice> slices;
    rep_->RunOn(i, [&](size_t idx) { rep_->SaveWorker(idx, now, &slices, &keys); });
    for (auto& s : slices) sink(std::move(s));
  }
  return keys;
}

size_t Pipeline::RestoreState(const std::vector<std::string>& chunks, int* damaged,
                              std::vector<bool>* stale) {
  absl::flat_hash_map<uint64_t, std::shared_ptr<const CompiledRule>> live;
  for (const auto& r : rep_->CurrentRules()->rules) live[r->rule.id()] = r;
  if (stale != nullptr) {
    stale->clear();
    for (const std::string& chunk : chunks) {
      StateReader in(chunk);
      Rep::StateHeader h;
      stale->push_back(!Rep::ReadHeader(in, &h) || Rep::LiveRule(h, live) == nullptr);
    }
  }
  const int64_t now = rep_->Now();
  Rep::RestoreCounts counts;
  for (size_t i = 0; i < rep_->workers.size(); ++i) {
    Rep::RestoreCounts mine;
    rep_->RunOn(i, [&](size_t idx) { rep_->RestoreWorker(*rep_->workers[idx], idx, chunks, live, now, &mine); });
    counts.restored += mine.restored;
    counts.refused += mine.refused;
    counts.damaged = std::max(counts.damaged, mine.damaged);  // every worker reads every chunk
  }
  rep_->keys_refused.fetch_add(counts.refused, std::memory_order_relaxed);
  if (damaged != nullptr) *damaged = counts.damaged;
  return counts.restored;
}

PipelineCounters Pipeline::Counters() const {
  PipelineCounters c;
  c.accepted = rep_->accepted.load();
  c.shed = rep_->shed.load();
  c.late = rep_->late.load();
  c.keys_refused = rep_->keys_refused.load();
  c.firings = rep_->firings.load();
  for (const auto& w : rep_->workers) {
    c.keys += w->keys.load();
    c.memory_bytes += static_cast<uint64_t>(std::max<int64_t>(0, w->bytes.load()));
    c.queue_depth += static_cast<uint64_t>(std::max<int64_t>(0, w->depth.load()));
  }
  c.fire_latency_us = rep_->latency_us.Read();
  return c;
}

}  // namespace steward
