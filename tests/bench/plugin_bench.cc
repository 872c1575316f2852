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
    auto dir = std::filesystem::temp_directory_path() / ("steward_plugin_bench_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
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

void BM_RecordEvent(benchmark::State& state) {
  steward::Plugin& p = ThePlugin();
  uint64_t before = g_allocs.load();
  for (auto _ : state) {
    p.RecordEvent("gold_gain", "p-123456", 42.0);
  }
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(g_allocs.load() - before) / static_cast<double>(state.iterations()));
  state.counters["shed"] = static_cast<double>(p.GetStats().events_shed);
}
// Paced in batches so the sender keeps up (the buffer stays in steady state).
BENCHMARK(BM_RecordEvent)->Iterations(200000)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_RecordChatEvent(benchmark::State& state) {
  steward::Plugin& p = ThePlugin();
  uint64_t before = g_allocs.load();
  for (auto _ : state) {
    p.RecordEvent("chat", "p-123456", 0, "anyone up for the raid tonight?", "channel", "world");
  }
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(g_allocs.load() - before) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RecordChatEvent)->Iterations(200000)->Repetitions(5)->ReportAggregatesOnly(true);

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
