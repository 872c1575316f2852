// The Prometheus exposition, and stewardd's /metrics endpoint over real
// HTTP against a real in-process server.
#include <httplib.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "tests/common/server_fixture.h"
#include "services/common/log2_histogram.h"
#include "services/server/metrics.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"

namespace steward {
namespace {

using T = MetricsText::Type;

TEST(Log2HistogramTest, BucketsAndQuantilesAreBucketTops) {
  Log2Histogram h;
  for (uint64_t v : {0, 1, 2, 3, 4, 1000}) h.Record(v);
  h.Record(uint64_t{1} << 50);  // past the last bucket's bottom: kept there
  Log2Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 7u);
  EXPECT_EQ(s.counts[0], 1u);   // 0
  EXPECT_EQ(s.counts[1], 1u);   // 1
  EXPECT_EQ(s.counts[2], 2u);   // 2, 3
  EXPECT_EQ(s.counts[3], 1u);   // 4
  EXPECT_EQ(s.counts[10], 1u);  // 1000 < 1024
  EXPECT_EQ(s.counts[Log2Histogram::kBuckets - 1], 1u);
  EXPECT_EQ(s.sum, 0 + 1 + 2 + 3 + 4 + 1000 + (uint64_t{1} << 50));
  EXPECT_EQ(s.Quantile(0.5), 4.0);     // the 4th of 7 values lies in bucket 2 (below 4)
  EXPECT_EQ(s.Quantile(0.8), 1024.0);  // the 6th
  EXPECT_EQ(Log2Histogram().Read().Quantile(0.99), 0.0);
}

TEST(MetricsTextTest, WritesFamiliesAndEscapesLabelsAndHelp) {
  MetricsText m;
  m.Family("x_total", T::kCounter, "Counts a\\b\nthings.");
  m.Sample(uint64_t{18446744073709551615u}, {{"server", "eu\"1\\s\n2"}, {"code", "OK"}});
  m.Family("y", T::kGauge, "A gauge.");
  m.Sample(0.1);
  m.Sample(std::numeric_limits<double>::infinity(), {{"k", "v"}});
  m.Sample(std::nan(""));
  EXPECT_EQ(m.text(),
            "# HELP x_total Counts a\\\\b\\nthings.\n"
            "# TYPE x_total counter\n"
            "x_total{server=\"eu\\\"1\\\\s\\n2\",code=\"OK\"} 18446744073709551615\n"
            "# HELP y A gauge.\n"
            "# TYPE y gauge\n"
            "y 0.1\n"
            "y{k=\"v\"} +Inf\n"
            "y NaN\n");
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeAndExact) {
  Log2Histogram h;
  for (uint64_t us : {3, 100, 100, 5000, 2'000'000}) h.Record(us);
  MetricsText m;
  m.Family("lat_seconds", T::kHistogram, "Latency.");
  m.Histogram(h.Read(), 1e6, 2, 13, {{"method", "A/B"}});
  // Bucket tops 4 us .. 8192 us, then +Inf: every count is exact because
  // the tops are the recorded buckets' own.
  std::string want =
      "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n";
  const int cumulative[] = {1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 4};  // 2^2 .. 2^13
  for (int b = 2; b <= 13; ++b) {
    double le = std::ldexp(1.0, b) / 1e6;
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), le);
    absl::StrAppend(&want, "lat_seconds_bucket{method=\"A/B\",le=\"", std::string(buf, r.ptr), "\"} ",
                    cumulative[b - 2], "\n");
  }
  absl::StrAppend(&want, "lat_seconds_bucket{method=\"A/B\",le=\"+Inf\"} 5\n");
  absl::StrAppend(&want, "lat_seconds_sum{method=\"A/B\"} 2.005203\n");
  absl::StrAppend(&want, "lat_seconds_count{method=\"A/B\"} 5\n");
  EXPECT_EQ(m.text(), want);
}

// --- The endpoint on a real server. ---

class MetricsEndpointTest : public ServerFixture {
 protected:
  void Configure(Config* config) override {
    config->metrics.listen = "127.0.0.1:0";
    config->metrics.token_sha256 = Sha256Hex("scrape-token");
  }

  // GET /metrics with `token` ("" = none); returns the status and body.
  std::pair<int, std::string> Scrape(const std::string& token) {
    httplib::Client http("127.0.0.1", server_->metrics_port());
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = http.Get("/metrics", headers);
    if (!res) return {0, httplib::to_string(res.error())};
    return {res->status, res->body};
  }

  // The value of the sample whose name-and-labels part is exactly
  // `series`; NaN when absent.
  static double Value(const std::string& text, const std::string& series) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
        double v = 0;
        return absl::SimpleAtod(line, &v) ? v : std::nan("");
      }
    }
    return std::nan("");
  }
};

