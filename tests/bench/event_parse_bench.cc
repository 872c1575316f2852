// event_parse_bench: what one 1,000-event batch of event_load's workload
// costs at both ends of the wire, each done two ways in the same process
// a moment apart (so the ratios hold on a machine whose speed varies):
//   reading, on stewardd's ingest thread: protobuf (a message on an arena,
//   as stewardd parsed batches before) and EventBatchView (the wire read
//   into views, as it does now);
//   writing, on the game server's sender thread: building and serializing
//   a message (as the plugin did before) and EventBatchEncoder (as it does
//   now).
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <memory>
#include <string>
#include <vector>

#include "services/common/event_batch.h"
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

// The same 1,000 drawn events for both writers.
struct Owned {
  std::string type, player, text, attr_key, attr_value;
  double value;
};
std::vector<Owned> DrawnEvents() {
  steward::bench::EventMix mix(1'000'000, 50, 0, 1);
  std::vector<Owned> out;
  for (int i = 0; i < 1000; ++i) {
    const auto& d = mix.Draw();
    out.push_back({std::string(d.type), std::string(d.player), std::string(d.text), std::string(d.attr_key),
                   std::string(d.attr_value), d.value});
  }
  return out;
}

void BM_SendAsMessage(benchmark::State& state) {
  const auto events = DrawnEvents();
  steward::v1::EventBatch b;
  std::string wire;
  for (auto _ : state) {
    b.Clear();
    b.set_realm_id("eu1");
    b.set_server_id("eu1-s1");
    for (const Owned& o : events) {
      auto* e = b.add_events();
      e->set_type(o.type);
      e->set_player_id(o.player);
      e->set_value(o.value);
      if (!o.text.empty()) e->set_text(o.text);
      if (!o.attr_key.empty()) {
        auto* a = e->add_attributes();
        a->set_key(o.attr_key);
        a->set_value(o.attr_value);
      }
    }
    b.SerializeToString(&wire);
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_SendAsMessage);

void BM_SendWithEncoder(benchmark::State& state) {
  const auto events = DrawnEvents();
  steward::EventBatchEncoder enc;
  for (auto _ : state) {
    enc.Start("eu1", "eu1-s1");
    for (const Owned& o : events) {
      const steward::EventBatchEncoder::Attribute attr{o.attr_key, o.attr_value};
      enc.Add(0, o.type, o.player, o.value,
              o.attr_key.empty() ? absl::Span<const steward::EventBatchEncoder::Attribute>()
                                 : absl::MakeConstSpan(&attr, 1),
              o.text);
    }
    benchmark::DoNotOptimize(enc.bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_SendWithEncoder);

}  // namespace

BENCHMARK_MAIN();
