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
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/common/event_batch.h"
#include "steward/v1/events.pb.h"

namespace steward::bench {

namespace v1 = steward::v1;
using steward::EventBatchEncoder;

// Writes prefix + decimal n into *out, reusing its allocation (the
// generator shares the cores with the server it loads, so it stays lean).
inline void SetId(std::string* out, const char* prefix, uint64_t n) {
  char digits[20];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out->clear();
  out->append(prefix);
  for (int i = len - 1; i >= 0; --i) out->push_back(digits[i]);
}

inline std::string Id(const char* prefix, uint64_t n) {
  std::string s;
  SetId(&s, prefix, n);
  return s;
}

// SplitMix64: a small, fast generator, plenty for drawing workloads (and a
// fraction of the cost of mt19937_64 per draw).
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed) : state_(seed) {}
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by
// inverting the continuous approximation of the CDF (fast, no tables).
// When 1/(1-s) is a whole number (s = 1.1 gives -10) the inverse is an
// integer power, done by multiplication rather than std::pow.
class Zipf {
 public:
  Zipf(uint64_t n, double s) : n_(n), s_(s), inv_exp_(1 / (1 - s)) {
    h_n_ = H(static_cast<double>(n) + 0.5);
    h_0_ = H(0.5);
    const double whole = std::round(inv_exp_);
    if (std::abs(inv_exp_ - whole) < 1e-9 && std::abs(whole) <= 64) int_exp_ = static_cast<int>(whole);
  }
  uint64_t operator()(Rng& rng) {
    double u = h_0_ + (h_n_ - h_0_) * rng.Unit();
    double x = HInv(u) - 0.5;
    return std::min<uint64_t>(n_ - 1, static_cast<uint64_t>(std::max(0.0, x)));
  }

 private:
  double H(double x) const { return (std::pow(x, 1 - s_)) / (1 - s_); }
  double HInv(double y) const {
    const double base = y * (1 - s_);
    if (int_exp_ == 0) return std::pow(base, inv_exp_);
    double result = 1, b = base;
    for (unsigned e = static_cast<unsigned>(std::abs(int_exp_)); e != 0; e >>= 1, b *= b) {
      if (e & 1) result *= b;
    }
    return int_exp_ < 0 ? 1 / result : result;
  }
  uint64_t n_;
  double s_, inv_exp_, h_n_, h_0_;
  int int_exp_ = 0;  // 1/(1-s) when whole, else 0
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

// One game-server stream's events, as messages (Fill) or in the wire
// format (Encode).
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

  // One drawn event. Its strings are constants or the mix's own buffers,
  // valid until the next Draw.
  struct Drawn {
    absl::string_view type, player, text, attr_key, attr_value;
    double value = 0;
  };

  // The next event of the mix.
  const Drawn& Draw() {
    Drawn& d = drawn_;
    d = Drawn{};
    const uint64_t roll = rng_() % 100;
    // The skewed population: most events come from a few busy players.
    auto skewed = [&] {
      SetId(&player_, "p", zipf_(rng_));
      d.player = player_;
    };
    if (roll < 20) {  // every player logs in, in turn
      uint64_t who = sweep_++ % players_;
      d.type = "login";
      SetId(&player_, "p", who);
      d.player = player_;
      d.attr_key = "device";
      // A player's own device, except for one in 2,000 accounts that
      // come from a handful of farm devices (the multi-account rule).
      if (who % 2000 == 0) {
        SetId(&attr_, "farm-", who % 97);
      } else {
        SetId(&attr_, "d", who);
      }
      d.attr_value = attr_;
    } else if (roll < 40) {
      d.type = "chat";
      if (rng_() % 1000 == 0) {  // one line in a thousand from 40 spammers
        SetId(&player_, "spam-", rng_() % 40);
        d.player = player_;
        d.text = kSpam[rng_() % 4];
      } else {
        skewed();
        d.text = kChat[rng_() % 10];
      }
    } else if (roll < 55) {
      d.type = "gold_gain";
      skewed();
      d.value = static_cast<double>(rng_() % 500);
    } else if (roll < 65) {
      d.type = "kill";
      skewed();
    } else if (roll < 75) {
      d.type = "hit";
      skewed();
      d.value = static_cast<double>(rng_() % 3000);
    } else if (roll < 82) {
      d.type = "death";
      skewed();
      d.attr_key = "map";
      d.attr_value = kMaps[rng_() % 5];
    } else if (roll < 88) {
      d.type = "trade";
      skewed();
      d.value = static_cast<double>(rng_() % 10000);
    } else if (roll < 93) {
      d.type = "item_gain";
      skewed();
      d.attr_key = "item";
      SetId(&attr_, "i", rng_() % 200);
      d.attr_value = attr_;
    } else if (roll < 97) {
      d.type = "market_list";
      skewed();
    } else if (roll < 99) {
      d.type = "heartbeat";
    } else {
      d.type = "crash";
      skewed();
    }
    return d;
  }

  // Gives `b` (realm eu1) `events` events from the next game server in
  // turn, as messages (their allocations are kept from batch to batch).
  void Fill(v1::EventBatch* b, int events) {
    b->set_realm_id("eu1");
    while (b->events_size() < events) b->add_events();
    while (b->events_size() > events) b->mutable_events()->RemoveLast();
    SetId(b->mutable_server_id(), "eu1-s", n_++ % servers_);
    for (int i = 0; i < b->events_size(); ++i) {
      v1::Event* e = b->mutable_events(i);
      e->Clear();
      const Drawn& d = Draw();
      e->mutable_type()->assign(d.type.data(), d.type.size());
      if (!d.player.empty()) e->mutable_player_id()->assign(d.player.data(), d.player.size());
      e->set_value(d.value);
      if (!d.text.empty()) e->mutable_text()->assign(d.text.data(), d.text.size());
      if (!d.attr_key.empty()) {
        auto* a = e->add_attributes();
        a->mutable_key()->assign(d.attr_key.data(), d.attr_key.size());
        a->mutable_value()->assign(d.attr_value.data(), d.attr_value.size());
      }
    }
  }

  // The same events, written straight to the wire format (as the plugin
  // sends them): `events` of them, starting a batch of the next server.
  void Encode(EventBatchEncoder* enc, int events) {
    SetId(&server_, "eu1-s", n_++ % servers_);
    enc->Start("eu1", server_);
    for (int i = 0; i < events; ++i) {
      const Drawn& d = Draw();
      const EventBatchEncoder::Attribute attr{d.attr_key, d.attr_value};
      enc->Add(0, d.type, d.player, d.value,
               d.attr_key.empty() ? absl::Span<const EventBatchEncoder::Attribute>()
                                  : absl::MakeConstSpan(&attr, 1),
               d.text);
    }
  }

  Rng& rng() { return rng_; }

 private:
  static constexpr const char* kChat[] = {"gg", "anyone for the raid tonight?", "lol", "need a healer",
                                "where is the blacksmith", "wts epic sword 500g", "ty!",
                                "that boss was hard", "see you tomorrow", "brb"};
  static constexpr const char* kSpam[] = {"cheap gold at www.example.com", "buy gold, fast delivery",
                                "join our guild, free boosts: https://example.net/x",
                                "join my discord for free items"};
  static constexpr const char* kMaps[] = {"forest", "desert", "city", "dungeon-1", "dungeon-2"};
  Rng rng_;
  Zipf zipf_;
  uint64_t players_, servers_, sweep_;
  uint64_t n_ = 0;
  Drawn drawn_;
  std::string player_, attr_, server_;
};

}  // namespace steward::bench

#endif  // STEWARD_TESTS_BENCH_EVENT_MIX_H_
