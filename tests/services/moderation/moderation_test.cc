// Moderation: sanctions, approvals, appeals, the player check and the
// directive stream, over a real in-process server (and, for exact expiry,
// the domain object on a real store with a chosen clock).
#include <grpcpp/grpcpp.h>

#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "tests/common/server_fixture.h"
#include "storage/keys.h"
#include "services/gameservers/directives.h"
#include "services/common/idempotency.h"
#include "services/moderation/moderation.h"
#include "services/common/records.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
using grpc::StatusCode;

constexpr int64_t kDay = 24 * 3600 * 1000LL;
const std::string kDeviceHash(64, 'a');
const std::string kIpHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

v1::SanctionSpec Spec(v1::SanctionType type, const std::string& subject, int64_t duration_ms = 0,
                      const std::string& realm = "", const std::string& server = "") {
  v1::SanctionSpec s;
  s.set_type(type);
  s.set_subject_id(subject);
  s.set_duration_ms(duration_ms);
  s.mutable_scope()->set_realm_id(realm);
  s.mutable_scope()->set_server_id(server);
  s.set_reason("Used a speed hack in the arena");
  s.set_policy_code("cheating");
  s.add_evidence("case/17");
  return s;
}

// --- The domain on a real store, with the clock chosen by the test. ---

TEST(ModerationDomainTest, ExpiryIsExactAtReadTimeAndSurvivesRebuild) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  PrincipalConfig lead = Gm("lead", Role::kLead);
  Caller c{&lead, ""};
  uint64_t expires = 0;
  {
    auto store = storage::Store::Open({.path = dir.string()});
    ASSERT_TRUE(store.ok());
    DirectiveHub hub(store->get());
    ASSERT_TRUE(hub.Init().ok());
    Moderation m(store->get(), &hub);
    ASSERT_TRUE(m.Init().ok());
    v1::IssueSanctionRequest req;
    req.set_idempotency_key("k1");
    *req.mutable_spec() = Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-1", 3 * kDay, "eu1");
    v1::IssueSanctionResponse resp;
    std::promise<absl::Status> done;
    m.Issue(c, req, &resp, [&](absl::Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
    expires = resp.sanction().expires_at_ms();
    ASSERT_EQ(expires, resp.sanction().effective_at_ms() + 3 * kDay);
    v1::CheckPlayerRequest q;
    q.set_player_id("p-1");
    q.set_realm_id("eu1");
    v1::PlayerStatus st;
    m.Evaluate(q, expires - 1, &st);
    EXPECT_FALSE(st.can_login());
    ASSERT_EQ(st.restrictions_size(), 1);
    EXPECT_EQ(st.restrictions(0).remaining_ms(), 1);
    st.Clear();
    m.Evaluate(q, expires, &st);
    EXPECT_TRUE(st.can_login());
    EXPECT_EQ(st.restrictions_size(), 0);
    // Pruning frees memory only after expiry.
    EXPECT_EQ(m.PruneExpired(expires - 1), 0u);
  }
  // Rebuilt from RocksDB after a restart: same answer at the same instants.
  auto store = storage::Store::Open({.path = dir.string()});
  ASSERT_TRUE(store.ok());
  DirectiveHub hub(store->get());
  ASSERT_TRUE(hub.Init().ok());
  Moderation m(store->get(), &hub);
  ASSERT_TRUE(m.Init().ok());
  EXPECT_EQ(m.index().size(), 1u);
  v1::CheckPlayerRequest q;
  q.set_player_id("p-1");
  q.set_realm_id("eu1");
  v1::PlayerStatus st;
  m.Evaluate(q, expires - 1, &st);
  EXPECT_FALSE(st.can_login());
  st.Clear();
  m.Evaluate(q, expires, &st);
  EXPECT_TRUE(st.can_login());
  EXPECT_EQ(m.PruneExpired(expires), 1u);
  EXPECT_EQ(m.index().size(), 0u);
  store->reset();
  std::filesystem::remove_all(dir);
}

// --- Over gRPC. ---

class ModerationTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    Stubs();
  }
  void Stubs() {
    mod_ = v1::ModerationService::NewStub(channel_);
    gs_ = v1::GameServerService::NewStub(channel_);
    audit_ = v1::AuditService::NewStub(channel_);
  }
  void Restart() {
    StopServer();
    StartServer();
    Stubs();
  }

  grpc::Status Issue(const std::string& who, const v1::SanctionSpec& spec, v1::Sanction* out,
                     const std::string& key = "") {
    v1::IssueSanctionRequest req;
    req.set_idempotency_key(key.empty() ? "k-" + std::to_string(++seq_) : key);
    *req.mutable_spec() = spec;
    v1::IssueSanctionResponse resp;
    grpc::Status s = mod_->IssueSanction(Ctx(who).get(), req, &resp);
    if (out) *out = resp.sanction();
    return s;
  }
  v1::Sanction MustIssue(const std::string& who, const v1::SanctionSpec& spec) {
    v1::Sanction s;
    grpc::Status st = Issue(who, spec, &s);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return s;
  }
  v1::PlayerStatus Check(const std::string& who, const std::string& player,
                         const std::string& realm = "eu1", const std::string& server = "",
                         const std::string& device = "", const std::string& ip = "") {
    v1::CheckPlayerRequest req;
    req.set_player_id(player);
    req.set_realm_id(realm);
    req.set_server_id(server);
    req.set_device_hash(device);
    req.set_ip_hash(ip);
    v1::PlayerStatus st;
    grpc::Status s = mod_->CheckPlayer(Ctx(who).get(), req, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return st;
  }
  grpc::Status Decide(const std::string& who, uint64_t approval, bool approve) {
    v1::DecideApprovalRequest req;
    req.set_approval_id(approval);
    req.set_approve(approve);
    req.set_reason("checked the evidence");
    v1::DecideApprovalResponse resp;
    return mod_->DecideApproval(Ctx(who).get(), req, &resp);
  }
  void Register(const std::string& who, const std::string& server) {
    v1::RegisterServerRequest req;
    req.set_server_id(server);
    req.set_build("1.4.2");
    v1::RegisterServerResponse resp;
    grpc::Status s = gs_->RegisterServer(Ctx(who).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::unique_ptr<v1::ModerationService::Stub> mod_;
  std::unique_ptr<v1::GameServerService::Stub> gs_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  int seq_ = 0;
};

TEST_F(ModerationTest, ScopesDecideWhereASanctionApplies) {
  MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-realm", kDay, "eu1"));
  MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-server", kDay, "eu1", "eu1-s1"));
  MustIssue("lead", Spec(v1::SANCTION_TYPE_MUTE, "p-global", kDay));
  EXPECT_FALSE(Check("gs-eu1", "p-realm", "eu1", "eu1-s2").can_login());
  EXPECT_TRUE(Check("admin", "p-realm", "us1").can_login());
  EXPECT_FALSE(Check("gs-eu1", "p-server", "eu1", "eu1-s1").can_login());
  EXPECT_TRUE(Check("gs-eu1", "p-server", "eu1", "eu1-s2").can_login());
  // A server-scoped game-server token checks on its own server.
  EXPECT_FALSE(Check("gs-eu1-s1", "p-server", "", "").can_login());
  v1::PlayerStatus g = Check("gs-us1", "p-global", "us1");
  EXPECT_TRUE(g.can_login());
  EXPECT_FALSE(g.can_chat());
  ASSERT_EQ(g.restrictions_size(), 1);
  EXPECT_EQ(g.restrictions(0).reason(), "Used a speed hack in the arena");
  EXPECT_TRUE(g.restrictions(0).appealable());
  EXPECT_GT(g.restrictions(0).remaining_ms(), kDay - 60'000);
  // A game server cannot look into another realm.
  v1::CheckPlayerRequest other;
  other.set_player_id("p-global");
  other.set_realm_id("us1");
  v1::PlayerStatus st;
  EXPECT_EQ(mod_->CheckPlayer(Ctx("gs-eu1").get(), other, &st).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(ModerationTest, RestrictionsShadowMutesAndHashBans) {
  auto restrict = Spec(v1::SANCTION_TYPE_RESTRICT, "p-1", kDay);
  restrict.add_features("trade");
  restrict.add_features("market");
  MustIssue("agent", restrict);
  MustIssue("agent", Spec(v1::SANCTION_TYPE_SHADOW_MUTE, "p-1", kDay));
  v1::PlayerStatus st = Check("gs-eu1", "p-1");
  EXPECT_TRUE(st.can_login());
  EXPECT_TRUE(st.can_chat());
  EXPECT_TRUE(st.shadow_muted());
  EXPECT_EQ(st.restricted_features_size(), 2);
  for (const auto& r : st.restrictions()) {
    if (r.type() == v1::SANCTION_TYPE_SHADOW_MUTE) {
      EXPECT_FALSE(r.show_to_player());
      EXPECT_TRUE(r.reason().empty());
    }
  }
  // Raw IPs are refused; hashes are fine (after approval).
  v1::Sanction s;
  EXPECT_EQ(Issue("sup", Spec(v1::SANCTION_TYPE_IP_BAN, "203.0.113.7"), &s).error_code(),
            StatusCode::INVALID_ARGUMENT);
  v1::Sanction ip = MustIssue("sup", Spec(v1::SANCTION_TYPE_IP_BAN, kIpHash));
  v1::Sanction dev = MustIssue("sup", Spec(v1::SANCTION_TYPE_DEVICE_BAN, kDeviceHash));
  EXPECT_EQ(ip.state(), v1::SANCTION_STATE_PENDING_APPROVAL);
  EXPECT_TRUE(Check("gs-eu1", "p-2", "eu1", "", "", kIpHash).can_login());
  ASSERT_TRUE(Decide("sup2", ip.approval_id(), true).ok());
  ASSERT_TRUE(Decide("sup2", dev.approval_id(), true).ok());
  EXPECT_FALSE(Check("gs-eu1", "p-2", "eu1", "", "", kIpHash).can_login());
  v1::PlayerStatus d = Check("gs-eu1", "p-3", "eu1", "", kDeviceHash);
  EXPECT_FALSE(d.can_login());
  EXPECT_FALSE(d.restrictions(0).appealable());  // not the player's own sanction
  // A closed chat channel shows for whoever asks about it, and only it.
  MustIssue("lead", Spec(v1::SANCTION_TYPE_CHANNEL_BAN, "lfg-trade", kDay));
  v1::CheckPlayerRequest ch;
  ch.set_player_id("p-4");
  ch.set_realm_id("eu1");
  ch.add_channel_ids("world");
  ch.add_channel_ids("lfg-trade");
  v1::PlayerStatus cs;
  ASSERT_TRUE(mod_->CheckPlayer(Ctx("gs-eu1").get(), ch, &cs).ok());
  ASSERT_EQ(cs.banned_channels_size(), 1);
  EXPECT_EQ(cs.banned_channels(0), "lfg-trade");
  EXPECT_TRUE(cs.can_chat());  // elsewhere
  EXPECT_FALSE(cs.restrictions(0).appealable());
  EXPECT_EQ(Check("gs-eu1", "p-4").banned_channels_size(), 0);
  for (int i = 0; i < 16; ++i) ch.add_channel_ids("c" + std::to_string(i));
  EXPECT_EQ(mod_->CheckPlayer(Ctx("gs-eu1").get(), ch, &cs).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(ModerationTest, RolesLimitWhatEachGmMayIssue) {
  v1::Sanction s;
  EXPECT_EQ(Issue("agent", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-1", 30 * kDay), &s).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Issue("agent", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-1", 7 * kDay), &s).ok());
  EXPECT_EQ(Issue("lead", Spec(v1::SANCTION_TYPE_DEVICE_BAN, kDeviceHash), &s).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Issue("gs-eu1", Spec(v1::SANCTION_TYPE_MUTE, "p-1"), &s).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Issue("", Spec(v1::SANCTION_TYPE_MUTE, "p-1"), &s).error_code(),
            StatusCode::UNAUTHENTICATED);
  auto no_expiry = Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-1", 0);
  grpc::Status bad = Issue("lead", no_expiry, &s);
  EXPECT_EQ(bad.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("spec.duration_ms"), std::string::npos);
  // Agents revoke only their own.
  v1::Sanction mine = MustIssue("agent", Spec(v1::SANCTION_TYPE_MUTE, "p-4", kDay));
  v1::RevokeSanctionRequest rv;
  rv.set_sanction_id(mine.id());
  rv.set_reason("wrong player");
  v1::RevokeSanctionResponse rresp;
  EXPECT_EQ(mod_->RevokeSanction(Ctx("agent2").get(), rv, &rresp).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(mod_->RevokeSanction(Ctx("agent").get(), rv, &rresp).ok());
  EXPECT_TRUE(Check("gs-eu1", "p-4").can_chat());
  EXPECT_EQ(mod_->RevokeSanction(Ctx("lead").get(), rv, &rresp).error_code(),
            StatusCode::FAILED_PRECONDITION);
}

TEST_F(ModerationTest, PermanentBansNeedASecondGm) {
  v1::Sanction ban = MustIssue("lead", Spec(v1::SANCTION_TYPE_BAN, "p-cheat"));
  EXPECT_EQ(ban.state(), v1::SANCTION_STATE_PENDING_APPROVAL);
  EXPECT_NE(ban.approval_id(), 0u);
  EXPECT_TRUE(Check("gs-eu1", "p-cheat").can_login());  // not in force yet

  v1::ListApprovalsRequest lreq;
  lreq.set_pending_only(true);
  v1::ListApprovalsResponse pending;
  ASSERT_TRUE(mod_->ListApprovals(Ctx("sup").get(), lreq, &pending).ok());
  ASSERT_EQ(pending.approvals_size(), 1);
  EXPECT_EQ(pending.approvals(0).why_needed(), "permanent ban");

  EXPECT_EQ(Decide("lead", ban.approval_id(), true).error_code(), StatusCode::PERMISSION_DENIED);
  // A supervisor's own proposal needs someone else.
  v1::Sanction own = MustIssue("sup", Spec(v1::SANCTION_TYPE_BAN, "p-other"));
  EXPECT_EQ(Decide("sup", own.approval_id(), true).error_code(), StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(Decide("sup", ban.approval_id(), true).ok());
  EXPECT_FALSE(Check("gs-eu1", "p-cheat").can_login());
  EXPECT_EQ(Decide("sup2", ban.approval_id(), false).error_code(),
            StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Decide("sup2", own.approval_id(), false).ok());
  v1::GetSanctionRequest g;
  g.set_sanction_id(own.id());
  v1::Sanction got;
  ASSERT_TRUE(mod_->GetSanction(Ctx("agent").get(), g, &got).ok());
  EXPECT_EQ(got.state(), v1::SANCTION_STATE_REJECTED);
  EXPECT_TRUE(Check("gs-eu1", "p-other").can_login());
  pending.Clear();
  ASSERT_TRUE(mod_->ListApprovals(Ctx("sup").get(), lreq, &pending).ok());
  EXPECT_EQ(pending.approvals_size(), 0);

  // The decisions are in the audit trail.
  v1::ListAuditRequest areq;
  areq.set_target("sanction/" + std::to_string(ban.id()));
  v1::ListAuditResponse trail;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("admin").get(), areq, &trail).ok());
  ASSERT_EQ(trail.records_size(), 2);
  EXPECT_EQ(trail.records(0).action(), "sanction.approve");
  EXPECT_EQ(trail.records(0).actor(), "sup");
  EXPECT_EQ(trail.records(1).action(), "sanction.issue");
}

// An idempotency key answers retries for its lifetime; once expired, the
// same key is a new request. Entries are deleted in write order, and only
// those written before the cutoff.
TEST_F(ModerationTest, IdempotencyKeysExpireAfterTheirLifetime) {
  const int64_t kHour = 3600 * 1000;
  auto now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  auto spec = Spec(v1::SANCTION_TYPE_MUTE, "p-7", kHour, "eu1");
  v1::Sanction first, again;
  ASSERT_TRUE(Issue("agent", spec, &first, "mute-p7").ok());
  ASSERT_TRUE(Issue("agent", spec, &again, "mute-p7").ok());
  EXPECT_EQ(again.id(), first.id());  // a retry
  IdempotencyExpiry expiry(store_.get(), 7 * 24 * kHour);
  auto n = expiry.Expire(now_ms() - kHour);  // nothing is that old
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  ASSERT_TRUE(Issue("agent", spec, &again, "mute-p7").ok());
  EXPECT_EQ(again.id(), first.id());
  const int64_t cutoff = now_ms() + 1;
  n = expiry.Expire(cutoff);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  // The key is forgotten: the same request now places a second mute.
  ASSERT_TRUE(Issue("agent", spec, &again, "mute-p7").ok());
  EXPECT_NE(again.id(), first.id());
  v1::Sanction retry;
  ASSERT_TRUE(Issue("agent", spec, &retry, "mute-p7").ok());
  EXPECT_EQ(retry.id(), again.id());
  // The new entry is younger than the old cutoff, so it stays.
  n = expiry.Expire(cutoff - 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  ASSERT_TRUE(Issue("agent", spec, &retry, "mute-p7").ok());
  EXPECT_EQ(retry.id(), again.id());
}

// Keys written before the time index existed are indexed once, at the
// first start, as written then; they expire a lifetime later.
TEST_F(ModerationTest, IdempotencyKeysFromBeforeTheIndexGetOneOnFirstStart) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
    txn.Put(storage::Cf::kIdempotency, "legacy-key", storage::KeyWriter().U64(5).key());
    txn.Delete(storage::Cf::kMeta, "idempotency_time_index");  // as a store from before
    return absl::OkStatus();
  }).ok());
  IdempotencyExpiry expiry(store_.get(), 3600 * 1000);
  ASSERT_TRUE(expiry.Init().ok());
  auto n = expiry.Expire(now - 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);  // indexed as written now, not at the epoch
  n = expiry.Expire(absl::ToUnixMillis(absl::Now()) + 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(store_->Get(storage::Cf::kIdempotency, "legacy-key", &v)));
  // Only once: a later start indexes nothing again.
  ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
    txn.Put(storage::Cf::kIdempotency, "legacy-key-2", storage::KeyWriter().U64(6).key());
    return absl::OkStatus();
  }).ok());
  ASSERT_TRUE(expiry.Init().ok());
  n = expiry.Expire(absl::ToUnixMillis(absl::Now()) + 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

// A backlog larger than one slice is expired in full.
TEST_F(ModerationTest, IdempotencyExpiryWorksThroughABacklogInSlices) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
    for (int i = 0; i < 25'000; ++i) RecordIdempotent(txn, "bulk-" + std::to_string(i), 1, now - 10'000 + i % 1000);
    return absl::OkStatus();
  }).ok());
  IdempotencyExpiry expiry(store_.get(), 3600 * 1000);
  auto n = expiry.Expire(now);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 25'000);
  int left = 0;
  ASSERT_TRUE(store_->Scan(storage::Cf::kIdempotency, "bulk-", "bulk.", false, [&](absl::string_view, absl::string_view) {
    ++left;
    return true;
  }).ok());
  EXPECT_EQ(left, 0);
}

