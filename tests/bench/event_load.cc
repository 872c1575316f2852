// event_load: the event pipeline's headline benchmark. Installs a set of
// realistic rules, streams batches of mixed game events (Zipf-skewed
// players for chat and economy, every player of the population logging in
// in turn so the windows hold all of them), and measures
//   - events/s accepted through the whole pipeline (ingest, windows, rules),
//   - event-to-alert latency: a cheater's gold burst is sent at a known
//     time; the alert arrives on a WatchAlerts stream,
//   - what the server reports: shed, memory of the window state.
#include <grpcpp/grpcpp.h>

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

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

namespace {

// prefix + number (built by appending: g++ 12 misreports a temporary's
// operator+ under -Wrestrict).
std::string Id(const char* prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

// Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by
// inverting the continuous approximation of the CDF (fast, no tables).
class Zipf {
 public:
  Zipf(uint64_t n, double s) : n_(n), s_(s) {
    h_n_ = H(static_cast<double>(n) + 0.5);
    h_0_ = H(0.5);
  }
  uint64_t operator()(std::mt19937_64& rng) {
    double u = std::uniform_real_distribution<double>(h_0_, h_n_)(rng);
    double x = HInv(u) - 0.5;
    return std::min<uint64_t>(n_ - 1, static_cast<uint64_t>(std::max(0.0, x)));
  }

 private:
  double H(double x) const { return (std::pow(x, 1 - s_)) / (1 - s_); }
  double HInv(double y) const { return std::pow(y * (1 - s_), 1 / (1 - s_)); }
  uint64_t n_;
  double s_, h_n_, h_0_;
};

v1::Rule MakeRule(const std::string& name, v1::RuleKind kind, std::vector<std::string> types,
                  std::vector<std::string> group_by, int64_t window, int64_t slide, double threshold) {
  v1::Rule r;
  r.set_name(name);
  r.set_kind(kind);
  r.set_enabled(true);
  for (auto& t : types) r.add_event_types(t);
  for (auto& g : group_by) r.add_group_by(g);
  r.set_window_seconds(window);
  r.set_slide_seconds(slide);
  r.set_threshold(threshold);
  return r;
}

// Twenty rules of the kinds a live game runs.
std::vector<v1::Rule> BenchRules() {
  std::vector<v1::Rule> rules;
  auto sum = [](v1::Rule r) {
    r.set_aggregate(v1::AGGREGATE_SUM);
    return r;
  };
  auto pattern = [](v1::Rule r, const std::string& p) {
    r.set_pattern(p);
    r.set_case_insensitive(true);
    return r;
  };
  // The cheater detector the latency probe trips: gold gained per player.
  rules.push_back(sum(MakeRule("gold farming", v1::RULE_KIND_THRESHOLD, {"gold_gain"}, {"player"}, 60, 10, 1e6)));
  rules.push_back(sum(MakeRule("gold per hour", v1::RULE_KIND_THRESHOLD, {"gold_gain"}, {"player"}, 3600, 600, 5e7)));
  rules.push_back(MakeRule("login churn per player", v1::RULE_KIND_THRESHOLD, {"login"}, {"player"}, 3600, 0, 50));
  rules.push_back(MakeRule("kills per player", v1::RULE_KIND_THRESHOLD, {"kill"}, {"player"}, 10, 0, 100));
  rules.push_back(sum(MakeRule("trade volume", v1::RULE_KIND_THRESHOLD, {"trade"}, {"player"}, 60, 0, 1e8)));
  rules.push_back(MakeRule("chat flood", v1::RULE_KIND_THRESHOLD, {"chat"}, {"player"}, 10, 0, 60));
  rules.push_back(pattern(MakeRule("gold sellers", v1::RULE_KIND_PATTERN, {"chat"}, {"player"}, 60, 0, 3),
                          R"((cheap|buy)\s+gold)"));
  rules.push_back(pattern(MakeRule("links", v1::RULE_KIND_PATTERN, {"chat"}, {"player"}, 60, 0, 5),
                          R"((https?://|www\.)\S+)"));
  rules.push_back(pattern(MakeRule("recruiters", v1::RULE_KIND_PATTERN, {"chat"}, {"player"}, 300, 0, 5),
                          R"(join\s+(my|our)\s+(guild|server|discord))"));
  rules.push_back(pattern(MakeRule("slurs", v1::RULE_KIND_PATTERN, {"chat"}, {"player"}, 60, 0, 2),
                          R"(\b(idiot|noob\s+trash)\b)"));
  v1::Rule multi = MakeRule("multi-accounting", v1::RULE_KIND_DISTINCT, {"login"}, {"attr:device"}, 3600, 600, 5);
  multi.set_distinct_of("player");
  rules.push_back(multi);
  rules.push_back(MakeRule("crash spike", v1::RULE_KIND_THRESHOLD, {"crash"}, {"server"}, 60, 10, 500));
  rules.push_back(MakeRule("logins per server", v1::RULE_KIND_RATE_OF_CHANGE, {"login"}, {"server"}, 60, 0, 4));
  rules.push_back(MakeRule("economy per server", v1::RULE_KIND_RATE_OF_CHANGE, {"gold_gain"}, {"server"}, 60, 0, 4));
  v1::Rule quiet = MakeRule("server silent", v1::RULE_KIND_ABSENCE, {"heartbeat"}, {"server"}, 60, 0, 0);
  quiet.set_absence_seconds(30);
  rules.push_back(quiet);
  rules.push_back(MakeRule("low logins", v1::RULE_KIND_THRESHOLD, {"login"}, {"realm"}, 60, 0, 1));
  rules.back().set_comparison(v1::COMPARISON_BELOW);
  rules.push_back(sum(MakeRule("item dupes", v1::RULE_KIND_THRESHOLD, {"item_gain"}, {"player", "attr:item"}, 60, 0, 1000)));
  rules.push_back(MakeRule("deaths per map", v1::RULE_KIND_THRESHOLD, {"death"}, {"attr:map"}, 60, 10, 1e6));
  rules.push_back(MakeRule("market spam", v1::RULE_KIND_THRESHOLD, {"market_list"}, {"player"}, 60, 0, 200));
  v1::Rule max_dmg = MakeRule("damage outliers", v1::RULE_KIND_THRESHOLD, {"hit"}, {"player"}, 10, 0, 1e6);
  max_dmg.set_aggregate(v1::AGGREGATE_MAX);
  rules.push_back(max_dmg);
  for (auto& r : rules) r.set_cooldown_seconds(600);
  return rules;
}

struct Shared {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> probes;  // cheater id -> send time
  std::vector<double> latencies_ms;
  std::atomic<uint64_t> accepted{0}, shed{0}, late{0}, sent{0};
};

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

  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::atomic<uint64_t> probe_seq{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
      auto stub = v1::EventService::NewStub(channel);
      std::mt19937_64 rng(1234 + s);
      Zipf zipf(players, 1.1);
      static const char* kChat[] = {"gg", "anyone for the raid tonight?", "lol", "need a healer",
                                    "where is the blacksmith", "wts epic sword 500g", "ty!",
                                    "that boss was hard", "see you tomorrow", "brb"};
      static const char* kSpam[] = {"cheap gold at www.example.com", "buy gold, fast delivery",
                                    "join our guild, free boosts: https://example.net/x",
                                    "join my discord for free items"};
      static const char* kMaps[] = {"forest", "desert", "city", "dungeon-1", "dungeon-2"};
      uint64_t sweep = static_cast<uint64_t>(s) * players / streams;  // login sweep position
      auto next_probe = Clock::now();
      v1::IngestSummary summary;
      auto ctx = Ctx(gs_token);
      auto writer = stub->StreamEvents(ctx.get(), &summary);
      v1::EventBatch b;
      b.set_realm_id("eu1");
      for (int i = 0; i < batch; ++i) b.add_events();
      uint64_t n = 0;
      while (Clock::now() < end) {
        b.set_server_id(Id("eu1-s", n++ % servers));
        for (int i = 0; i < batch; ++i) {
          v1::Event* e = b.mutable_events(i);
          e->Clear();
          uint64_t roll = rng() % 100;
          std::string player = Id("p", zipf(rng));
          if (roll < 20) {  // every player logs in, in turn
            uint64_t who = sweep++ % players;
            e->set_type("login");
            e->set_player_id(Id("p", who));
            auto* a = e->add_attributes();
            a->set_key("device");
            // A player's own device, except for one in 2,000 accounts that
            // come from a handful of farm devices (the multi-account rule).
            a->set_value(who % 2000 == 0 ? Id("farm-", who % 97) : Id("d", who));
          } else if (roll < 40) {
            e->set_type("chat");
            if (rng() % 1000 == 0) {  // one line in a thousand from 40 spammers
              e->set_player_id(Id("spam-", rng() % 40));
              e->set_text(kSpam[rng() % 4]);
            } else {
              e->set_player_id(player);
              e->set_text(kChat[rng() % 10]);
            }
          } else if (roll < 55) {
            e->set_type("gold_gain");
            e->set_player_id(player);
            e->set_value(static_cast<double>(rng() % 500));
          } else if (roll < 65) {
            e->set_type("kill");
            e->set_player_id(player);
          } else if (roll < 75) {
            e->set_type("hit");
            e->set_player_id(player);
            e->set_value(static_cast<double>(rng() % 3000));
          } else if (roll < 82) {
            e->set_type("death");
            e->set_player_id(player);
            auto* a = e->add_attributes();
            a->set_key("map");
            a->set_value(kMaps[rng() % 5]);
          } else if (roll < 88) {
            e->set_type("trade");
            e->set_player_id(player);
            e->set_value(static_cast<double>(rng() % 10000));
          } else if (roll < 93) {
            e->set_type("item_gain");
            e->set_player_id(player);
            auto* a = e->add_attributes();
            a->set_key("item");
            a->set_value(Id("i", rng() % 200));
          } else if (roll < 97) {
            e->set_type("market_list");
            e->set_player_id(player);
          } else if (roll < 99) {
            e->set_type("heartbeat");
          } else {
            e->set_type("crash");
            e->set_player_id(player);
          }
        }
        bool probe = false;
        std::string cheater;
        if (Clock::now() >= next_probe) {
          next_probe += std::chrono::microseconds(static_cast<int64_t>(probe_every_ms * 1000 * streams));
          cheater = Id("cheat-", probe_seq++);
          v1::Event* e = b.mutable_events(static_cast<int>(rng() % batch));
          e->Clear();
          e->set_type("gold_gain");
          e->set_player_id(cheater);
          e->set_value(5e6);
          probe = true;
        }
        if (probe) {
          std::lock_guard<std::mutex> l(shared.mu);
          shared.probes[cheater] = Clock::now();
        }
        if (!writer->Write(b)) break;
        shared.sent += static_cast<uint64_t>(batch);
      }
      writer->WritesDone();
      grpc::Status st = writer->Finish();
      if (!st.ok()) std::fprintf(stderr, "stream %d: %s\n", s, st.error_message().c_str());
      shared.accepted += summary.accepted();
      shared.shed += summary.shed();
      shared.late += summary.late();
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
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
  std::printf("event-to-alert (send -> WatchAlerts, alert stored first): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu probes (%zu unanswered)\n",
              q(0.5), q(0.99), lat.empty() ? 0.0 : lat.back(), lat.size(), missing);
  std::printf("server: batch arrival -> rule fired p50 <= %.1f ms, p99 <= %.1f ms\n", stats.fire_latency_p50_ms(),
              stats.fire_latency_p99_ms());
  std::printf("server: %llu live window keys, window state %.0f MiB (limit %.0f MiB), %llu keys refused, %llu alerts raised, %llu folded\n",
              static_cast<unsigned long long>(stats.window_keys()), stats.memory_bytes() / 1048576.0,
              stats.memory_limit_bytes() / 1048576.0, static_cast<unsigned long long>(stats.keys_refused()),
              static_cast<unsigned long long>(stats.alerts_raised()),
              static_cast<unsigned long long>(stats.alerts_suppressed()));
  return 0;
}
