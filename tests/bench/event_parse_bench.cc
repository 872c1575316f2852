// event_parse_bench: what reading one batch of event_load's workload costs
// on stewardd's ingest thread, with protobuf (a message on an arena, as
// stewardd parsed batches before) and with EventBatchView (the wire read
// into views, as it does now). Both run in the same process a moment
// apart, so their ratio holds on a machine whose speed varies.
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <memory>
#include <string>

#include "services/event_batch.h"
#include "steward/v1/events.pb.h"
#include "tests/bench/event_mix.h"

namespace {

std::string MixedBatch() {
  steward::bench::EventMix mix(1'000'000, 50, 0, 1);
  steward::v1::EventBatch b;
  mix.Fill(&b, 1000);
  return b.SerializeAsString();
}

void BM_ProtobufOnArena(benchmark::State& state) {
  const std::string bytes = MixedBatch();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* m = google::protobuf::Arena::CreateMessage<steward::v1::EventBatch>(&arena);
    if (!m->ParseFromString(bytes)) state.SkipWithError("did not parse");
    benchmark::DoNotOptimize(m->events_size());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_ProtobufOnArena);

void BM_EventBatchView(benchmark::State& state) {
  auto bytes = std::make_shared<std::string>(MixedBatch());
  for (auto _ : state) {
    auto v = steward::EventBatchView::Parse(*bytes, bytes);
    if (!v.ok()) state.SkipWithError("did not parse");
    benchmark::DoNotOptimize((*v)->events_size());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes->size()));
}
BENCHMARK(BM_EventBatchView);

}  // namespace

BENCHMARK_MAIN();