TEST_F(MetricsEndpointTest, ScrapesNeedTheTokenWhichCanBeRotated) {
  ASSERT_NE(server_->metrics_port(), 0);
  EXPECT_EQ(Scrape("").first, 401);
  EXPECT_EQ(Scrape("not-the-token").first, 401);
  auto [status, body] = Scrape("scrape-token");
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("# TYPE steward_events_accepted_total counter"), std::string::npos);
  httplib::Client http("127.0.0.1", server_->metrics_port());
  auto other = http.Get("/", {{"Authorization", "Bearer scrape-token"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);

  // A rotated token (stewardd's SIGHUP) holds from the next scrape.
  server_->ReloadMetricsToken(Sha256Hex("rotated-token"));
  EXPECT_EQ(Scrape("scrape-token").first, 401);
  EXPECT_EQ(Scrape("rotated-token").first, 200);
  server_->ReloadMetricsToken("");
  EXPECT_EQ(Scrape("").first, 200);
}

TEST_F(MetricsEndpointTest, ABadOrTakenAddressFailsTheStartSayingWhy) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto store = storage::Store::Open({.path = dir.string()});
  ASSERT_TRUE(store.ok()) << store.status();
  Config config;
  config.listen = "127.0.0.1:0";
  config.metrics.listen = "no-port-here";
  auto bad = StewardServer::Start(config, store->get());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not host:port"), absl::string_view::npos) << bad.status();
  config.metrics.listen = "127.0.0.1:" + std::to_string(server_->metrics_port());  // the fixture's
  auto taken = StewardServer::Start(config, store->get());
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable);
  // HTTPS with a certificate that is not there.
  config.metrics.listen = "127.0.0.1:0";
  config.metrics.cert_file = (dir / "missing.pem").string();
  config.metrics.key_file = (dir / "missing.key").string();
  auto no_cert = StewardServer::Start(config, store->get());
  ASSERT_FALSE(no_cert.ok());
  EXPECT_EQ(no_cert.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_cert.status().message().find("missing.pem"), absl::string_view::npos) << no_cert.status();
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(MetricsEndpointTest, ReportsCallsEventsServersAndSanctionsButNoPlayers) {
  const std::string player = "player-private-7731";
  auto ev = v1::EventService::NewStub(channel_);
  auto mod = v1::ModerationService::NewStub(channel_);
  auto gs = v1::GameServerService::NewStub(channel_);

  v1::RegisterServerRequest reg;
  reg.set_server_id("eu1-s1");
  reg.set_build("1.0");
  v1::RegisterServerResponse reg_resp;
  ASSERT_TRUE(gs->RegisterServer(Ctx("gs-eu1").get(), reg, &reg_resp).ok());
  v1::HeartbeatRequest hb;
  hb.set_server_id("eu1-s1");
  hb.set_players_online(412);
  v1::HeartbeatResponse hb_resp;
  ASSERT_TRUE(gs->Heartbeat(Ctx("gs-eu1").get(), hb, &hb_resp).ok());

  v1::PublishEventsRequest pub;
  pub.mutable_batch()->set_realm_id("eu1");
  pub.mutable_batch()->set_server_id("eu1-s1");
  for (int i = 0; i < 3; ++i) {
    auto* e = pub.mutable_batch()->add_events();
    e->set_type("chat");
    e->set_player_id(player);
    e->set_text("hello from " + player);
  }
  v1::PublishEventsResponse pub_resp;
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), pub, &pub_resp).ok());

  v1::IssueSanctionRequest issue;
  issue.set_idempotency_key("metrics-1");
  issue.mutable_spec()->set_type(v1::SANCTION_TYPE_MUTE);
  issue.mutable_spec()->set_subject_id(player);
  issue.mutable_spec()->set_duration_ms(3600 * 1000);
  issue.mutable_spec()->set_reason("spam in " + player + "'s words");
  issue.mutable_spec()->set_policy_code("spam");
  v1::IssueSanctionResponse issue_resp;
  grpc::Status issued = mod->IssueSanction(Ctx("admin").get(), issue, &issue_resp);
  ASSERT_TRUE(issued.ok()) << issued.error_message();

  v1::CheckPlayerRequest check;
  check.set_player_id(player);
  check.set_realm_id("eu1");
  v1::PlayerStatus st;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(mod->CheckPlayer(Ctx("gs-eu1").get(), check, &st).ok());
  EXPECT_EQ(mod->CheckPlayer(Ctx("").get(), check, &st).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  auto [status, text] = Scrape("scrape-token");
  ASSERT_EQ(status, 200);
  const std::string check_method = "method=\"steward.v1.ModerationService/CheckPlayer\"";
  EXPECT_EQ(Value(text, "steward_grpc_server_handled_total{" + check_method + ",code=\"OK\"}"), 4);
  EXPECT_EQ(Value(text, "steward_grpc_server_handled_total{" + check_method +
                            ",code=\"UNAUTHENTICATED\"}"),
            1);
  EXPECT_EQ(Value(text, "steward_grpc_server_handling_seconds_count{" + check_method + "}"), 5);
  EXPECT_EQ(Value(text, "steward_grpc_server_handling_seconds_bucket{" + check_method +
                            ",le=\"+Inf\"}"),
            5);
  EXPECT_EQ(Value(text, "steward_grpc_server_handled_total{method=\"steward.v1.EventService/"
                        "PublishEvents\",code=\"OK\"}"),
            1);
  // The three published, and the heartbeat, which the pipeline sees too.
  EXPECT_EQ(Value(text, "steward_events_accepted_total"), 4);
  EXPECT_EQ(Value(text, "steward_game_servers{realm=\"eu1\"}"), 1);
  EXPECT_EQ(Value(text, "steward_game_servers_online{realm=\"eu1\"}"), 1);
  EXPECT_EQ(Value(text, "steward_players_online{realm=\"eu1\"}"), 412);
  EXPECT_GT(Value(text, "steward_game_server_last_heartbeat_timestamp_seconds{realm=\"eu1\","
                        "server=\"eu1-s1\"}"),
            1.7e9);
  EXPECT_EQ(Value(text, "steward_sanction_index_entries"), 1);
  EXPECT_GE(Value(text, "steward_dropped_statuses_total"), 0);  // exported
  // The mute became a directive to the realm's servers.
  EXPECT_GE(Value(text, "steward_directive_latest_seq"), 1);
  EXPECT_GE(Value(text, "steward_store_transactions_total"), 3);
  EXPECT_GT(Value(text, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(Value(text, "process_open_fds"), 3);

  // Operational figures only: the player's id appears nowhere, though it
  // was in events, a sanction and checks.
  EXPECT_EQ(text.find(player), std::string::npos);
}

}  // namespace
}  // namespace steward