TEST_F(ModerationTest, BulkIsAllOrNothingIdempotentAndLargeOnesWaitForApproval) {
  v1::BulkIssueSanctionsRequest req;
  req.set_idempotency_key("wave-1");
  for (int i = 0; i < 10; ++i) {
    *req.add_specs() = Spec(v1::SANCTION_TYPE_TEMP_BAN, "bot-" + std::to_string(i), kDay);
  }
  req.mutable_specs(3)->set_reason("");
  v1::BulkIssueSanctionsResponse resp;
  grpc::Status s = mod_->BulkIssueSanctions(Ctx("agent").get(), req, &resp);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("specs[3].reason"), std::string::npos);
  EXPECT_TRUE(Check("gs-eu1", "bot-0").can_login());

  req.mutable_specs(3)->set_reason("Botting");
  ASSERT_TRUE(mod_->BulkIssueSanctions(Ctx("agent").get(), req, &resp).ok());
  ASSERT_EQ(resp.sanctions_size(), 10);
  EXPECT_EQ(resp.approval_id(), 0u);
  EXPECT_FALSE(Check("gs-eu1", "bot-9").can_login());
  v1::BulkIssueSanctionsResponse again;
  ASSERT_TRUE(mod_->BulkIssueSanctions(Ctx("agent").get(), req, &again).ok());
  EXPECT_TRUE(again.deduplicated());
  EXPECT_EQ(again.sanctions(9).id(), resp.sanctions(9).id());

  v1::BulkIssueSanctionsRequest big;
  big.set_idempotency_key("wave-2");
  for (int i = 0; i < 1000; ++i) {
    *big.add_specs() = Spec(v1::SANCTION_TYPE_TEMP_BAN, "farm-" + std::to_string(i), kDay);
  }
  ASSERT_TRUE(mod_->BulkIssueSanctions(Ctx("agent").get(), big, &resp).ok());
  EXPECT_NE(resp.approval_id(), 0u);
  EXPECT_TRUE(Check("gs-eu1", "farm-500").can_login());
  ASSERT_TRUE(Decide("sup", resp.approval_id(), true).ok());
  EXPECT_FALSE(Check("gs-eu1", "farm-500").can_login());
  EXPECT_FALSE(Check("gs-eu1", "farm-999").can_login());
  big.add_specs()->CopyFrom(big.specs(0));
  EXPECT_EQ(mod_->BulkIssueSanctions(Ctx("agent").get(), big, &resp).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(ModerationTest, AppealLifecycle) {
  v1::Sanction ban = MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-7", 10 * kDay, "eu1"));
  v1::FileAppealRequest fa;
  fa.set_sanction_id(ban.id());
  fa.set_reason(v1::APPEAL_REASON_COMPROMISED_ACCOUNT);
  fa.set_text("My account was stolen last week; I have changed my password since.");
  v1::FileAppealResponse appeal;
  // Only the sanctioned player, through a game server of that realm.
  EXPECT_EQ(mod_->FileAppeal(Ctx("gs-eu1", "p-8").get(), fa, &appeal).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(mod_->FileAppeal(Ctx("gs-us1", "p-7").get(), fa, &appeal).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(mod_->FileAppeal(Ctx("lead").get(), fa, &appeal).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(mod_->FileAppeal(Ctx("gs-eu1", "p-7").get(), fa, &appeal).ok());
  EXPECT_EQ(appeal.appeal().state(), v1::APPEAL_STATE_OPEN);
  EXPECT_EQ(mod_->FileAppeal(Ctx("gs-eu1", "p-7").get(), fa, &appeal).error_code(),
            StatusCode::ALREADY_EXISTS);
  v1::PlayerStatus st = Check("gs-eu1", "p-7");
  EXPECT_FALSE(st.restrictions(0).appealable());
  EXPECT_EQ(st.restrictions(0).appeal_state(), v1::APPEAL_STATE_OPEN);

  v1::ListAppealsRequest lreq;
  lreq.set_open_only(true);
  v1::ListAppealsResponse open;
  ASSERT_TRUE(mod_->ListAppeals(Ctx("lead").get(), lreq, &open).ok());
  ASSERT_EQ(open.appeals_size(), 1);

  v1::DecideAppealRequest dec;
  dec.set_appeal_id(appeal.appeal().id());
  dec.set_decision(v1::APPEAL_DECISION_REDUCE);
  dec.set_new_duration_ms(20 * kDay);
  dec.set_reply("Reduced: the account showed a login from a new country.");
  v1::DecideAppealResponse out;
  EXPECT_EQ(mod_->DecideAppeal(Ctx("agent").get(), dec, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(mod_->DecideAppeal(Ctx("lead").get(), dec, &out).error_code(),
            StatusCode::INVALID_ARGUMENT);  // longer is not a reduction
  dec.set_new_duration_ms(2 * kDay);
  ASSERT_TRUE(mod_->DecideAppeal(Ctx("lead").get(), dec, &out).ok());
  EXPECT_EQ(out.appeal().state(), v1::APPEAL_STATE_REDUCED);
  EXPECT_EQ(out.sanction().expires_at_ms(), ban.effective_at_ms() + 2 * kDay);
  st = Check("gs-eu1", "p-7");
  EXPECT_FALSE(st.can_login());
  EXPECT_LE(st.restrictions(0).remaining_ms(), 2 * kDay);
  EXPECT_EQ(st.restrictions(0).appeal_state(), v1::APPEAL_STATE_REDUCED);
  EXPECT_EQ(mod_->DecideAppeal(Ctx("lead").get(), dec, &out).error_code(),
            StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(mod_->FileAppeal(Ctx("gs-eu1", "p-7").get(), fa, &appeal).error_code(),
            StatusCode::FAILED_PRECONDITION);

  // A revoked appeal lifts the sanction.
  v1::Sanction mute = MustIssue("agent", Spec(v1::SANCTION_TYPE_MUTE, "p-7", kDay, "eu1"));
  fa.set_sanction_id(mute.id());
  fa.set_reason(v1::APPEAL_REASON_INCORRECT);
  ASSERT_TRUE(mod_->FileAppeal(Ctx("gs-eu1", "p-7").get(), fa, &appeal).ok());
  dec.set_appeal_id(appeal.appeal().id());
  dec.set_decision(v1::APPEAL_DECISION_REVOKE);
  dec.set_reply("The chat log shows another player.");
  ASSERT_TRUE(mod_->DecideAppeal(Ctx("lead").get(), dec, &out).ok());
  EXPECT_EQ(out.sanction().state(), v1::SANCTION_STATE_REVOKED);
  EXPECT_TRUE(Check("gs-eu1", "p-7").can_chat());
}

TEST_F(ModerationTest, PenaltyLadderSuggestsTheNextStep) {
  v1::SuggestPenaltyRequest req;
  req.set_player_id("p-9");
  req.set_realm_id("eu1");
  req.set_policy_code("spamming");
  v1::SuggestPenaltyResponse resp;
  ASSERT_TRUE(mod_->SuggestPenalty(Ctx("agent").get(), req, &resp).ok());
  EXPECT_EQ(resp.suggested_type(), v1::SANCTION_TYPE_WARNING);
  EXPECT_DOUBLE_EQ(resp.strike_points(), 0);

  auto spam = Spec(v1::SANCTION_TYPE_WARNING, "p-9");
  spam.set_policy_code("spamming");
  MustIssue("agent", spam);
  resp.Clear();
  ASSERT_TRUE(mod_->SuggestPenalty(Ctx("agent").get(), req, &resp).ok());
  EXPECT_EQ(resp.suggested_type(), v1::SANCTION_TYPE_MUTE);  // 2 + 2 = 4
  EXPECT_EQ(resp.suggested_duration_ms(), kDay);
  MustIssue("agent", spam);
  MustIssue("agent", spam);
  resp.Clear();
  ASSERT_TRUE(mod_->SuggestPenalty(Ctx("agent").get(), req, &resp).ok());
  EXPECT_NEAR(resp.strike_points(), 6, 0.01);  // fresh strikes barely decayed
  EXPECT_EQ(resp.suggested_type(), v1::SANCTION_TYPE_TEMP_BAN);  // 6 + 2 = 8
  EXPECT_EQ(resp.suggested_duration_ms(), 3 * kDay);
  EXPECT_EQ(resp.contributions_size(), 3);
  EXPECT_FALSE(resp.explanation().empty());

  MustIssue("agent", Spec(v1::SANCTION_TYPE_MUTE, "p-9", kDay));  // cheating: 10
  req.set_policy_code("cheating");
  resp.Clear();
  ASSERT_TRUE(mod_->SuggestPenalty(Ctx("agent").get(), req, &resp).ok());
  EXPECT_EQ(resp.suggested_type(), v1::SANCTION_TYPE_BAN);  // 16 + 10 >= 20
}

// Reads directive batches until `want` directives arrived or time is up.
std::vector<v1::Directive> ReadDirectives(grpc::ClientReader<v1::DirectiveBatch>* r, size_t want) {
  std::vector<v1::Directive> got;
  v1::DirectiveBatch b;
  while (got.size() < want && r->Read(&b)) {
    for (auto& d : b.directives()) got.push_back(d);
  }
  return got;
}

TEST_F(ModerationTest, DirectivesReachLiveServersAndResumeWithoutLoss) {
  Register("gs-eu1", "eu1-s7");
  Register("gs-us1", "us1-s1");
  // Another principal cannot take over or watch a registered server.
  v1::RegisterServerRequest steal;
  steal.set_server_id("eu1-s7");
  v1::RegisterServerResponse sresp;
  EXPECT_EQ(gs_->RegisterServer(Ctx("gs-us1").get(), steal, &sresp).error_code(),
            StatusCode::PERMISSION_DENIED);

  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s7");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = gs_->WatchDirectives(ctx.get(), w);

  MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-us", kDay, "us1"));  // not for eu1
  v1::Sanction ban = MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, "p-a", kDay, "eu1"));
  auto got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sanction().sanction().id(), ban.id());
  EXPECT_EQ(got[0].sanction().change(), v1::SanctionChange::CHANGE_IN_FORCE);
  EXPECT_TRUE(got[0].sanction().disconnect());
  EXPECT_TRUE(got[0].sanction().sanction().issued_by().empty());
  EXPECT_TRUE(got[0].sanction().sanction().spec().evidence().empty());
  uint64_t first_seq = got[0].seq();
  ctx->TryCancel();
  reader->Finish();

  // While disconnected: three more for eu1 (one global).
  std::vector<uint64_t> missed;
  missed.push_back(MustIssue("agent", Spec(v1::SANCTION_TYPE_MUTE, "p-b", kDay, "eu1")).id());
  missed.push_back(MustIssue("agent", Spec(v1::SANCTION_TYPE_MUTE, "p-c", kDay)).id());
  missed.push_back(MustIssue("agent", Spec(v1::SANCTION_TYPE_KICK, "p-d", 0, "eu1")).id());
  v1::AckDirectivesRequest ack;
  ack.set_server_id("eu1-s7");
  ack.set_seq(first_seq);
  v1::AckDirectivesResponse aresp;
  ASSERT_TRUE(gs_->AckDirectives(Ctx("gs-eu1").get(), ack, &aresp).ok());
  EXPECT_EQ(gs_->AckDirectives(Ctx("gs-us1").get(), ack, &aresp).error_code(),
            StatusCode::PERMISSION_DENIED);

  auto resume = [&](std::vector<uint64_t> want_ids) {
    auto c2 = Ctx("gs-eu1");
    auto r2 = gs_->WatchDirectives(c2.get(), w);
    auto again = ReadDirectives(r2.get(), want_ids.size());
    ASSERT_EQ(again.size(), want_ids.size());
    uint64_t prev = first_seq;
    for (size_t i = 0; i < again.size(); ++i) {
      EXPECT_GT(again[i].seq(), prev);
      prev = again[i].seq();
      EXPECT_EQ(again[i].sanction().sanction().id(), want_ids[i]);
    }
    c2->TryCancel();
    r2->Finish();
  };
  resume(missed);

  // After a restart of the whole service (store reopened), the same.
  Restart();
  resume(missed);
}

// A server offline for longer than the directive retention resumes with
// missed_through naming what is gone, then gets what is left.
TEST_F(ModerationTest, ResumingFromBeforeTheRetentionCutIsToldWhatWasMissed) {
  Register("gs-eu1", "eu1-s7");
  std::vector<uint64_t> ids;
  for (const char* p : {"p-a", "p-b", "p-c"}) {
    ids.push_back(MustIssue("lead", Spec(v1::SANCTION_TYPE_TEMP_BAN, p, kDay, "eu1")).id());
  }
  StopServer();
  uint64_t latest = 0;
  {
    // What the hourly trim does once the retention has passed.
    auto store = storage::Store::Open({.path = dir_->str()});
    ASSERT_TRUE(store.ok());
    DirectiveHub hub(store->get());
    ASSERT_TRUE(hub.Init().ok());
    latest = hub.latest_seq();
    auto n = hub.Trim(INT64_MAX);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_GE(*n, 2);
  }
  StartServer();
  Stubs();
  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s7");
  w.set_from_last_ack(true);  // never acknowledged anything
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);
  v1::DirectiveBatch b;
  ASSERT_TRUE(reader->Read(&b));
  EXPECT_EQ(b.missed_through(), latest - 1);
  std::vector<v1::Directive> got(b.directives().begin(), b.directives().end());
  if (got.empty()) got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq(), latest);
  EXPECT_EQ(got[0].sanction().sanction().id(), ids.back());
  ctx->TryCancel();
  reader->Finish();
}

TEST_F(ModerationTest, BanReachesAConnectedServerImmediatelyAndShutdownEndsWatches) {
  Register("gs-eu1", "eu1-s1");
  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s1");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    v1::Sanction s = MustIssue("agent", Spec(v1::SANCTION_TYPE_KICK, "p-" + std::to_string(i)));
    auto got = ReadDirectives(reader.get(), 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].sanction().sanction().id(), s.id());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
  // Stopping the server ends the watch with UNAVAILABLE instead of
  // holding shutdown for the whole grace period.
  auto t0 = std::chrono::steady_clock::now();
  server_->Shutdown(absl::Seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  v1::DirectiveBatch b;
  EXPECT_FALSE(reader->Read(&b));
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::UNAVAILABLE);
}

TEST_F(ModerationTest, GmPublicRepliesReachThePlayersServerNotesDoNot) {
  auto tickets = v1::TicketService::NewStub(channel_);
  Register("gs-eu1", "eu1-s3");
  v1::SubmitTicketRequest t;
  t.set_idempotency_key("stuck");
  t.set_category(v1::TICKET_CATEGORY_BUG);
  t.set_subject("Stuck in a wall");
  t.mutable_context()->set_realm_id("eu1");
  t.mutable_context()->set_server_id("eu1-s3");
  v1::SubmitTicketResponse filed;
  ASSERT_TRUE(tickets->SubmitTicket(Ctx("gs-eu1", "p-5").get(), t, &filed).ok());

  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s3");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);
  v1::AddMessageRequest note;
  note.set_ticket_id(filed.ticket().id());
  note.set_body("Internal: known collision bug, see build 1.4.3");
  note.set_visibility(v1::MESSAGE_VISIBILITY_INTERNAL);
  v1::AddMessageResponse mresp;
  ASSERT_TRUE(tickets->AddMessage(Ctx("agent").get(), note, &mresp).ok());
  v1::AddMessageRequest reply = note;
  reply.set_body("We moved your character to the town square.");
  reply.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  reply.set_await_player(true);
  ASSERT_TRUE(tickets->AddMessage(Ctx("agent").get(), reply, &mresp).ok());
  auto got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);  // the note produced nothing
  ASSERT_TRUE(got[0].has_ticket_reply());
  EXPECT_EQ(got[0].ticket_reply().player_id(), "p-5");
  EXPECT_EQ(got[0].ticket_reply().message().body(), "We moved your character to the town square.");
  EXPECT_EQ(got[0].ticket_reply().status(), v1::TICKET_STATUS_WAITING_PLAYER);
  ctx->TryCancel();
  reader->Finish();
}

