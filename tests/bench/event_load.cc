// event_load: the event pipeline's headline benchmark. Installs a set of
// realistic rules, streams batches of mixed game events (Zipf-skewed
// players for chat and economy, every player of the population logging in
// in turn so the windows hold all of them), and measures
//   - events/s accepted through the whole pipeline (ingest, windows, rules),
//   - event-to-alert latency: a cheater's gold burst is sent at a known
//     time; the alert arrives on a WatchAlerts stream,
//   - what the server reports: shed, memory of the window state.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"
#include "steward/v1/events.grpc.pb.h"
#include "event_mix.h"
#include "services/transport/event_stream.h"

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

namespace {

using steward::bench::BenchRules;
using steward::bench::EventMix;
using steward::bench::Id;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

struct Shared {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> probes;  // cheater id -> send time
  std::vector<double> latencies_ms;
  std::atomic<uint64_t> accepted{0}, shed{0}, late{0}, sent{0};
};

// User and system CPU time of this process so far.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  // The generator shares the two cores with stewardd: spare it Abseil's
  // debug lock graph, which Debian's build leaves on (gRPC locks too).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"event_load: streams game events into stewardd and measures the pipeline"};
  std::string addr = "127.0.0.1:50051", gs_token, gm_token;
  int streams = 2, seconds = 10, batch = 1000, servers = 50;
  uint64_t players = 1'000'000;
  double probe_every_ms = 100;
  app.add_option("--addr", addr);
  app.add_option("--gs-token", gs_token, "a game server token of realm eu1")->required();
  app.add_option("--gm-token", gm_token, "a lead (or above) token, to install the rules")->required();
  app.add_option("--streams", streams, "concurrent event streams")->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--batch", batch, "events per batch")->capture_default_str();
  app.add_option("--players", players, "player population")->capture_default_str();
  app.add_option("--servers", servers, "game servers the events come from")->capture_default_str();
  app.add_option("--probe-every-ms", probe_every_ms, "cheater bursts for the latency probe")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(8 << 20);
  auto gm_channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
  auto mon = v1::MonitoringService::NewStub(gm_channel);
  {
    v1::ListRulesResponse have;
    if (auto s = mon->ListRules(Ctx(gm_token).get(), {}, &have); !s.ok()) {
      std::fprintf(stderr, "ListRules: %s\n", s.error_message().c_str());
      return 1;
    }
    std::unordered_map<std::string, bool> exists;
    for (const auto& r : have.rules()) exists[r.name()] = true;
    int installed = 0;
    for (const auto& r : BenchRules()) {
      if (exists.count(r.name())) continue;
      v1::SaveRuleRequest req;
      *req.mutable_rule() = r;
      v1::SaveRuleResponse resp;
      if (auto s = mon->SaveRule(Ctx(gm_token).get(), req, &resp); !s.ok()) {
        std::fprintf(stderr, "SaveRule %s: %s\n", r.name().c_str(), s.error_message().c_str());
        return 1;
      }
      ++installed;
    }
    std::printf("rules: %zu in force (%d installed now)\n", BenchRules().size(), installed);
  }

  Shared shared;
  // Alert watcher: matches alerts on probe cheaters to their send times.
  auto wctx = Ctx(gm_token);
  std::thread watcher([&] {
    auto reader = mon->WatchAlerts(wctx.get(), v1::WatchAlertsRequest());
    v1::Alert a;
    while (reader->Read(&a)) {
      if (a.rule_name() != "gold farming" || a.player_id().rfind("cheat-", 0) != 0) continue;
      auto now = Clock::now();
      std::lock_guard<std::mutex> l(shared.mu);
      auto it = shared.probes.find(a.player_id());
      if (it == shared.probes.end()) continue;
      shared.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      shared.probes.erase(it);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::atomic<uint64_t> probe_seq{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
      EventMix mix(players, servers, s, streams);
      auto next_probe = Clock::now();
      v1::IngestSummary summary;
      auto ctx = Ctx(gs_token);
      // Batches go out in the wire format as the plugin writes them, so the
      // generator spends the shared cores on little besides drawing events.
      steward::RawEventStream writer(channel, ctx.get(), &summary);
      steward::EventBatchEncoder b;
      while (Clock::now() < end) {
        bool probe = false;
        std::string cheater;
        if (Clock::now() >= next_probe) {
          next_probe += std::chrono::microseconds(static_cast<int64_t>(probe_every_ms * 1000 * streams));
          cheater = Id("cheat-", probe_seq++);
          probe = true;
        }
        mix.Encode(&b, probe ? batch - 1 : batch);
        if (probe) {
          b.Add(0, "gold_gain", cheater, 5e6);
          std::lock_guard<std::mutex> l(shared.mu);
          shared.probes[cheater] = Clock::now();
        }
        if (!writer.Write(b.bytes())) break;
        shared.sent += static_cast<uint64_t>(batch);
      }
      writer.WritesDone();
      grpc::Status st = writer.Finish();
      if (!st.ok()) std::fprintf(stderr, "stream %d: %s\n", s, st.error_message().c_str());
      shared.accepted += summary.accepted();
      shared.shed += summary.shed();
      shared.late += summary.late();
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // last alerts
  v1::PipelineStats stats;
  mon->GetPipelineStats(Ctx(gm_token).get(), {}, &stats);
  wctx->TryCancel();
  watcher.join();

  std::vector<double> lat;
  size_t missing;
  {
    std::lock_guard<std::mutex> l(shared.mu);
    lat = shared.latencies_ms;
    missing = shared.probes.size();
  }
  std::sort(lat.begin(), lat.end());
  auto q = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
  std::printf("events: %d streams x %d-event batches, %zu rules, %llu players (Zipf 1.1 + login sweep), %d servers\n",
              streams, batch, BenchRules().size(), static_cast<unsigned long long>(players), servers);
  std::printf("throughput: %.0f events/s accepted through the pipeline (%llu sent, %llu accepted, %llu shed, %llu late) over %.1f s\n",
              static_cast<double>(shared.accepted) / secs, static_cast<unsigned long long>(shared.sent.load()),
              static_cast<unsigned long long>(shared.accepted.load()), static_cast<unsigned long long>(shared.shed.load()),
              static_cast<unsigned long long>(shared.late.load()), secs);
  std::printf("generator: %.1f CPU-seconds over the run, %.0f ns per event sent (it shares the cores with stewardd)\n",
              cpu, cpu * 1e9 / std::max<double>(1, static_cast<double>(shared.sent.load())));
  std::printf("event-to-alert (send -> WatchAlerts, alert stored first): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu probes (%zu unanswered)\n",
              q(0.5), q(0.99), lat.empty() ? 0.0 : lat.back(), lat.size(), missing);
  std::printf("server: batch arrival -> rule fired p50 <= %.1f ms, p99 <= %.1f ms\n", stats.fire_latency_p50_ms(),
              stats.fire_latency_p99_ms());
  std::printf("server: %llu live window keys, window state %.0f MiB (limit %.0f MiB), %llu keys refused, %llu alerts raised, %llu folded, %llu held back by storm budgets\n",
              static_cast<unsigned long long>(stats.window_keys()), stats.memory_bytes() / 1048576.0,
              stats.memory_limit_bytes() / 1048576.0, static_cast<unsigned long long>(stats.keys_refused()),
              static_cast<unsigned long long>(stats.alerts_raised()),
              static_cast<unsigned long long>(stats.alerts_suppressed()),
              static_cast<unsigned long long>(stats.alerts_held()));
  return 0;
}
