// The event benchmarks' shared workload: twenty rules of the kinds a live
// game runs, and batches of mixed game events (Zipf-skewed players for
// chat and economy, every player of the population logging in in turn so
// the windows hold all of them). event_load streams it to stewardd over
// gRPC; pipeline_bench feeds it to the pipeline in process.
#ifndef STEWARD_TESTS_BENCH_EVENT_MIX_H_
#define STEWARD_TESTS_BENCH_EVENT_MIX_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "steward/v1/events.pb.h"

namespace steward::bench {

namespace v1 = steward::v1;

// prefix + number (built by appending: g++ 12 misreports a temporary's
// operator+ under -Wrestrict).
inline std::string Id(const char* prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
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

inline v1::Rule MakeRule(const std::string& name, v1::RuleKind kind, std::vector<std::string> types,
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
inline std::vector<v1::Rule> BenchRules() {
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

// One game-server stream's events. Each Fill rewrites a batch in place
// (its events keep their allocations from batch to batch).
class EventMix {
 public:
  // Stream `stream` of `streams` starts its login sweep at its share of
  // the population, so the streams together log everyone in.
  EventMix(uint64_t players, int servers, int stream, int streams)
      : rng_(1234 + static_cast<uint64_t>(stream)),
        zipf_(players, 1.1),
        players_(players),
        servers_(static_cast<uint64_t>(servers)),
        sweep_(static_cast<uint64_t>(stream) * players / static_cast<uint64_t>(streams)) {}

  // Gives `b` (realm eu1) `events` events from the next game server in turn.
  void Fill(v1::EventBatch* b, int events) {
    b->set_realm_id("eu1");
    while (b->events_size() < events) b->add_events();
    while (b->events_size() > events) b->mutable_events()->RemoveLast();
    b->set_server_id(Id("eu1-s", n_++ % servers_));
    for (int i = 0; i < b->events_size(); ++i) {
      v1::Event* e = b->mutable_events(i);
      e->Clear();
      uint64_t roll = rng_() % 100;
      std::string player = Id("p", zipf_(rng_));
      if (roll < 20) {  // every player logs in, in turn
        uint64_t who = sweep_++ % players_;
        e->set_type("login");
        e->set_player_id(Id("p", who));
        auto* a = e->add_attributes();
        a->set_key("device");
        // A player's own device, except for one in 2,000 accounts that
        // come from a handful of farm devices (the multi-account rule).
        a->set_value(who % 2000 == 0 ? Id("farm-", who % 97) : Id("d", who));
      } else if (roll < 40) {
        e->set_type("chat");
        if (rng_() % 1000 == 0) {  // one line in a thousand from 40 spammers
          e->set_player_id(Id("spam-", rng_() % 40));
          e->set_text(kSpam[rng_() % 4]);
        } else {
          e->set_player_id(player);
          e->set_text(kChat[rng_() % 10]);
        }
      } else if (roll < 55) {
        e->set_type("gold_gain");
        e->set_player_id(player);
        e->set_value(static_cast<double>(rng_() % 500));
      } else if (roll < 65) {
        e->set_type("kill");
        e->set_player_id(player);
      } else if (roll < 75) {
        e->set_type("hit");
        e->set_player_id(player);
        e->set_value(static_cast<double>(rng_() % 3000));
      } else if (roll < 82) {
        e->set_type("death");
        e->set_player_id(player);
        auto* a = e->add_attributes();
        a->set_key("map");
        a->set_value(kMaps[rng_() % 5]);
      } else if (roll < 88) {
        e->set_type("trade");
        e->set_player_id(player);
        e->set_value(static_cast<double>(rng_() % 10000));
      } else if (roll < 93) {
        e->set_type("item_gain");
        e->set_player_id(player);
        auto* a = e->add_attributes();
        a->set_key("item");
        a->set_value(Id("i", rng_() % 200));
      } else if (roll < 97) {
        e->set_type("market_list");
        e->set_player_id(player);
      } else if (roll < 99) {
        e->set_type("heartbeat");
      } else {
        e->set_type("crash");
        e->set_player_id(player);
      }
    }  }

  std::mt19937_64& rng() { return rng_; }

 private:
  static constexpr const char* kChat[] = {"gg", "anyone for the raid tonight?", "lol", "need a healer",
                                "where is the blacksmith", "wts epic sword 500g", "ty!",
                                "that boss was hard", "see you tomorrow", "brb"};
  static constexpr const char* kSpam[] = {"cheap gold at www.example.com", "buy gold, fast delivery",
                                "join our guild, free boosts: https://example.net/x",
                                "join my discord for free items"};
  static constexpr const char* kMaps[] = {"forest", "desert", "city", "dungeon-1", "dungeon-2"};
  std::mt19937_64 rng_;
  Zipf zipf_;
  uint64_t players_, servers_, sweep_;
  uint64_t n_ = 0;
};

}  // namespace steward::bench

#endif  // STEWARD_TESTS_BENCH_EVENT_MIX_H_
