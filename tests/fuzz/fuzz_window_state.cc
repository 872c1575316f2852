// Window state saved at a graceful stop (Pipeline::SaveState) is read back
// at the next start, from RocksDB. Damaged, it must never crash the start
// or the pipeline afterwards. The harness saves a real state once (every
// rule kind: sliding and tumbling windows, distinct sketches, baselines,
// absence clocks, BELOW thresholds), then for each input damages it as the
// input says and restores it, and also restores the raw input as a chunk
// of its own; then sends the same events again, so the restored keys are
// read and written, and runs the clock on so every kind of state is judged.
//
// Input: byte 0 picks the chunk; then triples (offset low, offset high,
// byte): the byte is XORed in at the offset, or, at an offset past the
// end, the chunk is cut to (byte / 256) of its length.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "services/common/clock.h"
#include "services/monitoring/pipeline/pipeline.h"
#include "services/monitoring/rules.h"

namespace {

using steward::CompiledRule;
using steward::Pipeline;
using steward::PipelineOptions;
namespace v1 = steward::v1;

constexpr int64_t kT0 = 1'800'000'000'000;

v1::Rule Rule(uint64_t id, v1::RuleKind kind, const char* type, const char* group_by, int64_t window,
              int64_t slide, double threshold) {
  v1::Rule r;
  r.set_id(id);
  r.set_version(1);
  r.set_enabled(true);
  r.set_name("rule " + std::to_string(id));
  r.set_kind(kind);
  r.add_event_types(type);
  r.add_group_by(group_by);
  r.set_window_seconds(window);
  r.set_slide_seconds(slide);
  r.set_threshold(threshold);
  return r;
}

std::shared_ptr<const steward::RuleSet> Rules() {
  std::vector<v1::Rule> rules;
  rules.push_back(Rule(1, v1::RULE_KIND_THRESHOLD, "gold", "player", 60, 10, 50));
  rules.back().set_aggregate(v1::AGGREGATE_SUM);
  rules.push_back(Rule(2, v1::RULE_KIND_THRESHOLD, "hit", "player", 10, 0, 1e6));
  rules.back().set_aggregate(v1::AGGREGATE_MAX);
  rules.push_back(Rule(3, v1::RULE_KIND_DISTINCT, "login", "server", 3600, 600, 100));
  rules.back().set_distinct_of("player");
  rules.push_back(Rule(4, v1::RULE_KIND_RATE_OF_CHANGE, "login", "server", 10, 0, 3));
  rules.back().set_baseline_windows(2);
  rules.push_back(Rule(5, v1::RULE_KIND_ABSENCE, "ping", "player", 60, 0, 0));
  rules.back().set_absence_seconds(30);
  rules.push_back(Rule(6, v1::RULE_KIND_THRESHOLD, "login", "realm", 10, 0, 1));
  rules.back().set_comparison(v1::COMPARISON_BELOW);
  std::vector<std::shared_ptr<const CompiledRule>> compiled;
  for (const auto& r : rules) {
    auto c = steward::CompileRule(r);
    if (!c.ok()) {
      std::fprintf(stderr, "harness rule %llu: %s\n", static_cast<unsigned long long>(r.id()),
                   std::string(c.status().message()).c_str());
      std::abort();
    }
    compiled.push_back(*c);
  }
  return steward::MakeRuleSet(std::move(compiled), 1);
}

std::shared_ptr<v1::EventBatch> Events() {
  auto b = std::make_shared<v1::EventBatch>();
  b->set_realm_id("eu1");
  b->set_server_id("s1");
  for (int i = 0; i < 120; ++i) {  // past the distinct rule's exact list
    const std::string p = "p-" + std::to_string(i);
    for (const char* type : {"gold", "hit", "login", "ping"}) {
      auto* e = b->add_events();
      e->set_type(type);
      e->set_player_id(p);
      e->set_value(i % 7);
    }
  }
  return b;
}

std::unique_ptr<Pipeline> MakePipeline(const steward::Clock* clock) {
  PipelineOptions o;
  o.workers = 1;
  o.memory_limit_bytes = size_t{16} << 20;
  o.clock = clock;
  auto p = std::make_unique<Pipeline>(o, [](steward::Firing&&) {}, [](std::vector<steward::RollupPoint>&&) {});
  p->SetRules(Rules());
  return p;
}

void Send(Pipeline& p) {
  p.Submit(Events(), [](steward::IngestResult) {});
  p.Sync();
}

const std::vector<std::string>& Saved() {
  static const std::vector<std::string>* saved = [] {
    steward::FakeClock clock{kT0};
    auto p = MakePipeline(&clock);
    for (int round = 0; round < 3; ++round) {  // a few closed windows: baselines
      clock.SetMs(kT0 + round * 10'000 + 1'000);
      Send(*p);
    }
    auto* out = new std::vector<std::string>;
    // Tables without keys are a bare header, which every other chunk starts with.
    p->SaveState([&](steward::StateSlice&& s) {
      if (s.bytes.size() > 36) out->push_back(std::move(s.bytes));
    });
    return out;
  }();
  return *saved;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> chunks = Saved();
  if (size > 0 && !chunks.empty()) {
    std::string& c = chunks[data[0] % chunks.size()];
    for (size_t i = 1; i + 3 <= size; i += 3) {
      const size_t off = (data[i] | size_t{data[i + 1]} << 8) % (c.size() + 1);
      if (off == c.size()) {
        c.resize(c.size() * data[i + 2] / 256);
      } else {
        c[off] = static_cast<char>(c[off] ^ data[i + 2]);
      }
    }
  }
  chunks.emplace_back(reinterpret_cast<const char*>(data), size);
  steward::FakeClock clock{kT0};
  clock.SetMs(kT0 + 40'000);
  auto p = MakePipeline(&clock);
  int damaged = 0;
  std::vector<bool> stale;
  p->RestoreState(chunks, &damaged, &stale);
  if (stale.size() != chunks.size()) __builtin_trap();
  Send(*p);
  clock.AdvanceMs(120'000);  // windows close, absence clocks run out
  p->Sync();
  (void)p->Counters();
  return 0;
}
