// The pipeline's window state and work items: what a worker keeps per rule
// and key (panes, distinct sets, absence clocks), the tables that hold it,
// and what the ingest thread hands the workers. Internal to pipeline/.
#ifndef STEWARD_SERVICES_MONITORING_PIPELINE_WINDOW_STATE_H_
#define STEWARD_SERVICES_MONITORING_PIPELINE_WINDOW_STATE_H_

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
namespace pipeline_internal {

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

inline int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

inline uint64_t Mix(uint64_t h, uint64_t v) {
  // One round of a 64-bit mixer; good enough to spread combined hashes.
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xbf58476d1ce4e5b9ULL;
}

// The saved-state format (Pipeline::SaveState) is read back by the same
// build on the same machine, so values go in native byte order.
template <typename T>
inline void PutRaw(std::string* out, const T& v) {
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

inline bool HasRing(const CompiledRule& r) { return r.panes > 1 && r.rule.kind() != v1::RULE_KIND_DISTINCT; }
// Keys of distinct, tick-judged and absence rules keep a KeyExtra.
inline bool HasExtra(const CompiledRule& r) {
  return r.rule.kind() == v1::RULE_KIND_DISTINCT || r.checked_on_close || r.rule.kind() == v1::RULE_KIND_ABSENCE;
}
inline void FreeRing(const CompiledRule& r, KeyState& ks) {
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
inline size_t HeapBytes(size_t n) { return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15}); }

// Which number a rule's panes keep.
enum class Agg { kCount, kSum, kMin, kMax };
inline Agg AggOf(const CompiledRule& r) {
  if (r.rule.kind() == v1::RULE_KIND_PATTERN) return Agg::kCount;
  switch (r.rule.aggregate()) {
    case v1::AGGREGATE_SUM: return Agg::kSum;
    case v1::AGGREGATE_MIN: return Agg::kMin;
    case v1::AGGREGATE_MAX: return Agg::kMax;
    default: return Agg::kCount;
  }
}

// Per-key memory beyond the table slot: the pane ring and the extra block.
inline size_t KeyBytes(const CompiledRule& r) {
  size_t b = 0;
  if (HasRing(r)) b += HeapBytes(r.panes * sizeof(Cell));
  if (HasExtra(r)) {
    b += sizeof(KeyExtra) + 32;  // and the label's characters, roughly
  }
  return b;
}

}  // namespace pipeline_internal
}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_PIPELINE_WINDOW_STATE_H_
