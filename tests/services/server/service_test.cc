// TicketService and AuditService over a real in-process gRPC server on an
// ephemeral port, a real channel, and a real RocksDB in a temp dir.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "services/common/clock.h"
#include "health_check.grpc.pb.h"
#include "services/transport/auth.h"
#include "services/audit/audit.h"
#include "services/server/config.h"
#include "services/gameservers/directives.h"
#include "services/common/log.h"
#include "services/server/server.h"
#include "services/common/slow_lane.h"
#include "services/tickets/tickets.h"
#include "services/vip/vip.h"
#include "tests/common/server_fixture.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/knowledge.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"
#include "storage/store.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;

class ServiceTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    tickets_ = v1::TicketService::NewStub(channel_);
    audit_ = v1::AuditService::NewStub(channel_);
  }

  static v1::SubmitTicketRequest Req(const std::string& key,
                                     v1::TicketCategory cat = v1::TICKET_CATEGORY_QUESTION,
                                     const std::string& realm = "eu1") {
    v1::SubmitTicketRequest r;
    r.set_idempotency_key(key);
    r.set_category(cat);
    r.set_subject("Subject " + key);
    r.set_description("What happened, in the player's words.");
    r.mutable_context()->set_realm_id(realm);
    r.mutable_context()->set_server_id("eu1-s3");
    r.mutable_context()->set_map("Harbor");
    r.mutable_context()->mutable_position()->set_x(10.5);
    r.mutable_context()->set_client_build("1.4.2");
    r.mutable_context()->set_platform("windows");
    r.set_contact("player@example.org");
    return r;
  }

  grpc::Status Submit(const std::string& player, const v1::SubmitTicketRequest& req,
                      v1::SubmitTicketResponse* resp, const std::string& who = "gs-eu1") {
    return tickets_->SubmitTicket(Ctx(who, player).get(), req, resp);
  }

  uint64_t MustSubmit(const std::string& player, const std::string& key,
                      v1::TicketCategory cat = v1::TICKET_CATEGORY_QUESTION) {
    v1::SubmitTicketResponse resp;
    grpc::Status s = Submit(player, Req(key, cat), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.ticket().id();
  }

  grpc::Status SetStatus(const std::string& who, uint64_t id, v1::TicketStatus to,
                         v1::Ticket* out = nullptr, const std::string& player = "") {
    v1::UpdateTicketStatusRequest r;
    r.set_ticket_id(id);
    r.set_status(to);
    r.set_reason("test");
    v1::UpdateTicketStatusResponse resp;
    grpc::Status s = tickets_->UpdateTicketStatus(Ctx(who, player).get(), r, &resp);
    if (out) *out = resp.ticket();
    return s;
  }

  grpc::Status Assign(const std::string& who, uint64_t id, const std::string& to,
                      const std::string& reason = "") {
    v1::AssignTicketRequest r;
    r.set_ticket_id(id);
    r.set_assignee(to);
    r.set_reason(reason);
    v1::AssignTicketResponse resp;
    return tickets_->AssignTicket(Ctx(who).get(), r, &resp);
  }

  grpc::Status Message(const std::string& who, uint64_t id, const std::string& body,
                       v1::MessageVisibility vis, const std::string& player = "",
                       v1::AddMessageResponse* out = nullptr) {
    v1::AddMessageRequest r;
    r.set_ticket_id(id);
    r.set_body(body);
    r.set_visibility(vis);
    v1::AddMessageResponse resp;
    grpc::Status s = tickets_->AddMessage(Ctx(who, player).get(), r, &resp);
    if (out) *out = resp;
    return s;
  }

  std::unique_ptr<v1::TicketService::Stub> tickets_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

// First-contact ownership holds whatever the first move is: a GM who
// resolves an unowned ticket straight away owns it.
TEST_F(ServiceTest, AGmResolvingAnUnownedTicketOwnsIt) {
  uint64_t id = MustSubmit("p-quick", "quick-1");
  v1::Ticket t;
  ASSERT_TRUE(SetStatus("agent", id, v1::TICKET_STATUS_RESOLVED, &t).ok());
  EXPECT_EQ(t.assignee(), "agent");
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_RESOLVED);
}

