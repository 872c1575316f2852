// pipeline_bench: the event pipeline alone, in process, on event_load's
// workload (tests/bench/event_mix.h): no gRPC, no wire parsing, no
// generator competing for the cores while the clock runs. Batches are made
// first, then submitted as fast as the pipeline takes them; the figure is
// events/s from the first Submit to the end of Sync. It separates the
// pipeline's own cost from the end-to-end figure of event_load, whose
// run-to-run spread on a shared 2-core machine hides small changes.
//
//   pipeline_bench [--events N] [--players N] [--rounds N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"
#include "services/monitoring/pipeline/pipeline.h"
#include "services/monitoring/rules.h"
#include "event_mix.h"

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

constexpr int kStreams = 2;

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"pipeline_bench: the event pipeline in process, on event_load's workload"};
  uint64_t events = 4'000'000, players = 1'000'000;
  int rounds = 3, batch = 1000;
  app.add_option("--events", events, "events per round")->capture_default_str();
  app.add_option("--players", players, "player population")->capture_default_str();
  app.add_option("--rounds", rounds, "timed rounds (the windows carry over)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::shared_ptr<const steward::CompiledRule>> compiled;
  uint64_t id = 0;
  for (v1::Rule r : steward::bench::BenchRules()) {
    r.set_id(++id);
    r.set_version(1);
    auto c = steward::CompileRule(r);
    if (!c.ok()) {
      std::fprintf(stderr, "rule %s: %s\n", r.name().c_str(), c.status().ToString().c_str());
      return 1;
    }
    compiled.push_back(*std::move(c));
  }
  const size_t rules = compiled.size();

  std::atomic<uint64_t> firings{0};
  steward::PipelineOptions opt;  // stewardd's defaults
  steward::Pipeline pipeline(opt, [&](steward::Firing&&) { firings.fetch_add(1); },
                             [](std::vector<steward::RollupPoint>&&) {});
  pipeline.SetRules(steward::MakeRuleSet(std::move(compiled), 1));

  steward::bench::EventMix mix(players, 50, 0, 1);
  for (int round = 1; round <= rounds; ++round) {
    // Viewed before the clock starts, as stewardd's batches arrive parsed.
    std::vector<std::shared_ptr<const steward::EventBatchView>> batches;
    for (uint64_t made = 0; made < events; made += static_cast<uint64_t>(batch)) {
      auto b = std::make_shared<v1::EventBatch>();
      mix.Fill(b.get(), batch);
      batches.push_back(steward::EventBatchView::Of(std::move(b)));
    }
    // As two gRPC streams do: each waits for its batch to be taken before
    // sending the next, so the pipeline's backpressure paces the run.
    absl::Mutex mu;
    int in_flight = 0;
    std::atomic<uint64_t> accepted{0}, shed{0};
    const auto t0 = Clock::now();
    for (auto& b : batches) {
      {
        absl::MutexLock l(&mu);
        mu.Await(absl::Condition(+[](int* n) { return *n < kStreams; }, &in_flight));
        ++in_flight;
      }
      pipeline.Submit(b, [&](steward::IngestResult r) {
        accepted.fetch_add(r.accepted);
        shed.fetch_add(r.shed);
        absl::MutexLock l(&mu);
        --in_flight;
      });
    }
    pipeline.Sync();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto c = pipeline.Counters();
    std::printf("round %d: %.0f events/s through the pipeline (%llu accepted, %llu shed; %zu rules, "
                "%llu live window keys, window state %.0f MiB, %llu firings)\n",
                round, static_cast<double>(accepted.load()) / secs,
                static_cast<unsigned long long>(accepted.load()),
                static_cast<unsigned long long>(shed.load()), rules,
                static_cast<unsigned long long>(c.keys), c.memory_bytes / 1048576.0,
                static_cast<unsigned long long>(firings.load()));
    if (accepted.load() != batches.size() * static_cast<uint64_t>(batch)) {
      std::fprintf(stderr, "round %d: %llu events not accepted\n", round,
                   static_cast<unsigned long long>(batches.size() * static_cast<uint64_t>(batch) - accepted.load()));
      return 1;
    }
  }
  return 0;
}
