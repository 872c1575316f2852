// The plugin's cost on the game thread (Google Benchmark): RecordEvent
// (a copy into the lock-free buffer; a background thread sends) and
// CheckPlayer from the cache, with heap allocations per call counted by
// replacing the global operator new in this binary.
#include <benchmark/benchmark.h>

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <thread>

#include "steward/plugin.h"
#include "tests/common/fixtures.h"

namespace {
// Allocations made by the calling (game) thread only; the plugin's own
// threads allocate when they build batches, which is not the game's cost.
thread_local uint64_t t_allocs = 0;
struct {
  uint64_t load() const { return t_allocs; }
} g_allocs;
}  // namespace

void* operator new(size_t n) {
  ++t_allocs;
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }  // NOLINT: pairs with the operator new above

namespace {

steward::Plugin& ThePlugin() {
  static steward::Plugin* p = [] {
    static steward::test::TempDir tmp("plugin_bench");  // removed at exit
    const std::filesystem::path& dir = tmp.path();
    steward::Options o;
    o.mode = steward::Options::Mode::kEmbedded;
    o.realm_id = "eu1";
    o.server_id = "eu1-bench";
    o.data_dir = dir.string();
    o.event_buffer = 1 << 20;
    std::unique_ptr<steward::Plugin> plugin;
    steward::Status s = steward::Plugin::Create(o, &plugin);
    if (!s.ok()) {
      std::fprintf(stderr, "plugin: %s\n", s.message.c_str());
      std::exit(1);
    }
    // Warm up: the buffer's blocks are allocated and touched once, as in
    // a game that has been running for a while.
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 250000; ++i) plugin->RecordEvent("warmup", "p-0", 1);
      for (int i = 0; i < 500 && plugin->GetStats().events_sent < plugin->GetStats().events_recorded; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    // Cache a clean player (looked up in the background).
    plugin->Prefetch("p-clean");
    for (int i = 0; i < 500 && !plugin->CheckPlayer("p-clean").known; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return plugin.release();
  }();
  return *p;
}

// Waits (untimed) until the sender has taken everything recorded so far,
// so each repetition starts with an empty buffer, as a game does whose
// event rate the sender keeps up with.
void Drain(steward::Plugin& p) {
  for (int i = 0; i < 3000; ++i) {
    auto st = p.GetStats();
    if (st.events_sent + st.events_shed >= st.events_recorded) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Times `record` on the game thread; a repetition in which any event was
// shed measured the shedding path instead, and is reported as an error.
// With `busy_sender`, the buffer is first given 200,000 events and the
// sender a moment to wake, so it drains on the other core throughout the
// timed calls: the game thread then pays for the cache lines the two share.
template <typename Fn>
void TimeRecord(benchmark::State& state, Fn record, bool busy_sender = false) {
  steward::Plugin& p = ThePlugin();
  Drain(p);
  if (busy_sender) {
    for (int i = 0; i < 200000; ++i) record(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  uint64_t shed_before = p.GetStats().events_shed;
  uint64_t before = g_allocs.load();
  for (auto _ : state) record(p);
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(g_allocs.load() - before) / static_cast<double>(state.iterations()));
  uint64_t shed = p.GetStats().events_shed - shed_before;
  state.counters["shed"] = static_cast<double>(shed);
  if (shed != 0) state.SkipWithError("events were shed: the buffer filled during the run");
}

void BM_RecordEvent(benchmark::State& state) {
  TimeRecord(state, [](steward::Plugin& p) { p.RecordEvent("gold_gain", "p-123456", 42.0); });
}
// 200,000 calls per repetition, well inside the 1 M-event buffer.
BENCHMARK(BM_RecordEvent)->Iterations(200000)->Repetitions(5)->ReportAggregatesOnly(true);

// The same while the sender drains concurrently.
void BM_RecordEventWhileSending(benchmark::State& state) {
  TimeRecord(
      state, [](steward::Plugin& p) { p.RecordEvent("gold_gain", "p-123456", 42.0); }, /*busy_sender=*/true);
  auto st = ThePlugin().GetStats();
  state.counters["backlog_after"] = static_cast<double>(st.events_recorded - st.events_sent - st.events_shed);
}
BENCHMARK(BM_RecordEventWhileSending)->Iterations(600000)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_RecordChatEvent(benchmark::State& state) {
  TimeRecord(state, [](steward::Plugin& p) {
    p.RecordEvent("chat", "p-123456", 0, "anyone up for the raid tonight?", "channel", "world");
  });
}
BENCHMARK(BM_RecordChatEvent)->Iterations(200000)->Repetitions(5)->ReportAggregatesOnly(true);

// A chat line too long for the slot's inline space: one heap block.
void BM_RecordLongChatEvent(benchmark::State& state) {
  TimeRecord(state, [](steward::Plugin& p) {
    p.RecordEvent("chat", "p-123456", 0,
                  "looking for two more for the weekly raid, healers welcome, we start at nine sharp",
                  "channel", "world");
  });
}
BENCHMARK(BM_RecordLongChatEvent)->Iterations(200000)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_CheckPlayerCached(benchmark::State& state) {
  steward::Plugin& p = ThePlugin();
  uint64_t before = g_allocs.load();
  bool ok = true;
  for (auto _ : state) {
    steward::PlayerStatus s = p.CheckPlayer("p-clean");
    ok &= s.known && s.can_login;
    benchmark::DoNotOptimize(s);
  }
  if (!ok) state.SkipWithError("p-clean was not cached as clean");
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(g_allocs.load() - before) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_CheckPlayerCached)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