TEST_F(ServiceTest, HealthNeedsNoTokenButEverythingElseDoes) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext hctx;
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  ASSERT_TRUE(health->Check(&hctx, hreq, &hresp).ok());
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  v1::ListTicketsResponse resp;
  EXPECT_EQ(tickets_->ListTickets(Ctx("").get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(tickets_->ListTickets(Ctx("nobody").get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext basic;
  basic.AddMetadata("authorization", "Basic tok-admin");
  EXPECT_EQ(tickets_->ListTickets(&basic, {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(tickets_->ListTickets(Ctx("admin").get(), {}, &resp).ok());
}

TEST_F(ServiceTest, SubmitRecordsTheCaseAndThePlayerSeesOnlyTheirOwn) {
  v1::SubmitTicketResponse sub;
  ASSERT_TRUE(Submit("p-1", Req("k1", v1::TICKET_CATEGORY_BUG), &sub).ok());
  const v1::Ticket& t = sub.ticket();
  EXPECT_GT(t.id(), 0u);
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_NEW);
  EXPECT_EQ(t.player_id(), "p-1");
  EXPECT_EQ(t.submitted_by(), "gs-eu1");
  EXPECT_EQ(t.priority(), v1::PRIORITY_NORMAL);
  EXPECT_EQ(t.context().map(), "Harbor");
  EXPECT_FLOAT_EQ(t.context().position().x(), 10.5f);
  EXPECT_GT(t.created_at_ms(), 0);

  v1::GetTicketRequest get;
  get.set_ticket_id(t.id());
  v1::GetTicketResponse got;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("gs-eu1", "p-1").get(), get, &got).ok());
  EXPECT_EQ(got.ticket().subject(), "Subject k1");
  // Another player of the same game server: denied.
  EXPECT_EQ(tickets_->GetTicket(Ctx("gs-eu1", "p-2").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Same player id but another realm's game server: denied.
  EXPECT_EQ(tickets_->GetTicket(Ctx("gs-us1", "p-1").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A game server must say which player it acts for.
  EXPECT_EQ(tickets_->GetTicket(Ctx("gs-eu1").get(), get, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  MustSubmit("p-2", "k2");
  v1::ListPlayerTicketsRequest lreq;
  v1::ListTicketsResponse list;
  ASSERT_TRUE(tickets_->ListPlayerTickets(Ctx("gs-eu1", "p-1").get(), lreq, &list).ok());
  ASSERT_EQ(list.tickets_size(), 1);
  EXPECT_EQ(list.tickets(0).player_id(), "p-1");
  // Game servers cannot browse the desk.
  v1::ListTicketsRequest all;
  EXPECT_EQ(tickets_->ListTickets(Ctx("gs-eu1", "p-1").get(), all, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServiceTest, ScopeAndRoleAreEnforced) {
  v1::SubmitTicketResponse sub;
  EXPECT_EQ(Submit("p-1", Req("k", v1::TICKET_CATEGORY_QUESTION, "us1"), &sub).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // eu1 server filing in us1
  EXPECT_EQ(Submit("", Req("k"), &sub, "admin").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // GMs do not file for players
  v1::ListAuditResponse audit;
  EXPECT_EQ(audit_->ListAuditRecords(Ctx("agent").get(), {}, &audit).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(audit_->ListAuditRecords(Ctx("lead").get(), {}, &audit).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(audit_->ListAuditRecords(Ctx("admin").get(), {}, &audit).ok());
  uint64_t id = MustSubmit("p-1", "k2");
  EXPECT_EQ(Assign("gs-eu1", id, "agent").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Assign("agent", id, "agent2").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Assign("lead", id, "ghost").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, IdempotencyKeyNeverCreatesADuplicate) {
  v1::SubmitTicketResponse first, again;
  ASSERT_TRUE(Submit("p-1", Req("retry-me"), &first).ok());
  ASSERT_TRUE(Submit("p-1", Req("retry-me"), &again).ok());
  EXPECT_FALSE(first.deduplicated());
  EXPECT_TRUE(again.deduplicated());
  EXPECT_EQ(first.ticket().id(), again.ticket().id());
  // Reusing the key for another player is refused, without revealing the ticket.
  v1::SubmitTicketResponse other;
  grpc::Status s = Submit("p-9", Req("retry-me"), &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_FALSE(other.has_ticket());

  // Many concurrent retries of one key: exactly one ticket.
  std::vector<std::thread> threads;
  std::vector<uint64_t> ids(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      v1::SubmitTicketResponse r;
      ASSERT_TRUE(Submit("p-1", Req("storm"), &r).ok());
      ids[i] = r.ticket().id();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 1u);
  v1::ListTicketsRequest lr;
  lr.set_player_id("p-1");
  lr.set_realm_id("eu1");
  v1::ListTicketsResponse list;
  ASSERT_TRUE(tickets_->ListTickets(Ctx("admin").get(), lr, &list).ok());
  EXPECT_EQ(list.tickets_size(), 2);  // retry-me and storm
}

TEST_F(ServiceTest, BatchSubmissionGivesEachTicketItsOwnOutcome) {
  v1::SubmitTicketsRequest req;
  auto add = [&](const std::string& player, v1::SubmitTicketRequest t) {
    auto* item = req.add_tickets();
    item->set_player_id(player);
    *item->mutable_ticket() = std::move(t);
  };
  add("p-1", Req("b1"));
  auto bad = Req("b2");
  bad.set_subject("");
  add("p-2", bad);
  add("p-3", Req("b3", v1::TICKET_CATEGORY_QUESTION, "us1"));  // outside the server's realm
  add("", Req("b4"));
  add("p-1", Req("b1"));  // retry of the first inside the same batch
  v1::SubmitTicketsResponse resp;
  ASSERT_TRUE(tickets_->SubmitTickets(Ctx("gs-eu1").get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 5);
  EXPECT_EQ(resp.results(0).code(), grpc::StatusCode::OK);
  EXPECT_EQ(resp.results(0).ticket().player_id(), "p-1");
  EXPECT_EQ(resp.results(1).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(resp.results(1).message().find("subject"), std::string::npos);
  EXPECT_EQ(resp.results(2).code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(resp.results(3).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(resp.results(4).code(), grpc::StatusCode::OK);
  EXPECT_TRUE(resp.results(4).deduplicated());
  EXPECT_EQ(resp.results(4).ticket().id(), resp.results(0).ticket().id());

  EXPECT_EQ(tickets_->SubmitTickets(Ctx("admin").get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::SubmitTicketsRequest too_many;
  for (int i = 0; i < 101; ++i) {
    auto* item = too_many.add_tickets();
    item->set_player_id("p-1");
    *item->mutable_ticket() = Req("m" + std::to_string(i));
  }
  EXPECT_EQ(tickets_->SubmitTickets(Ctx("gs-eu1").get(), too_many, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, TicketStreamAcksEveryTicketOnceWithItsOwnOutcome) {
  // More tickets than the server's per-stream window, so reading pauses
  // and resumes at least once.
  constexpr int kTickets = 2500;
  auto ctx = Ctx("gs-eu1");
  auto stream = tickets_->StreamTickets(ctx.get());
  std::map<uint64_t, v1::TicketAck> acks;
  int duplicate_acks = 0;
  std::thread reader([&] {
    v1::StreamTicketsResponse resp;
    while (stream->Read(&resp)) {
      for (const auto& a : resp.acks()) {
        if (!acks.emplace(a.request_id(), a).second) ++duplicate_acks;
      }
    }
  });
  for (int i = 0; i < kTickets; ++i) {
    v1::StreamTicketsRequest req;
    req.set_request_id(i);
    req.mutable_ticket()->set_player_id("p-" + std::to_string(i % 7));
    *req.mutable_ticket()->mutable_ticket() = Req("st-" + std::to_string(i));
    if (i == 10) req.mutable_ticket()->mutable_ticket()->set_subject("");
    if (i == 11) req.mutable_ticket()->set_player_id("");
    if (i == 12) *req.mutable_ticket()->mutable_ticket() = Req("st-5");  // retry of 5
    ASSERT_TRUE(stream->Write(req));
  }
  stream->WritesDone();
  reader.join();
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(duplicate_acks, 0);
  ASSERT_EQ(acks.size(), static_cast<size_t>(kTickets));
  std::set<uint64_t> ids;
  for (const auto& [rid, a] : acks) {
    if (rid == 10) {
      EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(a.message().find("subject"), std::string::npos);
    } else if (rid == 11) {
      EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(a.message().find("player_id"), std::string::npos);
    } else if (rid == 12) {
      EXPECT_EQ(a.code(), grpc::StatusCode::OK);
      EXPECT_TRUE(a.deduplicated());
      EXPECT_EQ(a.ticket_id(), acks[5].ticket_id());
    } else {
      ASSERT_EQ(a.code(), grpc::StatusCode::OK) << rid << ": " << a.message();
      EXPECT_FALSE(a.deduplicated());
      EXPECT_TRUE(ids.insert(a.ticket_id()).second) << "ticket id handed out twice";
    }
  }
  // Acked tickets are stored under the player they were sent for.
  v1::GetTicketRequest get;
  get.set_ticket_id(acks[100].ticket_id());
  v1::GetTicketResponse got;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("gs-eu1", "p-2").get(), get, &got).ok());
  EXPECT_EQ(got.ticket().subject(), "Subject st-100");
  EXPECT_EQ(tickets_->GetTicket(Ctx("gs-eu1", "p-3").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServiceTest, CancelledTicketStreamKeepsWhatWasAckedAndServerCarriesOn) {
  for (int round = 0; round < 5; ++round) {
    auto ctx = Ctx("gs-eu1");
    auto stream = tickets_->StreamTickets(ctx.get());
    for (int i = 0; i < 300; ++i) {
      v1::StreamTicketsRequest req;
      req.set_request_id(i);
      req.mutable_ticket()->set_player_id("p-9");
      *req.mutable_ticket()->mutable_ticket() =
          Req("cx-" + std::to_string(round) + "-" + std::to_string(i));
      if (!stream->Write(req)) break;
    }
    ctx->TryCancel();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server still takes tickets, including a resend of one the
  // cancelled stream may or may not have stored.
  v1::SubmitTicketResponse resp;
  ASSERT_TRUE(Submit("p-9", Req("cx-0-0"), &resp).ok());
  EXPECT_EQ(resp.ticket().player_id(), "p-9");
  MustSubmit("p-9", "after-cancel");
}

TEST_F(ServiceTest, TicketStreamIsForGameServersOnly) {
  for (const std::string who : {"", "admin"}) {
    auto ctx = Ctx(who);
    auto stream = tickets_->StreamTickets(ctx.get());
    v1::StreamTicketsRequest req;
    req.mutable_ticket()->set_player_id("p-1");
    *req.mutable_ticket()->mutable_ticket() = Req("x");
    stream->Write(req);
    stream->WritesDone();
    v1::StreamTicketsResponse resp;
    EXPECT_FALSE(stream->Read(&resp));
    EXPECT_EQ(stream->Finish().error_code(), who.empty() ? grpc::StatusCode::UNAUTHENTICATED
                                                         : grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_F(ServiceTest, AuditChainVerifiesAndFindsTampering) {
  for (int i = 0; i < 20; ++i) MustSubmit("p-1", "chain-" + std::to_string(i));
  v1::VerifyAuditChainResponse v;
  EXPECT_EQ(audit_->VerifyAuditChain(Ctx("lead").get(), {}, &v).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(audit_->VerifyAuditChain(Ctx("admin").get(), {}, &v).ok());
  EXPECT_TRUE(v.intact()) << v.problem();
  EXPECT_EQ(v.records_checked(), 20u);
  EXPECT_EQ(v.last_id(), 20u);

  // Collect the stored records (key -> record) to tamper with them.
  std::vector<std::pair<std::string, v1::AuditRecord>> recs;
  ASSERT_TRUE(store_->Scan(storage::Cf::kAudit, "", "", false,
                           [&](absl::string_view k, absl::string_view val) {
                             v1::AuditRecord r;
                             EXPECT_TRUE(r.ParseFromArray(val.data(), val.size()));
                             recs.emplace_back(std::string(k), r);
                             return true;
                           }).ok());
  ASSERT_EQ(recs.size(), 20u);
  auto put = [&](const std::string& key, const v1::AuditRecord& r) {
    ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
      txn.Put(storage::Cf::kAudit, key, r.SerializeAsString());
      return absl::OkStatus();
    }).ok());
  };
  auto verify = [&] {
    v1::VerifyAuditChainResponse out;
    EXPECT_TRUE(audit_->VerifyAuditChain(Ctx("admin").get(), {}, &out).ok());
    return out;
  };

  // An edited record no longer matches its hash.
  v1::AuditRecord forged = recs[6].second;
  forged.set_actor("someone-else");
  put(recs[6].first, forged);
  v = verify();
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_bad_id(), recs[6].second.id());
  EXPECT_NE(v.problem().find("altered"), std::string::npos);
  put(recs[6].first, recs[6].second);
  EXPECT_TRUE(verify().intact());

  // A removed record in the middle, and then the newest one.
  for (size_t victim : {size_t{11}, size_t{19}}) {
    ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
      txn.Delete(storage::Cf::kAudit, recs[victim].first);
      return absl::OkStatus();
    }).ok());
    v = verify();
    EXPECT_FALSE(v.intact());
    EXPECT_EQ(v.first_bad_id(), recs[victim].second.id()) << v.problem();
    put(recs[victim].first, recs[victim].second);
    EXPECT_TRUE(verify().intact());
  }
  // New appends still chain onto the restored head.
  MustSubmit("p-1", "chain-after");
  v = verify();
  EXPECT_TRUE(v.intact()) << v.problem();
  EXPECT_EQ(v.records_checked(), 21u);
}

// A verification checks records appended while it runs and still finds
// the chain intact; one whose caller has gone away stops with CANCELLED.
TEST_F(ServiceTest, AuditVerificationRunsBesideWritesAndStopsWhenCancelled) {
  PrincipalConfig admin_config = Gm("admin", Role::kAdmin);
  Caller admin{.principal = &admin_config};
  for (int t = 0; t < 10; ++t) {
    ASSERT_TRUE(store_->CommitAndWait([&](storage::Txn& txn) {
      for (int i = 0; i < 1000; ++i) {
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, admin, 1000 + t * 1000 + i, {.action = "test.append", .target = "t"}));
      }
      return absl::OkStatus();
    }).ok());
  }
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; !done.load(); ++i) MustSubmit("p-1", "during-" + std::to_string(i));
  });
  for (int round = 0; round < 5; ++round) {
    v1::VerifyAuditChainResponse v;
    ASSERT_TRUE(audit_->VerifyAuditChain(Ctx("admin").get(), {}, &v).ok());
    EXPECT_TRUE(v.intact()) << "round " << round << ": " << v.problem();
    EXPECT_GE(v.records_checked(), 10000u);
  }
  done = true;
  writer.join();
  v1::VerifyAuditChainResponse v;
  absl::Status s = VerifyAuditChain(*store_, admin, &v, [] { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_LT(v.records_checked(), 10000u);
}

TEST_F(ServiceTest, BadInputIsRejectedNamingTheField) {
  auto expect_invalid = [&](v1::SubmitTicketRequest r, const std::string& field,
                            const std::string& player = "p-1") {
    v1::SubmitTicketResponse resp;
    grpc::Status s = Submit(player, r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  };
  auto r = Req("x");
  r.set_subject(std::string(201, 's'));
  expect_invalid(r, "subject");
  r = Req("x");
  r.set_subject("");
  expect_invalid(r, "subject");
  r = Req("x");
  r.set_category(static_cast<v1::TicketCategory>(99));
  expect_invalid(r, "category");
  r = Req("x");
  r.set_category(v1::TICKET_CATEGORY_UNSPECIFIED);
  expect_invalid(r, "category");
  r = Req("x");
  r.set_idempotency_key("");
  expect_invalid(r, "idempotency_key");
  r = Req("x");
  r.set_description(std::string(8001, 'd'));
  expect_invalid(r, "description");
  r = Req("x");
  for (int i = 0; i < 40; ++i) (*r.mutable_context()->mutable_extra())["k" + std::to_string(i)] = "v";
  expect_invalid(r, "context.extra");
  r = Req("x");
  r.mutable_context()->mutable_position()->set_y(std::numeric_limits<float>::infinity());
  expect_invalid(r, "context.position");
  r = Req("x", v1::TICKET_CATEGORY_PLAYER_REPORT);
  expect_invalid(r, "reported_player_id");
  r = Req("x");
  expect_invalid(r, "x-steward-player", "bad player id");
  // Past the server's message size limit: refused by gRPC itself.
  r = Req("x");
  r.set_description(std::string(5 << 20, 'd'));
  v1::SubmitTicketResponse resp;
  EXPECT_EQ(Submit("p-1", r, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The store was not touched by any of it.
  v1::ListTicketsResponse list;
  ASSERT_TRUE(tickets_->ListTickets(Ctx("admin").get(), {}, &list).ok());
  EXPECT_EQ(list.tickets_size(), 0);
}

// A request whose bytes do not parse (a string that is not UTF-8, or not a
// message at all) is refused as INVALID_ARGUMENT naming the message, on
// every unary and server-streaming method; a method that does not exist is
// still UNIMPLEMENTED.
TEST_F(ServiceTest, UnparsableRequestsAreInvalidArgumentNamingTheMessage) {
  grpc::GenericStub generic(channel_);
  auto raw_call = [&](const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer req(&slice, 1), resp;
    std::promise<grpc::Status> done;
    auto ctx = Ctx("gs-eu1", "p-1");
    generic.UnaryCall(ctx.get(), method, grpc::StubOptions(), &req, &resp,
                      [&](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  };
  auto expect_unparsable = [](const grpc::Status& s, const std::string& type) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << type << ": " << s.error_message();
    EXPECT_NE(s.error_message().find("not a valid " + type + " (every string field must be UTF-8"),
              std::string::npos)
        << s.error_message();
  };
  // A field 1 that claims more bytes than there are.
  const std::string truncated("\x0a\x7f\x01", 3);
  expect_unparsable(raw_call("/steward.v1.ModerationService/CheckPlayer", truncated), "CheckPlayerRequest");
  expect_unparsable(raw_call("/steward.v1.TicketService/SubmitTicket", truncated), "SubmitTicketRequest");
  // A player's text with a broken multi-byte character, through the
  // generated stub.
  auto r = Req("garbled");
  r.set_description("caf\xc3");
  v1::SubmitTicketResponse sresp;
  expect_unparsable(Submit("p-1", r, &sresp), "SubmitTicketRequest");
  v1::CheckPlayerRequest check;
  check.set_player_id("p-\xff");
  v1::PlayerStatus status;
  expect_unparsable(v1::ModerationService::NewStub(channel_)->CheckPlayer(Ctx("gs-eu1").get(), check, &status),
                    "CheckPlayerRequest");
  // A server stream.
  v1::WatchDirectivesRequest watch;
  watch.set_server_id("eu1-\xfe");
  auto ctx = Ctx("gs-eu1");
  auto reader = v1::GameServerService::NewStub(channel_)->WatchDirectives(ctx.get(), watch);
  v1::DirectiveBatch batch;
  EXPECT_FALSE(reader->Read(&batch));
  expect_unparsable(reader->Finish(), "WatchDirectivesRequest");
  // Well-formed requests are untouched, and unknown methods stay unknown.
  EXPECT_TRUE(Submit("p-1", Req("fine"), &sresp).ok());
  grpc::Status unknown = raw_call("/steward.v1.ModerationService/NoSuchMethod", "");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED) << unknown.error_message();
  // Nothing was stored for the garbled ticket.
  v1::ListTicketsResponse list;
  ASSERT_TRUE(tickets_->ListTickets(Ctx("admin").get(), {}, &list).ok());
  EXPECT_EQ(list.tickets_size(), 1);
}

// Each unparsable request makes protobuf log a line; routed into our log,
// a flood of them writes at most 20 lines a minute.
TEST_F(ServiceTest, AFloodOfUnparsableRequestsCannotFloodTheLog) {
  RouteProtobufLogs();
  auto stub = v1::ModerationService::NewStub(channel_);
  v1::CheckPlayerRequest check;
  check.set_player_id("p-\xff");
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 200; ++i) {
    v1::PlayerStatus status;
    EXPECT_EQ(stub->CheckPlayer(Ctx("gs-eu1").get(), check, &status).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  size_t lines = 0;
  for (size_t at = err.find("protobuf "); at != std::string::npos; at = err.find("protobuf ", at + 1)) ++lines;
  EXPECT_EQ(lines, 20u) << err.substr(0, 2000);  // client and server lines together
  EXPECT_NE(err.find("contains invalid UTF-8"), std::string::npos);
}

// Replaced principals apply to the next call: a removed token is refused,
// a new one accepted, a changed role takes effect; a directive stream the
// removed game server opened before ends at its next directive.
TEST_F(ServiceTest, ReloadedPrincipalsApplyToTheNextCall) {
  v1::ListAuditResponse audit_page;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("sup").get(), {}, &audit_page).ok());
  v1::ListTicketsResponse list;
  ASSERT_TRUE(tickets_->ListTickets(Ctx("agent").get(), {}, &list).ok());
  // A stream of gs-eu1, opened before the reload.
  v1::WatchDirectivesRequest watch;
  watch.set_server_id("eu1-s9");
  {
    v1::RegisterServerRequest reg;
    reg.set_server_id("eu1-s9");
    v1::RegisterServerResponse reg_resp;
    ASSERT_TRUE(v1::GameServerService::NewStub(channel_)->RegisterServer(Ctx("gs-eu1").get(), reg, &reg_resp).ok());
  }
  auto wctx = Ctx("gs-eu1");
  wctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = v1::GameServerService::NewStub(channel_)->WatchDirectives(wctx.get(), watch);
  auto mod = v1::ModerationService::NewStub(channel_);
  // Bans p-<n> in eu1; true once the stream delivered it.
  auto ban_reaches_stream = [&](const std::string& player) {
    v1::IssueSanctionRequest ban;
    ban.set_idempotency_key("ban-" + player);
    ban.mutable_spec()->set_type(v1::SANCTION_TYPE_TEMP_BAN);
    ban.mutable_spec()->set_subject_id(player);
    ban.mutable_spec()->set_duration_ms(3600 * 1000);
    ban.mutable_spec()->mutable_scope()->set_realm_id("eu1");
    ban.mutable_spec()->set_reason("Botting");
    ban.mutable_spec()->set_policy_code("botting");
    v1::IssueSanctionResponse ban_resp;
    if (!mod->IssueSanction(Ctx("admin").get(), ban, &ban_resp).ok()) return false;
    v1::DirectiveBatch batch;
    while (reader->Read(&batch)) {
      for (const auto& d : batch.directives()) {
        if (d.has_sanction() && d.sanction().sanction().id() == ban_resp.sanction().id()) return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(ban_reaches_stream("p-8"));  // the stream is up

  const uint64_t ticket = MustSubmit("p-1", "before-reload");
  // sup becomes an agent, agent and gs-eu1 are gone, agent3 is new.
  server_->ReloadPrincipals({Gm("admin", Role::kAdmin), Gm("sup", Role::kAgent), Gm("agent3", Role::kAgent),
                             GameServer("gs-us1", "us1")});
  EXPECT_EQ(audit_->ListAuditRecords(Ctx("sup").get(), {}, &audit_page).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status gone = tickets_->ListTickets(Ctx("agent").get(), {}, &list);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(gone.error_message().find("revoked"), std::string::npos) << gone.error_message();
  EXPECT_TRUE(tickets_->ListTickets(Ctx("agent3").get(), {}, &list).ok());
  v1::SubmitTicketResponse sresp;
  EXPECT_EQ(Submit("p-1", Req("after-reload"), &sresp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A GM can only be assigned if it exists now.
  v1::AssignTicketRequest assign;
  assign.set_ticket_id(ticket);
  assign.set_assignee("agent");
  assign.set_reason("shift change");
  v1::AssignTicketResponse aresp;
  grpc::Status as = tickets_->AssignTicket(Ctx("admin").get(), assign, &aresp);
  EXPECT_EQ(as.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << as.error_message();
  EXPECT_NE(as.error_message().find("not a known GM"), std::string::npos) << as.error_message();
  assign.set_assignee("agent3");
  as = tickets_->AssignTicket(Ctx("admin").get(), assign, &aresp);
  EXPECT_TRUE(as.ok()) << as.error_message();

  // The stream opened before carries player data (ticket replies), so it
  // ends instead of sending the next directive to the revoked server.
  EXPECT_FALSE(ban_reaches_stream("p-9"));
  grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
  EXPECT_NE(ended.error_message().find("revoked"), std::string::npos) << ended.error_message();
}

TEST_F(ServiceTest, PriorityComesFromCategoryAndReportVolumeAndSaysWhy) {
  auto join = [](const v1::Ticket& t) {
    std::string all;
    for (const auto& r : t.priority_reasons()) all += r + "|";
    return all;
  };
  v1::SubmitTicketResponse q;
  ASSERT_TRUE(Submit("p-1", Req("q"), &q).ok());
  EXPECT_EQ(q.ticket().priority(), v1::PRIORITY_NORMAL);
  EXPECT_EQ(join(q.ticket()), "default: normal|");

  // A complaint is at least high, whatever the game server asked.
  auto c = Req("c", v1::TICKET_CATEGORY_COMPLAINT);
  c.set_priority(v1::PRIORITY_LOW);
  v1::SubmitTicketResponse complaint;
  ASSERT_TRUE(Submit("p-1", c, &complaint).ok());
  EXPECT_EQ(complaint.ticket().priority(), v1::PRIORITY_HIGH);
  EXPECT_EQ(join(complaint.ticket()),
            "asked by the game server: low|complaint (dispatched within the hour): high|");
  // An urgent ask is never lowered by the category rule.
  c.set_idempotency_key("c2");
  c.set_priority(v1::PRIORITY_URGENT);
  ASSERT_TRUE(Submit("p-1", c, &complaint).ok());
  EXPECT_EQ(complaint.ticket().priority(), v1::PRIORITY_URGENT);
  EXPECT_EQ(complaint.ticket().priority_reasons_size(), 1);

  // Reports about one player pile up: the fifth within a day is high, the
  // twentieth urgent. Reports about someone else, or in another realm, do
  // not count.
  auto report = [&](const std::string& reporter, const std::string& about,
                    const std::string& realm = "eu1") {
    auto r = Req("r-" + reporter + "-" + about + realm, v1::TICKET_CATEGORY_PLAYER_REPORT, realm);
    r.set_reported_player_id(about);
    v1::SubmitTicketResponse resp;
    grpc::Status s = Submit(reporter, r, &resp, realm == "eu1" ? "gs-eu1" : "gs-us1");
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.ticket();
  };
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(report("rep-" + std::to_string(i), "cheater").priority(), v1::PRIORITY_NORMAL) << i;
  }
  report("rep-x", "someone-else");
  report("rep-y", "cheater", "us1");
  v1::Ticket fifth = report("rep-4", "cheater");
  EXPECT_EQ(fifth.priority(), v1::PRIORITY_HIGH);
  EXPECT_EQ(join(fifth), "default: normal|5 reports about cheater in 24 h: high|");
  v1::Ticket last;
  for (int i = 5; i < 20; ++i) last = report("rep-" + std::to_string(i), "cheater");
  EXPECT_EQ(last.priority(), v1::PRIORITY_URGENT);
  EXPECT_EQ(last.priority_reasons(last.priority_reasons_size() - 1),
            "20 or more reports about cheater in 24 h: urgent");

  // The reasons are stored with the ticket, so a GM sees them later.
  v1::GetTicketRequest get;
  get.set_ticket_id(fifth.id());
  v1::GetTicketResponse got;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("agent").get(), get, &got).ok());
  EXPECT_EQ(join(got.ticket()), join(fifth));
}

TEST_F(ServiceTest, RepliesAreTrackedFromQueuedToDeliveredToRead) {
  uint64_t id = MustSubmit("p-1", "k");
  ASSERT_TRUE(Message("agent", id, "We are looking into it.", v1::MESSAGE_VISIBILITY_PUBLIC).ok());
  ASSERT_TRUE(Message("agent", id, "internal: check logs", v1::MESSAGE_VISIBILITY_INTERNAL).ok());
  auto get = [&](const std::string& who, const std::string& player = "") {
    v1::GetTicketRequest g;
    g.set_ticket_id(id);
    v1::GetTicketResponse r;
    grpc::Status s = tickets_->GetTicket(Ctx(who, player).get(), g, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  };
  auto mark = [&](const std::string& who, const std::string& player, uint32_t up_to = 0,
                  v1::Ticket* out = nullptr) {
    v1::MarkTicketReadRequest r;
    r.set_ticket_id(id);
    r.set_up_to_seq(up_to);
    v1::MarkTicketReadResponse resp;
    grpc::Status s = tickets_->MarkTicketRead(Ctx(who, player).get(), r, &resp);
    if (out) *out = resp.ticket();
    return s;
  };
  v1::GetTicketResponse seen = get("gs-eu1", "p-1");
  ASSERT_EQ(seen.messages_size(), 1);  // the note is not the player's to see
  EXPECT_EQ(seen.messages(0).delivery(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(seen.ticket().unread_for_player(), 1u);
  EXPECT_GT(seen.messages(0).directive_seq(), 0u);

  // The ticket's server confirms the directive: delivered.
  auto gs = v1::GameServerService::NewStub(channel_);
  v1::RegisterServerRequest reg;
  reg.set_server_id("eu1-s3");
  v1::RegisterServerResponse regd;
  ASSERT_TRUE(gs->RegisterServer(Ctx("gs-eu1").get(), reg, &regd).ok());
  v1::AckDirectivesRequest ack;
  ack.set_server_id("eu1-s3");
  ack.set_seq(seen.messages(0).directive_seq());
  v1::AckDirectivesResponse acked;
  ASSERT_TRUE(gs->AckDirectives(Ctx("gs-eu1").get(), ack, &acked).ok());
  EXPECT_EQ(get("gs-eu1", "p-1").messages(0).delivery(), v1::DELIVERY_STATE_DELIVERED);

  // The player opens it: read. Marks never go backwards.
  v1::Ticket t;
  ASSERT_TRUE(mark("gs-eu1", "p-1", 0, &t).ok());
  EXPECT_EQ(t.unread_for_player(), 0u);
  EXPECT_EQ(t.player_read_seq(), 2u);
  EXPECT_EQ(get("gs-eu1", "p-1").messages(0).delivery(), v1::DELIVERY_STATE_READ);
  ASSERT_TRUE(mark("gs-eu1", "p-1", 1, &t).ok());
  EXPECT_EQ(t.player_read_seq(), 2u);
  EXPECT_EQ(mark("gs-eu1", "p-1", 9).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(mark("gs-eu1", "p-2").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The player answers twice: the owner has two to read, then none.
  ASSERT_TRUE(Message("gs-eu1", id, "Thanks", v1::MESSAGE_VISIBILITY_PUBLIC, "p-1").ok());
  ASSERT_TRUE(Message("gs-eu1", id, "Any news?", v1::MESSAGE_VISIBILITY_PUBLIC, "p-1").ok());
  v1::GetTicketResponse desk = get("agent");
  EXPECT_EQ(desk.ticket().unread_for_owner(), 2u);
  EXPECT_EQ(desk.messages(3).delivery(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(mark("agent2", "").error_code(), grpc::StatusCode::PERMISSION_DENIED);  // not the owner
  ASSERT_TRUE(mark("agent", "", 3, &t).ok());
  EXPECT_EQ(t.unread_for_owner(), 1u);
  EXPECT_EQ(get("agent").messages(2).delivery(), v1::DELIVERY_STATE_READ);
  EXPECT_EQ(get("agent").messages(3).delivery(), v1::DELIVERY_STATE_DELIVERED);

  // A new owner starts with everything the player wrote unread.
  ASSERT_TRUE(Assign("lead", id, "agent2", "shift change").ok());
  EXPECT_EQ(get("agent2").ticket().unread_for_owner(), 2u);
  // Replying counts as reading.
  ASSERT_TRUE(Message("agent2", id, "Fixed now.", v1::MESSAGE_VISIBILITY_PUBLIC).ok());
  v1::Ticket after = get("agent2").ticket();
  EXPECT_EQ(after.unread_for_owner(), 0u);
  EXPECT_EQ(after.unread_for_player(), 1u);
  // Marking read is audited like every other change.
  v1::ListAuditRequest areq;
  areq.set_target("ticket/" + std::to_string(id));
  v1::ListAuditResponse trail;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("admin").get(), areq, &trail).ok());
  int reads = 0;
  for (const auto& r : trail.records()) reads += r.action() == "ticket.read";
  EXPECT_EQ(reads, 2);
}

TEST_F(ServiceTest, StatusFollowsTheStateMachine) {
  uint64_t id = MustSubmit("p-1", "k");
  v1::Ticket t;
  EXPECT_EQ(SetStatus("agent", id, v1::TICKET_STATUS_IN_PROGRESS).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // NEW must be assigned first
  EXPECT_EQ(SetStatus("agent", id, v1::TICKET_STATUS_ASSIGNED).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // only via AssignTicket
  ASSERT_TRUE(Assign("agent", id, "agent").ok());  // take it
  ASSERT_TRUE(SetStatus("agent", id, v1::TICKET_STATUS_IN_PROGRESS, &t).ok());
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_IN_PROGRESS);
  EXPECT_EQ(SetStatus("agent2", id, v1::TICKET_STATUS_RESOLVED).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // not the owner
  ASSERT_TRUE(SetStatus("agent", id, v1::TICKET_STATUS_WAITING_PLAYER).ok());
  EXPECT_EQ(SetStatus("gs-eu1", id, v1::TICKET_STATUS_RESOLVED, nullptr, "p-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // players do not resolve
  ASSERT_TRUE(SetStatus("agent", id, v1::TICKET_STATUS_RESOLVED, &t).ok());
  EXPECT_GT(t.resolved_at_ms(), 0);
  // The player may only accept or reopen a resolved ticket.
  EXPECT_EQ(SetStatus("gs-eu1", id, v1::TICKET_STATUS_CLOSED, nullptr, "p-2").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(SetStatus("gs-eu1", id, v1::TICKET_STATUS_CLOSED, &t, "p-1").ok());
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_CLOSED);
  EXPECT_EQ(SetStatus("agent", id, v1::TICKET_STATUS_RESOLVED).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(SetStatus("agent", id, v1::TICKET_STATUS_IN_PROGRESS).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // reopening closed needs a lead
  ASSERT_TRUE(SetStatus("lead", id, v1::TICKET_STATUS_IN_PROGRESS, &t).ok());
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_IN_PROGRESS);
  EXPECT_EQ(t.reopen_count(), 1u);
  EXPECT_EQ(t.closed_at_ms(), 0);

  v1::UpdateTicketStatusRequest stale;
  stale.set_ticket_id(id);
  stale.set_status(v1::TICKET_STATUS_RESOLVED);
  stale.set_expected_version(1);
  v1::UpdateTicketStatusResponse resp;
  EXPECT_EQ(tickets_->UpdateTicketStatus(Ctx("agent").get(), stale, &resp).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_EQ(SetStatus("agent", 999999, v1::TICKET_STATUS_RESOLVED).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, OwnershipTransfersOnlyExplicitly) {
  uint64_t id = MustSubmit("p-1", "k");
  ASSERT_TRUE(Assign("agent", id, "agent").ok());
  EXPECT_EQ(Assign("agent2", id, "agent2").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Assign("lead", id, "agent2").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // transfer needs a reason
  ASSERT_TRUE(Assign("lead", id, "agent2", "agent off shift").ok());
  // Public reply by a non-owner agent is refused; an internal note is fine.
  EXPECT_EQ(Message("agent", id, "hi", v1::MESSAGE_VISIBILITY_PUBLIC).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Message("agent", id, "context for agent2", v1::MESSAGE_VISIBILITY_INTERNAL).ok());
}

TEST_F(ServiceTest, RepliesNotesAndPlayerMessages) {
  uint64_t id = MustSubmit("p-1", "k");
  v1::AddMessageResponse r;
  EXPECT_EQ(Message("agent", id, "x", v1::MESSAGE_VISIBILITY_UNSPECIFIED).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // GMs must say reply or note
  // First public answer makes the agent the owner.
  ASSERT_TRUE(Message("agent", id, "Which server?", v1::MESSAGE_VISIBILITY_PUBLIC, "", &r).ok());
  EXPECT_EQ(r.ticket().assignee(), "agent");
  EXPECT_EQ(r.ticket().status(), v1::TICKET_STATUS_IN_PROGRESS);
  EXPECT_EQ(r.message().seq(), 1u);
  ASSERT_TRUE(Message("agent", id, "player seems to be a known griefer",
                      v1::MESSAGE_VISIBILITY_INTERNAL).ok());
  ASSERT_TRUE(SetStatus("agent", id, v1::TICKET_STATUS_WAITING_PLAYER).ok());
  EXPECT_EQ(Message("gs-eu1", id, "note", v1::MESSAGE_VISIBILITY_INTERNAL, "p-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Message("gs-eu1", id, "me too", v1::MESSAGE_VISIBILITY_PUBLIC, "p-2").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Message("gs-eu1", id, "EU-3", v1::MESSAGE_VISIBILITY_UNSPECIFIED, "p-1", &r).ok());
  EXPECT_EQ(r.ticket().status(), v1::TICKET_STATUS_IN_PROGRESS);  // the player answered

  v1::GetTicketRequest get;
  get.set_ticket_id(id);
  v1::GetTicketResponse gm_view, player_view;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("agent").get(), get, &gm_view).ok());
  ASSERT_TRUE(tickets_->GetTicket(Ctx("gs-eu1", "p-1").get(), get, &player_view).ok());
  ASSERT_EQ(gm_view.messages_size(), 3);
  ASSERT_EQ(player_view.messages_size(), 2);  // the note stays internal
  for (const auto& m : player_view.messages()) {
    EXPECT_EQ(m.visibility(), v1::MESSAGE_VISIBILITY_PUBLIC);
  }
  EXPECT_EQ(player_view.messages(1).author_kind(), v1::AUTHOR_KIND_PLAYER);
  // Contact details: the owner sees them, another agent does not.
  EXPECT_EQ(gm_view.ticket().contact(), "player@example.org");
  v1::GetTicketResponse other;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("agent2").get(), get, &other).ok());
  EXPECT_EQ(other.ticket().contact(), "");
}

TEST_F(ServiceTest, KnowledgeBaseIsVersionedSearchableAndCitedWhileValid) {
  auto kb = v1::KnowledgeService::NewStub(channel_);
  v1::SaveKbEntryRequest save;
  auto* e = save.mutable_entry();
  e->set_title("Refund for a failed purchase");
  e->set_body("Purchases that did not deliver are refunded within 3 days.");
  e->set_locale("en");
  e->add_tags("refund");
  e->add_tags("payment");
  v1::SaveKbEntryResponse saved;
  EXPECT_EQ(kb->SaveEntry(Ctx("agent").get(), save, &saved).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(kb->SaveEntry(Ctx("lead").get(), save, &saved).ok());
  const uint64_t id = saved.entry().id();
  EXPECT_EQ(saved.entry().version(), 1u);
  // An update needs a reason and keeps the old version.
  *save.mutable_entry() = saved.entry();
  save.mutable_entry()->set_body("Purchases that did not deliver are refunded within 24 hours.");
  EXPECT_EQ(kb->SaveEntry(Ctx("lead").get(), save, &saved).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  save.set_reason("new payment provider");
  ASSERT_TRUE(kb->SaveEntry(Ctx("lead").get(), save, &saved).ok());
  EXPECT_EQ(saved.entry().version(), 2u);
  EXPECT_EQ(kb->SaveEntry(Ctx("lead").get(), save, &saved).error_code(), grpc::StatusCode::ABORTED);  // stale
  v1::ListKbHistoryRequest hreq;
  hreq.set_id(id);
  v1::ListKbHistoryResponse history;
  ASSERT_TRUE(kb->ListHistory(Ctx("agent").get(), hreq, &history).ok());
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_NE(history.versions(0).body().find("3 days"), std::string::npos);
  EXPECT_EQ(history.versions(1).change_reason(), "new payment provider");

  // An expired entry, for contrast.
  v1::SaveKbEntryRequest old;
  old.mutable_entry()->set_title("Refund policy 2020");
  old.mutable_entry()->set_body("Old rules.");
  old.mutable_entry()->set_locale("en");
  old.mutable_entry()->set_valid_from_ms(1);
  old.mutable_entry()->set_valid_until_ms(2);
  v1::SaveKbEntryResponse old_saved;
  ASSERT_TRUE(kb->SaveEntry(Ctx("lead").get(), old, &old_saved).ok());

  v1::SearchKbRequest q;
  q.set_query("REFUND");
  v1::SearchKbResponse found;
  ASSERT_TRUE(kb->Search(Ctx("agent").get(), q, &found).ok());
  ASSERT_EQ(found.entries_size(), 1);  // the expired one is left out
  EXPECT_EQ(found.entries(0).id(), id);
  q.set_include_expired(true);
  found.Clear();
  ASSERT_TRUE(kb->Search(Ctx("agent").get(), q, &found).ok());
  EXPECT_EQ(found.entries_size(), 2);
  q.set_query("hours refunded");
  q.add_tags("payment");
  found.Clear();
  ASSERT_TRUE(kb->Search(Ctx("agent").get(), q, &found).ok());
  ASSERT_EQ(found.entries_size(), 1);
  q.set_locale("de");
  found.Clear();
  ASSERT_TRUE(kb->Search(Ctx("agent").get(), q, &found).ok());
  EXPECT_EQ(found.entries_size(), 0);
  q.Clear();
  EXPECT_EQ(kb->Search(Ctx("agent").get(), q, &found).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A reply cites the current version; an expired entry cannot be cited.
  uint64_t ticket = MustSubmit("p-1", "kb");
  v1::AddMessageRequest m;
  m.set_ticket_id(ticket);
  m.set_body("See our refund rules.");
  m.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  m.set_kb_entry_id(old_saved.entry().id());
  v1::AddMessageResponse mr;
  grpc::Status st = tickets_->AddMessage(Ctx("agent").get(), m, &mr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("expired"), std::string::npos);
  m.set_kb_entry_id(id);
  ASSERT_TRUE(tickets_->AddMessage(Ctx("agent").get(), m, &mr).ok());
  EXPECT_EQ(mr.message().kb_entry_id(), id);
  EXPECT_EQ(mr.message().kb_entry_version(), 2u);
  m.set_visibility(v1::MESSAGE_VISIBILITY_INTERNAL);
  EXPECT_EQ(tickets_->AddMessage(Ctx("agent").get(), m, &mr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Who changed what: audited.
  v1::ListAuditRequest areq;
  areq.set_target("kb/" + std::to_string(id));
  v1::ListAuditResponse audit;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("sup").get(), areq, &audit).ok());
  EXPECT_EQ(audit.records_size(), 2);
}

TEST_F(ServiceTest, EveryMutationIsAuditedWithBeforeAndAfter) {
  uint64_t id = MustSubmit("p-1", "k");
  ASSERT_TRUE(Assign("lead", id, "agent", "queue balancing").ok());
  v1::ListAuditRequest req;
  req.set_target("ticket/" + std::to_string(id));
  v1::ListAuditResponse resp;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("admin").get(), req, &resp).ok());
  ASSERT_EQ(resp.records_size(), 2);
  const v1::AuditRecord& assign = resp.records(0);  // newest first
  EXPECT_EQ(assign.action(), "ticket.assign");
  EXPECT_EQ(assign.actor(), "lead");
  EXPECT_EQ(assign.actor_role(), "lead");
  EXPECT_EQ(assign.reason(), "queue balancing");
  v1::Ticket before, after;
  ASSERT_TRUE(before.ParseFromString(assign.before()));
  ASSERT_TRUE(after.ParseFromString(assign.after()));
  EXPECT_EQ(before.assignee(), "");
  EXPECT_EQ(after.assignee(), "agent");
  EXPECT_EQ(after.status(), v1::TICKET_STATUS_ASSIGNED);
  EXPECT_EQ(resp.records(1).action(), "ticket.submit");
  EXPECT_EQ(resp.records(1).on_behalf_of(), "p-1");
  // A refused mutation leaves no record.
  EXPECT_FALSE(Assign("agent2", id, "agent2").ok());
  v1::ListAuditResponse again;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("admin").get(), req, &again).ok());
  EXPECT_EQ(again.records_size(), 2);
}

TEST_F(ServiceTest, ListFiltersAndPagesWithoutGapsOrRepeats) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < 23; ++i) {
    ids.push_back(MustSubmit("p-" + std::to_string(i % 3), "k" + std::to_string(i),
                             i % 2 ? v1::TICKET_CATEGORY_BUG : v1::TICKET_CATEGORY_COMPLAINT));
  }
  ASSERT_TRUE(Assign("agent", ids[4], "agent").ok());
  ASSERT_TRUE(Assign("agent", ids[7], "agent").ok());

  auto page_all = [&](v1::ListTicketsRequest req, uint32_t page) {
    std::vector<uint64_t> got;
    req.set_page_size(page);
    for (int guard = 0; guard < 100; ++guard) {
      v1::ListTicketsResponse resp;
      grpc::Status s = tickets_->ListTickets(Ctx("agent").get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const auto& t : resp.tickets()) got.push_back(t.id());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return got;
  };
  std::vector<uint64_t> all = page_all({}, 5);
  ASSERT_EQ(all.size(), 23u);
  EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend()));  // newest first
  v1::ListTicketsRequest oldest;
  oldest.set_oldest_first(true);
  EXPECT_EQ(page_all(oldest, 4), ids);

  v1::ListTicketsRequest bugs;
  bugs.set_category(v1::TICKET_CATEGORY_BUG);
  EXPECT_EQ(page_all(bugs, 3).size(), 11u);
  v1::ListTicketsRequest mine;
  mine.set_assignee("agent");
  EXPECT_EQ(page_all(mine, 10), (std::vector<uint64_t>{ids[7], ids[4]}));
  v1::ListTicketsRequest assigned;
  assigned.set_status(v1::TICKET_STATUS_ASSIGNED);
  EXPECT_EQ(page_all(assigned, 10).size(), 2u);
  v1::ListTicketsRequest fresh;
  fresh.set_status(v1::TICKET_STATUS_NEW);
  fresh.set_unassigned(true);
  EXPECT_EQ(page_all(fresh, 10).size(), 21u);
  v1::ListTicketsRequest player;
  player.set_player_id("p-1");
  player.set_realm_id("eu1");
  player.set_category(v1::TICKET_CATEGORY_BUG);
  for (uint64_t id : page_all(player, 2)) {
    int i = std::find(ids.begin(), ids.end(), id) - ids.begin();
    EXPECT_EQ(i % 3, 1);
    EXPECT_EQ(i % 2, 1);
  }
  // Time range: everything created at or after the 10th ticket.
  v1::GetTicketRequest g;
  g.set_ticket_id(ids[10]);
  v1::GetTicketResponse tenth;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("admin").get(), g, &tenth).ok());
  v1::ListTicketsRequest since;
  since.set_created_after_ms(tenth.ticket().created_at_ms());
  for (uint64_t id : page_all(since, 6)) EXPECT_GE(id, ids[0]);
  EXPECT_GE(page_all(since, 6).size(), 13u);

  v1::ListTicketsRequest bad;
  bad.set_page_token("not-a-token");
  v1::ListTicketsResponse resp;
  EXPECT_EQ(tickets_->ListTickets(Ctx("agent").get(), bad, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListTicketsRequest no_realm;
  no_realm.set_player_id("p-1");
  EXPECT_EQ(tickets_->ListTickets(Ctx("agent").get(), no_realm, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, GracefulShutdownFinishesInFlightWrites) {
  // A first wave is acknowledged before shutdown; a second wave is still in
  // flight when it starts. Every call must finish (none left hanging), and
  // every call answered OK must be stored.
  constexpr int kWave = 100, kCalls = 2 * kWave;
  std::atomic<int> ok{0}, finished{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<v1::SubmitTicketRequest> reqs(kCalls);
  std::vector<v1::SubmitTicketResponse> resps(kCalls);
  std::vector<uint64_t> acked(kCalls, 0);
  auto fire = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ctxs.push_back(Ctx("gs-eu1", "p-1"));
      reqs[i] = Req("g" + std::to_string(i));
      tickets_->async()->SubmitTicket(ctxs[i].get(), &reqs[i], &resps[i],
                                      [&, i](grpc::Status s) {
                                        if (s.ok()) {
                                          acked[i] = resps[i].ticket().id();
                                          ++ok;
                                        }
                                        ++finished;
                                      });
    }
  };
  auto wait_finished = [&](int n) {
    for (int i = 0; i < 1000 && finished.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  fire(0, kWave);
  wait_finished(kWave);
  ASSERT_EQ(ok.load(), kWave);
  fire(kWave, kCalls);
  server_->Shutdown(absl::Seconds(5));
  wait_finished(kCalls);
  EXPECT_EQ(finished.load(), kCalls);
  EXPECT_GE(ok.load(), kWave);
  for (int i = 0; i < kCalls; ++i) {
    if (acked[i] == 0) continue;
    std::string v;
    EXPECT_TRUE(store_->Get(storage::Cf::kTickets, storage::KeyWriter().U64(acked[i]).key(), &v)
                    .ok())
        << "acknowledged ticket " << acked[i] << " missing";
  }
}

}  // namespace
}  // namespace steward