v1::AnnouncementSpec Notice(const std::string& title, const std::string& realm = "") {
  v1::AnnouncementSpec a;
  a.set_title(title);
  a.set_body("Servers restart at 04:00 UTC for about 20 minutes.");
  a.set_channel(v1::ANNOUNCEMENT_CHANNEL_BANNER);
  a.mutable_target()->set_realm_id(realm);
  return a;
}

TEST_F(ModerationTest, AnnouncementsAreDeliveredAcknowledgedAndCancelled) {
  auto ann = v1::AnnouncementService::NewStub(channel_);
  Register("gs-eu1", "eu1-s1");
  Register("gs-eu1", "eu1-s2");
  Register("gs-us1", "us1-s1");
  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s1");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);

  v1::CreateAnnouncementRequest req;
  req.set_idempotency_key("maint-1");
  *req.mutable_spec() = Notice("Maintenance tonight", "eu1");
  req.mutable_spec()->set_locale("de-DE");
  v1::AnnouncementResponse created;
  EXPECT_EQ(ann->CreateAnnouncement(Ctx("agent").get(), req, &created).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(ann->CreateAnnouncement(Ctx("lead").get(), req, &created).ok());
  EXPECT_EQ(created.announcement().state(), v1::ANNOUNCEMENT_STATE_FINISHED);  // shown once
  EXPECT_EQ(created.announcement().showings(), 1u);
  auto got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].announcement().title(), "Maintenance tonight");
  EXPECT_EQ(got[0].announcement().locale(), "de-DE");

  v1::AckDirectivesRequest ack;
  ack.set_server_id("eu1-s1");
  ack.set_seq(got[0].seq());
  v1::AckDirectivesResponse aresp;
  ASSERT_TRUE(gs_->AckDirectives(Ctx("gs-eu1").get(), ack, &aresp).ok());
  v1::GetDeliveriesRequest dreq;
  dreq.set_announcement_id(created.announcement().id());
  v1::GetDeliveriesResponse del;
  ASSERT_TRUE(ann->GetDeliveries(Ctx("agent").get(), dreq, &del).ok());
  ASSERT_EQ(del.servers_size(), 2);  // us1-s1 is not targeted
  EXPECT_EQ(del.acknowledged(), 1u);
  for (const auto& d : del.servers()) EXPECT_EQ(d.acknowledged(), d.server_id() == "eu1-s1");

  v1::CancelAnnouncementRequest cancel;
  cancel.set_announcement_id(created.announcement().id());
  cancel.set_reason("maintenance moved");
  v1::AnnouncementResponse cancelled;
  ASSERT_TRUE(ann->CancelAnnouncement(Ctx("lead").get(), cancel, &cancelled).ok());
  got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].announcement_cancel().announcement_id(), created.announcement().id());
  EXPECT_EQ(ann->CancelAnnouncement(Ctx("lead").get(), cancel, &cancelled).error_code(),
            StatusCode::FAILED_PRECONDITION);
  ctx->TryCancel();
  reader->Finish();

  // Bad input names the field.
  req.set_idempotency_key("bad");
  req.mutable_spec()->set_repeat_every_ms(1000);
  grpc::Status bad = ann->CreateAnnouncement(Ctx("lead").get(), req, &created);
  EXPECT_EQ(bad.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("spec.repeat_every_ms"), std::string::npos);
}

