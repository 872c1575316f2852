// CheckPlayer's in-process lookup with a large sanction book: one million
// active sanctions written to a real RocksDB, the index rebuilt from it the
// way stewardd does at start, then Moderation::Evaluate timed by Google
// Benchmark. Prints the rebuild time and the index's memory too.
//
//   check_player_bench [--sanctions=N] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tests/common/fixtures.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/gameservers/directives.h"
#include "services/moderation/moderation.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace {

using steward::DirectiveHub;
using steward::Moderation;
namespace v1 = steward::v1;

size_t g_sanctions = 1'000'000;
Moderation* g_mod = nullptr;

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// Player i of the book. Every sanctioned player has one sanction; a mix of
// types, scopes and durations like a live game's.
std::string Player(size_t i) { return "player-" + std::to_string(i); }

void Populate(steward::storage::Store& store) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  constexpr size_t kPerTxn = 2000;
  for (size_t base = 0; base < g_sanctions; base += kPerTxn) {
    absl::Status s = store.CommitAndWait([&](steward::storage::Txn& txn) {
      for (size_t i = base; i < std::min(g_sanctions, base + kPerTxn); ++i) {
        v1::Sanction sn;
        sn.set_id(i + 1);
        auto* spec = sn.mutable_spec();
        static constexpr v1::SanctionType kTypes[] = {
            v1::SANCTION_TYPE_TEMP_BAN, v1::SANCTION_TYPE_MUTE, v1::SANCTION_TYPE_BAN,
            v1::SANCTION_TYPE_RESTRICT, v1::SANCTION_TYPE_SHADOW_MUTE};
        spec->set_type(kTypes[i % 5]);
        spec->set_subject_id(Player(i));
        if (i % 3 == 0) spec->mutable_scope()->set_realm_id("eu" + std::to_string(i % 4));
        if (spec->type() == v1::SANCTION_TYPE_RESTRICT) spec->add_features("trade");
        spec->set_reason("Botting in the mines");
        spec->set_policy_code("botting");
        sn.set_state(v1::SANCTION_STATE_ACTIVE);
        sn.set_effective_at_ms(now);
        sn.set_expires_at_ms(i % 5 == 2 ? 0 : now + 30LL * 24 * 3600 * 1000);
        txn.Put(steward::storage::Cf::kSanctions, steward::storage::KeyWriter().U64(i + 1).key(),
                sn.SerializeAsString());
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "populate: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
}

v1::CheckPlayerRequest Request(const std::string& player) {
  v1::CheckPlayerRequest q;
  q.set_player_id(player);
  q.set_realm_id("eu1");
  q.set_server_id("eu1-s3");
  return q;
}

void BM_CheckSanctionedPlayer(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::vector<v1::CheckPlayerRequest> reqs;
  for (int i = 0; i < 4096; ++i) reqs.push_back(Request(Player(rng() % g_sanctions)));
  int64_t now = absl::ToUnixMillis(absl::Now());
  v1::PlayerStatus out;
  size_t i = 0;
  for (auto _ : state) {
    out.Clear();
    g_mod->Evaluate(reqs[i++ & 4095], now, &out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CheckSanctionedPlayer);

void BM_CheckCleanPlayer(benchmark::State& state) {
  std::vector<v1::CheckPlayerRequest> reqs;
  for (int i = 0; i < 4096; ++i) reqs.push_back(Request("clean-" + std::to_string(i)));
  int64_t now = absl::ToUnixMillis(absl::Now());
  v1::PlayerStatus out;
  size_t i = 0;
  for (auto _ : state) {
    out.Clear();
    g_mod->Evaluate(reqs[i++ & 4095], now, &out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CheckCleanPlayer);

// A login check with device and IP hashes as well: four lookups.
void BM_CheckLoginWithDeviceAndIp(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::vector<v1::CheckPlayerRequest> reqs;
  for (int i = 0; i < 4096; ++i) {
    auto q = Request(Player(rng() % g_sanctions));
    q.set_device_hash(std::string(64, 'a' + i % 6));
    q.set_ip_hash(std::string(64, '0' + i % 10));
    reqs.push_back(q);
  }
  int64_t now = absl::ToUnixMillis(absl::Now());
  v1::PlayerStatus out;
  size_t i = 0;
  for (auto _ : state) {
    out.Clear();
    g_mod->Evaluate(reqs[i++ & 4095], now, &out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CheckLoginWithDeviceAndIp);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sanctions=", 12) == 0) {
      g_sanctions = std::strtoull(argv[i] + 12, nullptr, 10);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  steward::test::TempDir tmp("check_player_bench");
  const std::filesystem::path& dir = tmp.path();
  {
    auto store = steward::storage::Store::Open({.path = dir.string(), .sync = false});
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
      return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    Populate(**store);
    auto t1 = std::chrono::steady_clock::now();
    DirectiveHub hub(store->get());
    if (!hub.Init().ok()) return 1;
    Moderation mod(store->get(), &hub);
    long rss0 = RssKb();
    auto t2 = std::chrono::steady_clock::now();
    if (absl::Status s = mod.Init(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    auto t3 = std::chrono::steady_clock::now();
    std::printf("sanctions: %zu active (written in %.1f s); index rebuilt from RocksDB in %.2f s; "
                "index memory about %ld MiB (RSS growth)\n",
                mod.index().size(), std::chrono::duration<double>(t1 - t0).count(),
                std::chrono::duration<double>(t3 - t2).count(), (RssKb() - rss0) / 1024);
    std::fflush(stdout);
    g_mod = &mod;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_mod = nullptr;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
