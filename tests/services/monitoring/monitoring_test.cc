// Event monitoring through the real gRPC server: rules saved and kept
// across a restart, events streamed by a game server, alerts watched,
// acted on (an automatic sanction enforced by CheckPlayer) and
// acknowledged, bad batches refused; and roll-up retention on a test clock.
#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/server_fixture.h"
#include "services/common/event_batch.h"
#include "services/transport/event_stream.h"
#include "services/monitoring/monitoring.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/vip.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"

namespace steward {
namespace {

class MonitoringTest : public ServerFixture {
 protected:
  void Configure(Config* c) override {
    c->monitoring.workers = workers_;
    c->monitoring.checkpoint_seconds = checkpoint_seconds_;
  }
  int workers_ = 2;
  int checkpoint_seconds_ = 300;

  // The worker count of each stored window-state slice (the key's last byte).
  std::vector<int> StoredSlices() {
    std::vector<int> out;
    EXPECT_TRUE(store_->Scan(storage::Cf::kMonIndex, "W", "X", false, [&](absl::string_view k, absl::string_view) {
      out.push_back(k.size() == 12 ? static_cast<uint8_t>(k.back()) : 0);
      return true;
    }).ok());
    return out;
  }
  uint64_t WindowKeys() {
    v1::PipelineStats stats;
    EXPECT_TRUE(v1::MonitoringService::NewStub(channel_)->GetPipelineStats(Ctx("agent").get(), {}, &stats).ok());
    return stats.window_keys();
  }
  // Waits for the open alerts to number `n`; returns them.
  v1::ListAlertsResponse Alerts(int n) {
    v1::ListAlertsResponse alerts;
    for (int i = 0; i < 200; ++i) {
      alerts.Clear();
      EXPECT_TRUE(v1::MonitoringService::NewStub(channel_)->ListAlerts(Ctx("agent").get(), {}, &alerts).ok());
      if (alerts.alerts_size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return alerts;
  }
  v1::Rule SpamRule() {
    v1::Rule r;
    r.set_name("gold sellers");
    r.set_kind(v1::RULE_KIND_PATTERN);
    r.set_enabled(true);
    r.set_severity(v1::SEVERITY_CRITICAL);
    r.add_event_types("chat");
    r.add_group_by("player");
    r.set_pattern(R"(cheap\s+gold)");
    r.set_case_insensitive(true);
    r.set_threshold(2);
    r.mutable_action()->set_kind(v1::ACTION_KIND_SANCTION);
    r.mutable_action()->set_sanction_type(v1::SANCTION_TYPE_MUTE);
    r.mutable_action()->set_sanction_duration_ms(3600 * 1000);
    r.mutable_action()->set_reason("Advertising gold for money");
    r.mutable_action()->set_policy_code("spamming");
    return r;
  }

  grpc::Status Save(const std::string& who, const v1::Rule& r, v1::Rule* out = nullptr) {
    v1::SaveRuleRequest req;
    *req.mutable_rule() = r;
    v1::SaveRuleResponse resp;
    grpc::Status s = v1::MonitoringService::NewStub(channel_)->SaveRule(Ctx(who).get(), req, &resp);
    if (out != nullptr) *out = resp.rule();
    return s;
  }

  // Streams `batches` as gs-eu1 and returns the summary.
  grpc::Status Stream(const std::vector<v1::EventBatch>& batches, v1::IngestSummary* summary,
                      const std::string& who = "gs-eu1") {
    auto stub = v1::EventService::NewStub(channel_);
    auto ctx = Ctx(who);
    auto writer = stub->StreamEvents(ctx.get(), summary);
    for (const auto& b : batches) {
      if (!writer->Write(b)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static v1::EventBatch Chat(const std::string& player, std::vector<std::string> lines) {
    v1::EventBatch b;
    b.set_realm_id("eu1");
    b.set_server_id("eu1-s1");
    for (auto& l : lines) {
      auto* e = b.add_events();
      e->set_type("chat");
      e->set_player_id(player);
      e->set_text(l);
    }
    return b;
  }
};

TEST_F(MonitoringTest, RulesAreRoleCheckedValidatedAndSurviveARestart) {
  v1::Rule r = SpamRule();
  EXPECT_EQ(Save("agent", r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::Rule broken = r;
  broken.set_pattern("cheap(");
  grpc::Status s = Save("lead", broken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("rule.pattern"), std::string::npos) << s.error_message();
  v1::Rule saved;
  ASSERT_TRUE(Save("lead", r, &saved).ok());
  EXPECT_GT(saved.id(), 0u);
  EXPECT_EQ(saved.created_by(), "lead");
  EXPECT_EQ(Save("lead", r).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  StopServer();
  StartServer();
  v1::ListRulesResponse list;
  ASSERT_TRUE(v1::MonitoringService::NewStub(channel_)->ListRules(Ctx("agent").get(), {}, &list).ok());
  ASSERT_EQ(list.rules_size(), 1);
  EXPECT_EQ(list.rules(0).pattern(), r.pattern());
  // And it is in force after the restart.
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({Chat("p-7", {"cheap gold here", "CHEAP  gold!!"})}, &sum).ok());
  v1::ListAlertsResponse alerts;
  for (int i = 0; i < 200 && alerts.alerts_size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    alerts.Clear();
    ASSERT_TRUE(v1::MonitoringService::NewStub(channel_)->ListAlerts(Ctx("agent").get(), {}, &alerts).ok());
  }
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).key(), "realm=eu1,player=p-7");

  // Deleting needs a lead and a reason, and is audited.
  v1::DeleteRuleRequest del;
  del.set_id(saved.id());
  v1::DeleteRuleResponse dr;
  auto mon = v1::MonitoringService::NewStub(channel_);
  EXPECT_EQ(mon->DeleteRule(Ctx("lead").get(), del, &dr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  del.set_reason("replaced");
  ASSERT_TRUE(mon->DeleteRule(Ctx("lead").get(), del, &dr).ok());
  v1::ListAuditRequest areq;
  areq.set_target("rule/" + std::to_string(saved.id()));
  v1::ListAuditResponse audit;
  ASSERT_TRUE(v1::AuditService::NewStub(channel_)->ListAuditRecords(Ctx("sup").get(), areq, &audit).ok());
  ASSERT_EQ(audit.records_size(), 2);  // create, delete
}

// One gold-selling line from each of players p-0 .. p-<n-1>: keys on both workers.
std::vector<v1::EventBatch> Spammers(int n) {
  v1::EventBatch b;
  b.set_realm_id("eu1");
  b.set_server_id("eu1-s1");
  for (int i = 0; i < n; ++i) {
    auto* e = b.add_events();
    e->set_type("chat");
    e->set_player_id("p-" + std::to_string(i));
    e->set_text("cheap gold here");
  }
  return {b};
}

v1::Rule TenMinuteSpamRule(v1::Rule r) {
  r.set_window_seconds(600);  // ten one-minute panes: both lines fall in one window
  r.set_slide_seconds(60);
  r.clear_action();
  return r;
}

TEST_F(MonitoringTest, WindowsSurviveAGracefulRestart) {
  ASSERT_TRUE(Save("lead", TenMinuteSpamRule(SpamRule())).ok());
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream(Spammers(20), &sum).ok());
  ASSERT_EQ(sum.accepted(), 20u);

  StopServer();  // stewardd's shutdown saves the windows
  StartServer();
  EXPECT_EQ(WindowKeys(), 20u);
  // Kept for the rolling checkpoint to overwrite: every table of the rule
  // on each of the two workers.
  EXPECT_EQ(StoredSlices(), std::vector<int>(2 * 64, 2));

  ASSERT_TRUE(Stream({Chat("p-8", {"CHEAP gold again"})}, &sum).ok());
  auto alerts = Alerts(1);
  ASSERT_EQ(alerts.alerts_size(), 1);  // one line before the restart, one after
  EXPECT_EQ(alerts.alerts(0).key(), "realm=eu1,player=p-8");
  EXPECT_EQ(alerts.alerts(0).value(), 2);
}

TEST_F(MonitoringTest, AnotherWorkerCountRewritesTheSavedWindows) {
  ASSERT_TRUE(Save("lead", TenMinuteSpamRule(SpamRule())).ok());
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({Chat("p-8", {"cheap gold here"}), Chat("p-9", {"cheap gold too"})}, &sum).ok());
  StopServer();
  workers_ = 3;
  StartServer();
  EXPECT_EQ(WindowKeys(), 2u);
  // Slices of two workers would hold the same keys as slices of three:
  // they are replaced by a whole state under three at once.
  EXPECT_EQ(StoredSlices(), std::vector<int>(3 * 64, 3));
  StopServer();
  StartServer();
  EXPECT_EQ(WindowKeys(), 2u);
  ASSERT_TRUE(Stream({Chat("p-8", {"CHEAP gold again"})}, &sum).ok());
  auto alerts = Alerts(1);
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).value(), 2);
}

TEST_F(MonitoringTest, WithoutTheCheckpointRestoredWindowsAreNotKept) {
  checkpoint_seconds_ = 0;
  ASSERT_TRUE(Save("lead", TenMinuteSpamRule(SpamRule())).ok());
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({Chat("p-8", {"cheap gold here"})}, &sum).ok());
  StopServer();
  StartServer();
  EXPECT_EQ(WindowKeys(), 1u);
  // Nothing rewrites them, so a later crash must not bring back state that old.
  EXPECT_TRUE(StoredSlices().empty());
}

TEST_F(MonitoringTest, TheRollingCheckpointWritesEveryTableAndDropsDeletedRules) {
  checkpoint_seconds_ = 1;
  StopServer();
  StartServer();
  v1::Rule saved;
  ASSERT_TRUE(Save("lead", TenMinuteSpamRule(SpamRule()), &saved).ok());
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream(Spammers(20), &sum).ok());
  std::vector<int> slices;
  for (int i = 0; i < 300 && slices.size() < 2 * 64; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    slices = StoredSlices();
  }
  EXPECT_EQ(slices, std::vector<int>(2 * 64, 2));  // within about a second, with no stop
  v1::DeleteRuleRequest del;
  del.set_id(saved.id());
  del.set_reason("retired");
  v1::DeleteRuleResponse dr;
  ASSERT_TRUE(v1::MonitoringService::NewStub(channel_)->DeleteRule(Ctx("lead").get(), del, &dr).ok());
  StopServer();
  StartServer();
  EXPECT_TRUE(StoredSlices().empty());  // a deleted rule's state is dropped at the next start
}

// The game servers' way of streaming: encoded batches over the generic stub.
TEST_F(MonitoringTest, ARawEventStreamIsAcceptedLikeMessagesAndEndsCleanly) {
  EventBatchEncoder batch;
  batch.Start("eu1", "eu1-s1");
  batch.Add(0, "chat", "p-1", 0, {}, "hello");
  batch.Add(0, "chat", "p-2", 0, {}, "hi all");
  {
    auto ctx = Ctx("gs-eu1");
    v1::IngestSummary sum;
    RawEventStream stream(channel_, ctx.get(), &sum);
    ASSERT_TRUE(stream.Write(batch.bytes()));
    ASSERT_TRUE(stream.Write(batch.bytes()));
    grpc::Status st = stream.Finish();  // half-closes on its own
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(sum.accepted(), 4u);
    EXPECT_FALSE(stream.Write(batch.bytes()));  // finished
  }
  {
    // Dropped unfinished: the destructor cancels the call and returns.
    auto ctx = Ctx("gs-eu1");
    v1::IngestSummary sum;
    RawEventStream stream(channel_, ctx.get(), &sum);
    ASSERT_TRUE(stream.Write(batch.bytes()));
  }
  {
    auto ctx = Ctx("");  // no token
    v1::IngestSummary sum;
    RawEventStream stream(channel_, ctx.get(), &sum);
    stream.Write(batch.bytes());  // may or may not be taken before the refusal
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    // A batch that is not an EventBatch at all.
    auto ctx = Ctx("gs-eu1");
    v1::IngestSummary sum;
    RawEventStream stream(channel_, ctx.get(), &sum);
    stream.Write(std::string("\xff\xff\xff\x0f", 4));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  v1::PipelineStats stats;
  ASSERT_TRUE(v1::MonitoringService::NewStub(channel_)->GetPipelineStats(Ctx("agent").get(), {}, &stats).ok());
  // The finished stream's 4, and the dropped stream's 2 only if its batch
  // was read before the cancel; nothing from the refused ones.
  EXPECT_TRUE(stats.accepted() == 4u || stats.accepted() == 6u) << stats.accepted();
}

TEST_F(MonitoringTest, StreamedChatRaisesAWatchedAlertThatMutesThePlayer) {
  ASSERT_TRUE(Save("lead", SpamRule()).ok());
  // A GM watching alerts.
  auto mon = v1::MonitoringService::NewStub(channel_);
  auto wctx = Ctx("agent");
  wctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchAlertsRequest wreq;
  auto reader = mon->WatchAlerts(wctx.get(), wreq);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the watch is registered

  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({Chat("p-9", {"hello"}), Chat("p-9", {"Cheap gold, fast delivery"}),
                      Chat("p-8", {"cheap gold?"}), Chat("p-9", {"cheap gold again"})},
                     &sum)
                  .ok());
  EXPECT_EQ(sum.accepted(), 4u);
  EXPECT_EQ(sum.shed(), 0u);
  v1::Alert alert;
  ASSERT_TRUE(reader->Read(&alert));
  EXPECT_EQ(alert.player_id(), "p-9");
  EXPECT_EQ(alert.severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(alert.value(), 2);
  EXPECT_GE(alert.samples_size(), 1);
  wctx->TryCancel();

  // The rule's action: an automatic mute, enforced at once.
  v1::Alert stored;
  for (int i = 0; i < 300; ++i) {
    v1::ListAlertsResponse list;
    ASSERT_TRUE(mon->ListAlerts(Ctx("agent").get(), {}, &list).ok());
    if (list.alerts_size() > 0 && !list.alerts(0).action_taken().empty()) {
      stored = list.alerts(0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(stored.action_taken().rfind("sanction/", 0), 0u) << stored.action_taken();
  v1::CheckPlayerRequest check;
  check.set_player_id("p-9");
  check.set_realm_id("eu1");
  v1::PlayerStatus status;
  ASSERT_TRUE(v1::ModerationService::NewStub(channel_)->CheckPlayer(Ctx("agent").get(), check, &status).ok());
  EXPECT_FALSE(status.can_chat());
  EXPECT_TRUE(status.can_login());
  v1::GetSanctionRequest gsr;
  gsr.set_sanction_id(std::stoull(stored.action_taken().substr(9)));
  v1::Sanction sanction;
  ASSERT_TRUE(v1::ModerationService::NewStub(channel_)->GetSanction(Ctx("agent").get(), gsr, &sanction).ok());
  EXPECT_TRUE(sanction.automatic());
  EXPECT_EQ(sanction.issued_by(), "monitor");
  EXPECT_EQ(sanction.spec().evidence(0), "alert/" + std::to_string(stored.id()));
  // The automatic action is audited with the rule behind it.
  v1::ListAuditRequest areq;
  areq.set_target("alert/" + std::to_string(stored.id()));
  v1::ListAuditResponse audit;
  ASSERT_TRUE(v1::AuditService::NewStub(channel_)->ListAuditRecords(Ctx("sup").get(), areq, &audit).ok());
  ASSERT_EQ(audit.records_size(), 1);
  EXPECT_EQ(audit.records(0).actor(), "monitor");
  EXPECT_NE(audit.records(0).reason().find("gold sellers"), std::string::npos);

  // Acknowledged once.
  v1::AcknowledgeAlertRequest ack;
  ack.set_id(stored.id());
  v1::AcknowledgeAlertResponse ar;
  EXPECT_EQ(mon->AcknowledgeAlert(Ctx("gs-eu1").get(), ack, &ar).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(mon->AcknowledgeAlert(Ctx("agent").get(), ack, &ar).ok());
  EXPECT_EQ(ar.alert().state(), v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(ar.alert().acknowledged_by(), "agent");
  EXPECT_EQ(mon->AcknowledgeAlert(Ctx("agent2").get(), ack, &ar).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// After a reload revokes their tokens, a GM's open alert watch gets no
// further alert and a game server's open event stream takes no further
// batch; both end UNAUTHENTICATED saying why.
TEST_F(MonitoringTest, OpenStreamsEndWhenTheirTokenIsRevoked) {
  ASSERT_TRUE(Save("lead", SpamRule()).ok());
  auto mon = v1::MonitoringService::NewStub(channel_);
  auto wctx = Ctx("agent");
  wctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = mon->WatchAlerts(wctx.get(), v1::WatchAlertsRequest());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the watch is registered

  auto ectx = Ctx("gs-eu1");
  v1::IngestSummary sum;
  auto writer = v1::EventService::NewStub(channel_)->StreamEvents(ectx.get(), &sum);
  ASSERT_TRUE(writer->Write(Chat("p-9", {"cheap gold", "cheap gold"})));
  v1::Alert alert;
  ASSERT_TRUE(reader->Read(&alert));  // both streams work
  EXPECT_EQ(alert.player_id(), "p-9");

  // agent and gs-eu1 lose their tokens; lead stays.
  server_->ReloadPrincipals({Gm("lead", Role::kLead), GameServer("gs-us1", "us1")});
  writer->Write(Chat("p-8", {"cheap gold", "cheap gold"}));
  writer->WritesDone();
  grpc::Status es = writer->Finish();
  EXPECT_EQ(es.error_code(), grpc::StatusCode::UNAUTHENTICATED) << es.error_message();
  EXPECT_NE(es.error_message().find("revoked"), std::string::npos) << es.error_message();
  EXPECT_NE(es.error_message().find("2 events accepted before"), std::string::npos) << es.error_message();
  // A new alert (from a stream of a server still configured) is not shown
  // to the revoked GM: the watch ends instead.
  v1::IngestSummary sum2;
  auto us_ctx = Ctx("gs-us1");
  auto us = v1::EventService::NewStub(channel_)->StreamEvents(us_ctx.get(), &sum2);
  v1::EventBatch b = Chat("p-7", {"cheap gold", "cheap gold"});
  b.set_realm_id("us1");
  b.set_server_id("us1-s1");
  ASSERT_TRUE(us->Write(b));
  us->WritesDone();
  ASSERT_TRUE(us->Finish().ok());
  EXPECT_FALSE(reader->Read(&alert)) << "the revoked GM saw " << alert.player_id();
  grpc::Status ws = reader->Finish();
  EXPECT_EQ(ws.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ws.error_message();
  // The alert itself was raised and stored for GMs still configured.
  bool stored = false;
  for (int i = 0; i < 300 && !stored; ++i) {
    v1::ListAlertsResponse list;
    ASSERT_TRUE(mon->ListAlerts(Ctx("lead").get(), {}, &list).ok());
    for (const auto& a : list.alerts()) stored |= a.player_id() == "p-7";
    if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(stored);
}

TEST_F(MonitoringTest, ARuleCanOpenAnEscalatedCaseAgainstThePlayer) {
  v1::Rule r;
  r.set_name("speed");
  r.set_kind(v1::RULE_KIND_THRESHOLD);
  r.set_enabled(true);
  r.add_event_types("move");
  r.add_group_by("player");
  r.set_aggregate(v1::AGGREGATE_MAX);
  r.set_threshold(50);  // metres per second
  r.mutable_action()->set_kind(v1::ACTION_KIND_OPEN_CASE);
  r.mutable_action()->set_case_category("cheating");
  ASSERT_TRUE(Save("lead", r).ok());
  v1::EventBatch b;
  b.set_realm_id("eu1");
  b.set_server_id("eu1-s1");
  for (double speed : {7.0, 8.0, 120.0}) {
    auto* e = b.add_events();
    e->set_type("move");
    e->set_player_id("p-fast");
    e->set_value(speed);
  }
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({b}, &sum).ok());
  auto reports = v1::ReportService::NewStub(channel_);
  v1::ListCasesResponse cases;
  for (int i = 0; i < 300 && cases.cases_size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    cases.Clear();
    v1::ListCasesRequest lc;
    lc.set_state(v1::CASE_STATE_ESCALATED);
    ASSERT_TRUE(reports->ListCases(Ctx("agent").get(), lc, &cases).ok());
  }
  ASSERT_EQ(cases.cases_size(), 1);
  EXPECT_EQ(cases.cases(0).subject_id(), "p-fast");
  EXPECT_EQ(cases.cases(0).family(), "cheating");
}

TEST_F(MonitoringTest, BadBatchesAreRefusedAndCounted) {
  auto ev = v1::EventService::NewStub(channel_);
  v1::PublishEventsRequest req;
  *req.mutable_batch() = Chat("p-1", {"hi"});
  v1::PublishEventsResponse resp;
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  EXPECT_EQ(resp.summary().accepted(), 1u);
  // Another realm's server, a GM, no token.
  EXPECT_EQ(ev->PublishEvents(Ctx("gs-us1").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ev->PublishEvents(Ctx("agent").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ev->PublishEvents(Ctx("").get(), req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Too many events; an event without a type; a non-finite value.
  v1::PublishEventsRequest big;
  *big.mutable_batch() = Chat("p-1", std::vector<std::string>(5000, "x"));
  grpc::Status s = ev->PublishEvents(Ctx("gs-eu1").get(), big, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("4096"), std::string::npos);
  // An event dated a century ahead (seconds read as milliseconds, say) is
  // refused by name, not silently re-dated.
  v1::PublishEventsRequest future = req;
  future.mutable_batch()->mutable_events(0)->set_time_ms(absl::ToUnixMillis(absl::Now()) +
                                                         int64_t{100} * 365 * 24 * 3600 * 1000);
  s = ev->PublishEvents(Ctx("gs-eu1").get(), future, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].time_ms"), std::string::npos) << s.error_message();
  v1::PublishEventsRequest untyped = req;
  untyped.mutable_batch()->mutable_events(0)->clear_type();
  s = ev->PublishEvents(Ctx("gs-eu1").get(), untyped, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].type"), std::string::npos);
  // A type that is not UTF-8: the request cannot be parsed, and says so.
  v1::PublishEventsRequest garbled = req;
  garbled.mutable_batch()->mutable_events(0)->set_type("ch\xff\xfe");
  s = ev->PublishEvents(Ctx("gs-eu1").get(), garbled, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("not a valid PublishEventsRequest"), std::string::npos) << s.error_message();
  // Over 4 MiB (within what gRPC itself takes): many events at their own
  // limits, or a few carrying a field this build does not know.
  v1::PublishEventsRequest heavy;
  heavy.mutable_batch()->set_realm_id("eu1");
  heavy.mutable_batch()->set_server_id("s1");
  while (heavy.ByteSizeLong() <= (size_t{4} << 20)) {
    auto* e = heavy.mutable_batch()->add_events();
    e->set_type("chat");
    e->set_player_id(std::string(128, 'p'));
    e->set_text(std::string(512, 'x'));
    for (int a = 0; a < 8; ++a) {
      auto* attr = e->add_attributes();
      attr->set_key(std::string(31, 'k') + static_cast<char>('a' + a));
      attr->set_value(std::string(64, 'v'));
    }
  }
  ASSERT_LT(heavy.batch().events_size(), 4096);
  s = ev->PublishEvents(Ctx("gs-eu1").get(), heavy, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("a batch is at most 4194304 bytes"), std::string::npos) << s.error_message();
  v1::PublishEventsRequest padded = req;
  auto* first = padded.mutable_batch()->mutable_events(0);
  first->GetReflection()->MutableUnknownFields(first)->AddLengthDelimited(99, std::string(4 << 20, 'u'));
  s = ev->PublishEvents(Ctx("gs-eu1").get(), padded, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("split it"), std::string::npos) << s.error_message();
  // Two million empty events fit in 4 MiB (two bytes each): the parse
  // stops at the 4,097th rather than laying them all out first.
  std::string flood = "\x0a\x03" "eu1" "\x12\x06" "eu1-s1";
  while (flood.size() < (size_t{4} << 20) - 16) flood += std::string("\x1a\x00", 2);
  v1::EventBatch flood_batch;
  ASSERT_TRUE(flood_batch.ParseFromString(flood));
  ASSERT_GT(flood_batch.events_size(), 2'000'000);
  v1::IngestSummary flood_sum;
  s = Stream({flood_batch}, &flood_sum);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("a batch holds at most 4096 events; this one has more; split it"),
            std::string::npos) << s.error_message();
  v1::PublishEventsRequest crowded = req;
  for (int a = 0; a < 9; ++a) {
    auto* attr = crowded.mutable_batch()->mutable_events(0)->add_attributes();
    attr->set_key("k" + std::to_string(a));
  }
  s = ev->PublishEvents(Ctx("gs-eu1").get(), crowded, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].attributes: at most 8"), std::string::npos) << s.error_message();
  // On a stream, a bad batch ends the stream and says how far it got.
  v1::IngestSummary sum;
  s = Stream({Chat("p-1", {"a"}), untyped.batch(), Chat("p-1", {"b"})}, &sum);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("batch 2"), std::string::npos) << s.error_message();
  // A batch that cannot be parsed ends the stream the same way, never as
  // if the game server had closed it.
  s = Stream({Chat("p-1", {"c"}), garbled.batch(), Chat("p-1", {"d"})}, &sum);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("not a valid EventBatch (every string field must be UTF-8"),
            std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("batch 2 of the stream; 1 events accepted before it"), std::string::npos)
      << s.error_message();
  v1::PipelineStats stats;
  ASSERT_TRUE(v1::MonitoringService::NewStub(channel_)->GetPipelineStats(Ctx("agent").get(), {}, &stats).ok());
  EXPECT_EQ(stats.rejected_batches(), 12u);  // every refused batch of a known caller
  EXPECT_EQ(stats.accepted(), 3u);
  EXPECT_GT(stats.memory_limit_bytes(), 0u);
}

// A registered server that never heartbeats after a restart is still
// noticed: absence rules start watching every known server at start.
TEST_F(MonitoringTest, AbsenceIsNoticedForServersSilentSinceARestart) {
  v1::Rule r;
  r.set_name("server silent");
  r.set_kind(v1::RULE_KIND_ABSENCE);
  r.set_enabled(true);
  r.set_severity(v1::SEVERITY_CRITICAL);
  r.add_event_types("heartbeat");
  r.add_group_by("server");
  r.set_absence_seconds(1);
  ASSERT_TRUE(Save("lead", r).ok());
  auto gs = v1::GameServerService::NewStub(channel_);
  v1::RegisterServerRequest reg;
  reg.set_server_id("eu1-s1");
  v1::RegisterServerResponse regd;
  ASSERT_TRUE(gs->RegisterServer(Ctx("gs-eu1-s1").get(), reg, &regd).ok());
  StopServer();
  StartServer();
  auto mon = v1::MonitoringService::NewStub(channel_);
  v1::ListAlertsResponse alerts;
  for (int i = 0; i < 400 && alerts.alerts_size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    alerts.Clear();
    ASSERT_TRUE(mon->ListAlerts(Ctx("agent").get(), {}, &alerts).ok());
  }
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).key(), "server=eu1-s1");
  // The seeding is not traffic: no events counted.
  v1::PipelineStats stats;
  ASSERT_TRUE(mon->GetPipelineStats(Ctx("agent").get(), {}, &stats).ok());
  EXPECT_EQ(stats.accepted(), 0u);
}

TEST_F(MonitoringTest, PurchaseEventsFeedVipTiersOncePerOrder) {
  auto ev = v1::EventService::NewStub(channel_);
  auto purchase = [](const std::string& player, double amount, const std::string& order) {
    v1::EventBatch b;
    b.set_realm_id("eu1");
    b.set_server_id("eu1-s1");
    auto* e = b.add_events();
    e->set_type("purchase");
    e->set_player_id(player);
    e->set_value(amount);
    if (!order.empty()) {
      auto* a = e->add_attributes();
      a->set_key("order_id");
      a->set_value(order);
    }
    return b;
  };
  v1::PublishEventsRequest req;
  v1::PublishEventsResponse resp;
  // A purchase without an order id (it could not be de-duplicated) or
  // without an amount is refused.
  *req.mutable_batch() = purchase("p-7", 60, "");
  grpc::Status s = ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("order_id"), std::string::npos);
  *req.mutable_batch() = purchase("p-7", 0, "o-1");
  EXPECT_EQ(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // 40.00 twice under one order counts once; a second order on the stream
  // takes the player past silver's 50.00 in 30 days.
  *req.mutable_batch() = purchase("p-7", 40, "o-1");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  auto vip = v1::VipService::NewStub(channel_);
  v1::GetVipProfileRequest get;
  get.set_player_id("p-7");
  get.set_realm_id("eu1");
  v1::VipProfileResponse profile;
  auto spend_is = [&](int64_t cents) {
    for (int i = 0; i < 200; ++i) {  // recorded after the event is accepted
      if (vip->GetVipProfile(Ctx("sup").get(), get, &profile).ok() &&
          profile.profile().lifetime_spend_cents() == cents) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(spend_is(40'00)) << profile.profile().lifetime_spend_cents();
  EXPECT_EQ(profile.profile().tier(), "");
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({purchase("p-7", 45.5, "o-2")}, &sum).ok());
  ASSERT_TRUE(spend_is(85'50)) << profile.profile().lifetime_spend_cents();
  EXPECT_EQ(profile.profile().tier(), "silver");
}

// Logins and logouts on the event stream feed the churn signals of players
// holding a tier, and of no one else; the tier holders survive a restart.
TEST_F(MonitoringTest, LoginAndLogoutEventsFeedVipChurnSignals) {
  auto ev = v1::EventService::NewStub(channel_);
  auto event = [](const std::string& type, const std::string& player, double value, int64_t at,
                  const std::string& key, const std::string& attr) {
    v1::EventBatch b;
    b.set_realm_id("eu1");
    b.set_server_id("eu1-s1");
    auto* e = b.add_events();
    e->set_type(type);
    e->set_player_id(player);
    e->set_value(value);
    e->set_time_ms(at);
    if (!key.empty()) {
      auto* a = e->add_attributes();
      a->set_key(key);
      a->set_value(attr);
    }
    return b;
  };
  v1::PublishEventsRequest req;
  v1::PublishEventsResponse resp;
  *req.mutable_batch() = event("purchase", "p-vip", 120, 0, "order_id", "o-1");  // silver
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  auto vip = v1::VipService::NewStub(channel_);
  auto profile_of = [&](const std::string& player, v1::VipProfileResponse* out) {
    v1::GetVipProfileRequest get;
    get.set_player_id(player);
    get.set_realm_id("eu1");
    out->Clear();
    return vip->GetVipProfile(Ctx("sup").get(), get, out);
  };
  v1::VipProfileResponse p;
  auto wait_for = [&](const std::string& player, auto pred) {
    for (int i = 0; i < 300; ++i) {  // recorded after the event is accepted
      if (profile_of(player, &p).ok() && pred(p.profile())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("p-vip", [](const v1::VipProfile& v) { return v.tier() == "silver"; }));
  EXPECT_EQ(p.profile().logins(), 0u);

  const int64_t now = absl::ToUnixMillis(absl::Now());
  const int64_t day = 24 * 3600 * 1000;
  // Two logins three days apart (the second tells the previous session
  // lasted 90 minutes), on the unary call and on the stream.
  *req.mutable_batch() = event("login", "p-vip", 1, now - 4 * day, "", "");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_TRUE(wait_for("p-vip", [](const v1::VipProfile& v) { return v.logins() == 1; }));
  v1::IngestSummary sum;
  ASSERT_TRUE(Stream({event("login", "p-vip", 1, now - day, "last_session_minutes", "90")}, &sum).ok());
  ASSERT_TRUE(wait_for("p-vip", [](const v1::VipProfile& v) { return v.logins() == 2; }));
  EXPECT_EQ(p.profile().last_login_ms(), now - day);
  EXPECT_NEAR(p.profile().login_gap_days_avg(), 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(p.profile().session_minutes_baseline(), 90);

  // A logout's value is the session's length: a short one pulls the recent
  // trend below the baseline.
  *req.mutable_batch() = event("logout", "p-vip", 10, now - day + 600'000, "", "");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_TRUE(wait_for("p-vip", [](const v1::VipProfile& v) {
    return v.session_minutes_recent() < v.session_minutes_baseline();
  }));
  EXPECT_EQ(p.profile().logins(), 2u);  // a logout is not a login
  EXPECT_DOUBLE_EQ(p.profile().session_minutes_recent(), 0.7 * 90 + 0.3 * 10);

  // A player without a tier gets no profile from logging in; one who only
  // bought a little keeps their profile unchanged.
  *req.mutable_batch() = event("login", "p-free", 1, 0, "", "");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  *req.mutable_batch() = event("purchase", "p-small", 5, 0, "order_id", "o-2");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_TRUE(wait_for("p-small", [](const v1::VipProfile& v) { return v.lifetime_spend_cents() == 500; }));
  *req.mutable_batch() = event("login", "p-small", 1, 0, "", "");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());

  // After a restart the tier holders are known again.
  StopServer();
  StartServer();
  ev = v1::EventService::NewStub(channel_);
  vip = v1::VipService::NewStub(channel_);
  *req.mutable_batch() = event("login", "p-vip", 1, now, "", "");
  ASSERT_TRUE(ev->PublishEvents(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_TRUE(wait_for("p-vip", [](const v1::VipProfile& v) { return v.logins() == 3; }));
  EXPECT_EQ(profile_of("p-free", &p).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(profile_of("p-small", &p).ok());
  EXPECT_EQ(p.profile().logins(), 0u);
}

// Roll-ups land per minute and per hour; retention drops old minutes and
// keeps hours.
// Ingests one "ccu" event of server eu1/s1 and waits for the pipeline to take it.
void PublishCcu(Monitoring& m, int64_t at, double ccu) {
  auto b = std::make_shared<v1::EventBatch>();
  b->set_realm_id("eu1");
  b->set_server_id("s1");
  auto* e = b->add_events();
  e->set_type("ccu");
  e->set_time_ms(at);
  e->set_value(ccu);
  std::promise<void> p;
  m.Ingest(EventBatchView::Of(b), [&p](IngestResult) { p.set_value(); });
  p.get_future().wait();
}

TEST(MonitoringRetentionTest, MinutesExpireHoursStay) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto store = *storage::Store::Open({.path = dir.string()});
  FakeClock clock{1'800'000'000'000};  // a whole hour
  const int64_t t0 = clock.NowMs();
  MonitoringOptions o;
  o.pipeline.clock = &clock;
  o.pipeline.allowed_lateness_ms = 1000;
  o.minute_retention_ms = 48LL * 3600 * 1000;
  Monitoring m(store.get(), nullptr, nullptr, o);
  ASSERT_TRUE(m.Init(absl::Hours(100)).ok());
  PrincipalConfig gm{.name = "ann", .kind = PrincipalKind::kGm, .role = Role::kAgent};
  Caller ann{&gm, ""};
  auto publish = [&](int64_t at, double ccu) { PublishCcu(m, at, ccu); };
  clock.SetMs(t0 + 500);
  publish(t0 + 100, 1000);
  publish(t0 + 200, 1200);
  clock.SetMs(t0 + 60'000 + 500);
  publish(t0 + 60'100, 900);
  clock.SetMs(t0 + 121'000);
  m.pipeline().Sync();
  ASSERT_TRUE(store->CommitAndWait([](storage::Txn&) { return absl::OkStatus(); }).ok());  // roll-ups stored

  v1::QueryMetricsRequest q;
  q.set_type("ccu");
  q.set_realm_id("eu1");
  v1::QueryMetricsResponse minutes;
  ASSERT_TRUE(m.QueryMetrics(ann, q, &minutes).ok());
  ASSERT_EQ(minutes.points_size(), 2);
  EXPECT_EQ(minutes.points(0).start_ms(), t0);
  EXPECT_EQ(minutes.points(0).count(), 2u);
  EXPECT_EQ(minutes.points(0).max(), 1200);
  EXPECT_EQ(minutes.points(1).min(), 900);
  q.set_resolution(v1::RESOLUTION_HOUR);
  v1::QueryMetricsResponse hours;
  ASSERT_TRUE(m.QueryMetrics(ann, q, &hours).ok());
  ASSERT_EQ(hours.points_size(), 1);
  EXPECT_EQ(hours.points(0).count(), 3u);
  EXPECT_EQ(hours.points(0).sum(), 3100);

  clock.SetMs(t0 + 49LL * 3600 * 1000);
  auto deleted = m.RunRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  q.set_from_ms(t0 - 1);
  q.set_resolution(v1::RESOLUTION_MINUTE);
  minutes.Clear();
  ASSERT_TRUE(m.QueryMetrics(ann, q, &minutes).ok());
  EXPECT_EQ(minutes.points_size(), 0);
  q.set_resolution(v1::RESOLUTION_HOUR);
  hours.Clear();
  ASSERT_TRUE(m.QueryMetrics(ann, q, &hours).ok());
  EXPECT_EQ(hours.points_size(), 1);
  EXPECT_EQ(m.QueryMetrics(Caller{&gm, ""}, v1::QueryMetricsRequest(), &hours).code(),
            absl::StatusCode::kInvalidArgument);  // no type
}

// A graceful stop stores the open minute's roll-ups: a deploy loses no
// metrics, and what arrives later in the same minute adds up.
TEST(MonitoringRollupTest, TheOpenMinuteSurvivesAGracefulStop) {
  test::TempDir dir;
  FakeClock clock{1'800'000'000'000};
  const int64_t t0 = clock.NowMs();
  PrincipalConfig gm{.name = "ann", .kind = PrincipalKind::kGm, .role = Role::kAgent};
  Caller ann{&gm, ""};
  auto run = [&](double ccu, int64_t at) {
    auto store = *storage::Store::Open({.path = dir.path().string()});
    MonitoringOptions o;
    o.pipeline.clock = &clock;
    o.pipeline.rollup_flush_ms = 0;  // only the stop saves the open minute
    Monitoring m(store.get(), nullptr, nullptr, o);
    EXPECT_TRUE(m.Init(absl::Hours(100)).ok());
    PublishCcu(m, at, ccu);
    m.pipeline().Sync();
    EXPECT_TRUE(m.SaveRollups().ok());
    v1::QueryMetricsRequest q;
    q.set_type("ccu");
    q.set_realm_id("eu1");
    v1::QueryMetricsResponse resp;
    EXPECT_TRUE(m.QueryMetrics(ann, q, &resp).ok());
    return resp;
  };
  clock.SetMs(t0 + 1'000);
  auto first = run(1000, t0 + 500);
  ASSERT_EQ(first.points_size(), 1) << "the open minute was lost at stop";
  EXPECT_EQ(first.points(0).count(), 1u);
  clock.SetMs(t0 + 20'000);
  auto second = run(1400, t0 + 19'000);
  ASSERT_EQ(second.points_size(), 1);
  EXPECT_EQ(second.points(0).count(), 2u);
  EXPECT_EQ(second.points(0).sum(), 2400);
  EXPECT_EQ(second.points(0).max(), 1400);
}

// A rule that fires for every player must not bury the alert store and
// the GMs: past its budget for the minute, one storm summary stands for
// the firings held back, which are counted; a quiet minute ends the storm.
TEST(MonitoringStormTest, PastItsBudgetARuleRaisesOneSummaryThatCountsWhatWasHeld) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto store = *storage::Store::Open({.path = dir.string()});
  FakeClock clock{1'800'000'000'000};  // the start of a minute
  MonitoringOptions o;
  o.pipeline.clock = &clock;
  o.alerts_per_rule_per_minute = 3;
  Monitoring m(store.get(), nullptr, nullptr, o);
  ASSERT_TRUE(m.Init(absl::Hours(100)).ok());
  PrincipalConfig lead{.name = "lee", .kind = PrincipalKind::kGm, .role = Role::kLead};
  Caller gm{&lead, ""};
  v1::SaveRuleRequest save;
  v1::Rule& r = *save.mutable_rule();
  r.set_name("says hello");
  r.set_kind(v1::RULE_KIND_PATTERN);
  r.set_enabled(true);
  r.add_event_types("chat");
  r.add_group_by("player");
  r.set_pattern("hello");
  r.set_threshold(1);
  v1::SaveRuleResponse saved;
  std::promise<absl::Status> p;
  m.SaveRule(gm, save, &saved, [&p](absl::Status s) { p.set_value(s); });
  ASSERT_TRUE(p.get_future().get().ok());
  auto settle = [&] {
    m.pipeline().Sync();
    ASSERT_TRUE(store->CommitAndWait([](storage::Txn&) { return absl::OkStatus(); }).ok());
  };
  auto chat = [&](int from, int to) {  // one line from each of players from..to-1
    auto b = std::make_shared<v1::EventBatch>();
    b->set_realm_id("eu1");
    b->set_server_id("s1");
    for (int i = from; i < to; ++i) {
      auto* e = b->add_events();
      e->set_type("chat");
      e->set_player_id("p-" + std::to_string(i));
      e->set_time_ms(clock.NowMs());
      e->set_text("hello all");
    }
    std::promise<void> done;
    m.Ingest(EventBatchView::Of(b), [&done](IngestResult) { done.set_value(); });
    done.get_future().wait();
    settle();
  };
  auto alerts = [&] {
    v1::ListAlertsResponse resp;
    EXPECT_TRUE(m.ListAlerts(gm, v1::ListAlertsRequest(), &resp).ok());
    return std::vector<v1::Alert>(resp.alerts().begin(), resp.alerts().end());  // newest first
  };
  auto stats = [&] {
    v1::PipelineStats st;
    EXPECT_TRUE(m.Stats(gm, v1::PipelineStatsRequest(), &st).ok());
    return st;
  };

  clock.AdvanceMs(1'000);
  chat(0, 10);  // ten players fire: three alerts, then a storm
  std::vector<v1::Alert> a = alerts();
  ASSERT_EQ(a.size(), 4u);
  int storms = 0;
  for (const auto& x : a) storms += x.storm();
  EXPECT_EQ(storms, 1);
  EXPECT_EQ(stats().alerts_held(), 7u);
  EXPECT_EQ(stats().alerts_raised(), 4u);
  // Each second the held firings are written into the summary.
  clock.AdvanceMs(1'000);
  chat(10, 15);
  m.Housekeep();
  settle();
  a = alerts();
  ASSERT_EQ(a.size(), 4u);
  auto summary = *std::find_if(a.begin(), a.end(), [](const v1::Alert& x) { return x.storm(); });
  EXPECT_EQ(summary.occurrences(), 12u);
  EXPECT_EQ(summary.rule_id(), saved.rule().id());
  EXPECT_NE(summary.key().find("storm"), std::string::npos);
  EXPECT_TRUE(summary.player_id().empty());
  EXPECT_EQ(stats().alerts_held(), 12u);
  // The next minute (59 s after the last held firing, so the storm is not
  // yet over) has a fresh budget, but firings past it join the same summary.
  clock.AdvanceMs(59'000);
  chat(15, 25);
  m.Housekeep();
  settle();
  a = alerts();
  ASSERT_EQ(a.size(), 7u);  // three more alerts, the same summary
  summary = *std::find_if(a.begin(), a.end(), [](const v1::Alert& x) { return x.storm(); });
  EXPECT_EQ(summary.occurrences(), 19u);
  // A quiet minute ends it; the next firing is an ordinary alert, and a
  // storm after that gets a summary of its own.
  clock.AdvanceMs(61'000);
  m.Housekeep();
  chat(25, 26);
  a = alerts();
  ASSERT_EQ(a.size(), 8u);
  EXPECT_FALSE(a[0].storm());
  EXPECT_EQ(a[0].player_id(), "p-25");
  chat(26, 30);
  storms = 0;
  for (const auto& x : alerts()) storms += x.storm();
  EXPECT_EQ(storms, 2);
}

}  // namespace
}  // namespace steward