TEST_F(ModerationTest, RecurringScheduleCatchesUpOnceThenKeepsItsPeriod) {
  auto ann = v1::AnnouncementService::NewStub(channel_);
  int64_t now = absl::ToUnixMillis(absl::Now());
  v1::CreateAnnouncementRequest req;
  req.set_idempotency_key("daily");
  *req.mutable_spec() = Notice("Double XP weekend");
  req.mutable_spec()->set_starts_at_ms(now - 210'000);  // 3.5 periods ago
  req.mutable_spec()->set_repeat_every_ms(60'000);
  v1::AnnouncementResponse created;
  ASSERT_TRUE(ann->CreateAnnouncement(Ctx("lead").get(), req, &created).ok());
  const auto& a = created.announcement();
  EXPECT_EQ(a.state(), v1::ANNOUNCEMENT_STATE_SCHEDULED);
  EXPECT_EQ(a.showings(), 1u);  // one catch-up showing, not four
  EXPECT_EQ(a.next_at_ms(), now - 210'000 + 4 * 60'000);
  v1::ListAnnouncementsRequest lreq;
  lreq.set_scheduled_only(true);
  v1::ListAnnouncementsResponse listed;
  ASSERT_TRUE(ann->ListAnnouncements(Ctx("agent").get(), lreq, &listed).ok());
  ASSERT_EQ(listed.announcements_size(), 1);
  EXPECT_EQ(listed.announcements(0).id(), a.id());
}

TEST_F(ModerationTest, ScheduledAnnouncementFiresAfterARestart) {
  auto ann = v1::AnnouncementService::NewStub(channel_);
  Register("gs-eu1", "eu1-s1");
  v1::CreateAnnouncementRequest req;
  req.set_idempotency_key("later");
  *req.mutable_spec() = Notice("Event starts");
  req.mutable_spec()->set_starts_at_ms(absl::ToUnixMillis(absl::Now()) + 1500);
  v1::AnnouncementResponse created;
  ASSERT_TRUE(ann->CreateAnnouncement(Ctx("lead").get(), req, &created).ok());
  EXPECT_EQ(created.announcement().showings(), 0u);
  Restart();
  v1::WatchDirectivesRequest w;
  w.set_server_id("eu1-s1");
  w.set_from_last_ack(true);
  auto ctx = Ctx("gs-eu1");
  auto reader = gs_->WatchDirectives(ctx.get(), w);
  auto got = ReadDirectives(reader.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].announcement().title(), "Event starts");
  EXPECT_GE(got[0].at_ms(), req.spec().starts_at_ms());
  ctx->TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace steward
