#include "services/monitoring/pipeline/pipeline.h"

#include "services/monitoring/pipeline/pipeline_rep.h"

namespace steward {

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
