// Incidents, sensitive questions and compensation through the real gRPC
// server: the outage scenario end to end, and rule 13 on replies.
#include <grpcpp/grpcpp.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/desk.grpc.pb.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/incidents.grpc.pb.h"
#include "steward/v1/knowledge.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

using grpc::StatusCode;

constexpr int kPlayers = 500;
const char* const kServers[] = {"eu1-a", "eu1-b", "eu1-c"};

// A game server's directive stream.
struct Watch {
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientReader<v1::DirectiveBatch>> reader;
  // Reads until `done` says enough, or the stream ends.
  std::vector<v1::Directive> ReadUntil(const std::function<bool(const std::vector<v1::Directive>&)>& done) {
    std::vector<v1::Directive> got;
    v1::DirectiveBatch b;
    while (!done(got) && reader->Read(&b)) {
      for (auto& d : b.directives()) got.push_back(d);
    }
    return got;
  }
  void Close() {
    ctx->TryCancel();
    reader->Finish();
  }
};

class IncidentsTest : public ServerFixture {
 protected:
  void Configure(Config* c) override {
    c->incidents.spike_count = 100;
    c->incidents.spike_window_minutes = 10;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    Stubs();
  }
  void Stubs() {
    tickets_ = v1::TicketService::NewStub(channel_);
    incidents_ = v1::IncidentService::NewStub(channel_);
    grants_ = v1::CompensationService::NewStub(channel_);
    gs_ = v1::GameServerService::NewStub(channel_);
    kb_ = v1::KnowledgeService::NewStub(channel_);
    desk_ = v1::DeskService::NewStub(channel_);
    mon_ = v1::MonitoringService::NewStub(channel_);
    audit_ = v1::AuditService::NewStub(channel_);
  }
  void Register(const std::string& server) {
    v1::RegisterServerRequest r;
    r.set_server_id(server);
    v1::RegisterServerResponse resp;
    ASSERT_TRUE(gs_->RegisterServer(Ctx("gs-eu1").get(), r, &resp).ok());
  }
  // `n` tickets of `category`, player p-<first>.., round-robin over the servers.
  std::vector<v1::Ticket> File(int first, int n, v1::TicketCategory category, const std::string& subject) {
    std::vector<v1::Ticket> out;
    for (int at = 0; at < n; at += 100) {
      v1::SubmitTicketsRequest req;
      for (int i = at; i < std::min(n, at + 100); ++i) {
        auto* pt = req.add_tickets();
        pt->set_player_id(absl::StrCat("p-", first + i));
        auto* t = pt->mutable_ticket();
        t->set_idempotency_key(absl::StrCat("k-", first + i));
        t->set_category(category);
        t->set_subject(subject);
        t->mutable_context()->set_realm_id("eu1");
        t->mutable_context()->set_server_id(kServers[(first + i) % 3]);
      }
      v1::SubmitTicketsResponse resp;
      EXPECT_TRUE(tickets_->SubmitTickets(Ctx("gs-eu1").get(), req, &resp).ok());
      for (const auto& r : resp.results()) {
        EXPECT_EQ(r.code(), 0) << r.message();
        out.push_back(r.ticket());
      }
    }
    return out;
  }
  v1::Ticket GetTicket(uint64_t id, const std::string& who = "admin", const std::string& player = "") {
    v1::GetTicketRequest g;
    g.set_ticket_id(id);
    v1::GetTicketResponse r;
    EXPECT_TRUE(tickets_->GetTicket(Ctx(who, player).get(), g, &r).ok());
    return r.ticket();
  }
  uint64_t SaveKb(const std::string& body, int64_t valid_until = 0) {
    v1::SaveKbEntryRequest r;
    r.mutable_entry()->set_title("Compensation after an outage");
    r.mutable_entry()->set_body(body);
    r.mutable_entry()->set_locale("en");
    r.mutable_entry()->set_valid_until_ms(valid_until);
    v1::SaveKbEntryResponse resp;
    EXPECT_TRUE(kb_->SaveEntry(Ctx("lead").get(), r, &resp).ok());
    return resp.entry().id();
  }

  Watch Open(v1::GameServerService::Stub* gs, const std::string& server) {
  Watch w;
  w.ctx = Ctx("gs-eu1");
  w.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchDirectivesRequest req;
  req.set_server_id(server);
  req.set_from_last_ack(true);
  w.reader = gs->WatchDirectives(w.ctx.get(), req);
  return w;
}

  std::unique_ptr<v1::TicketService::Stub> tickets_;
  std::unique_ptr<v1::IncidentService::Stub> incidents_;
  std::unique_ptr<v1::CompensationService::Stub> grants_;
  std::unique_ptr<v1::GameServerService::Stub> gs_;
  std::unique_ptr<v1::KnowledgeService::Stub> kb_;
  std::unique_ptr<v1::DeskService::Stub> desk_;
  std::unique_ptr<v1::MonitoringService::Stub> mon_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

TEST_F(IncidentsTest, OutageFromSpikeToCompensationAndResolution) {
  for (const char* s : kServers) Register(s);
  // 500 complaints in a minute from three servers: the detector suggests
  // an incident at the 100th and the rest link themselves to it.
  std::vector<v1::Ticket> filed = File(0, kPlayers, v1::TICKET_CATEGORY_COMPLAINT, "Cannot log in, disconnected");
  ASSERT_EQ(filed.size(), static_cast<size_t>(kPlayers));

  v1::ListIncidentsRequest lr;
  lr.set_state(v1::INCIDENT_STATE_SUGGESTED);
  v1::ListIncidentsResponse listed;
  ASSERT_TRUE(incidents_->ListIncidents(Ctx("agent").get(), lr, &listed).ok());
  ASSERT_EQ(listed.incidents_size(), 1);
  const v1::Incident suggested = listed.incidents(0);
  EXPECT_EQ(suggested.linked(), static_cast<uint32_t>(kPlayers));
  EXPECT_EQ(suggested.created_by(), "steward");
  EXPECT_NE(suggested.suggested_reason().find("100 complaint tickets"), std::string::npos)
      << suggested.suggested_reason();
  for (const auto& t : {filed.front(), filed[250], filed.back()}) {
    EXPECT_EQ(GetTicket(t.id()).incident_id(), suggested.id());
  }
  // The desk is told: the shift brief lists it and an alert is raised.
  v1::GetShiftBriefRequest br;
  v1::ShiftBrief brief;
  ASSERT_TRUE(desk_->GetShiftBrief(Ctx("agent").get(), br, &brief).ok());
  ASSERT_EQ(brief.incidents_size(), 1);
  EXPECT_EQ(brief.incidents(0).id(), suggested.id());
  ASSERT_TRUE(test::Eventually([&] {
    v1::ListAlertsRequest ar;
    v1::ListAlertsResponse alerts;
    if (!mon_->ListAlerts(Ctx("lead").get(), ar, &alerts).ok()) return false;
    for (const auto& a : alerts.alerts()) {
      if (a.rule_name() == "incident-detector" && a.realm_id() == "eu1") return true;
    }
    return false;
  }));

  // Agents may not confirm; a lead confirms it as an outage, and the
  // linked complaints escalate to a lead (rule 4).
  v1::ConfirmIncidentRequest cr;
  cr.set_incident_id(suggested.id());
  cr.set_cause(v1::INCIDENT_CAUSE_OUTAGE);
  cr.set_title("Login outage in eu1");
  v1::IncidentResponse ir;
  EXPECT_EQ(incidents_->ConfirmIncident(Ctx("agent").get(), cr, &ir).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(incidents_->ConfirmIncident(Ctx("lead").get(), cr, &ir).ok());
  EXPECT_EQ(ir.incident().state(), v1::INCIDENT_STATE_OPEN);
  EXPECT_EQ(GetTicket(filed[7].id()).escalation_level(), 1);

  // One reply reaches every player's own server.
  std::vector<Watch> watches;
  for (const char* s : kServers) watches.push_back(Open(gs_.get(), s));
  v1::ReplyToIncidentRequest rr;
  rr.set_incident_id(suggested.id());
  rr.set_body("We know about the login outage and are fixing it.");
  ASSERT_TRUE(incidents_->ReplyToIncident(Ctx("lead").get(), rr, &ir).ok());
  EXPECT_EQ(ir.tickets_changed(), static_cast<uint32_t>(kPlayers));
  std::set<uint64_t> replied;
  for (size_t i = 0; i < watches.size(); ++i) {
    auto got = watches[i].ReadUntil([&](const std::vector<v1::Directive>& g) {
      size_t n = 0;
      for (const auto& d : g) n += d.has_ticket_reply();
      return n >= static_cast<size_t>(kPlayers / 3);
    });
    for (const auto& d : got) {
      if (!d.has_ticket_reply()) continue;
      EXPECT_EQ(d.target().server_id(), kServers[i]);
      EXPECT_EQ(d.ticket_reply().message().incident_id(), 0u) << "the player sees only the text";
      replied.insert(d.ticket_reply().ticket_id());
    }
  }
  EXPECT_EQ(replied.size(), static_cast<size_t>(kPlayers));
  // One server confirms its directives: its tickets show delivered.
  {
    v1::AckDirectivesRequest ack;
    ack.set_server_id("eu1-a");
    ack.set_seq(ir.incident().version() > 0 ? 1'000'000 : 0);
    v1::AckDirectivesResponse aresp;
    v1::HeartbeatRequest hb;
    hb.set_server_id("eu1-a");
    v1::HeartbeatResponse hresp;
    ASSERT_TRUE(gs_->Heartbeat(Ctx("gs-eu1").get(), hb, &hresp).ok());
    ack.set_seq(hresp.latest_seq());
    ASSERT_TRUE(gs_->AckDirectives(Ctx("gs-eu1").get(), ack, &aresp).ok());
    v1::ListIncidentTicketsRequest lt;
    lt.set_incident_id(suggested.id());
    v1::ListIncidentTicketsResponse lts;
    ASSERT_TRUE(incidents_->ListIncidentTickets(Ctx("agent").get(), lt, &lts).ok());
    EXPECT_EQ(lts.delivered() + lts.queued(), static_cast<uint32_t>(kPlayers));
    EXPECT_GE(lts.delivered(), static_cast<uint32_t>(kPlayers / 3));
    EXPECT_EQ(lts.tickets_size(), 100);
    EXPECT_FALSE(lts.next_page_token().empty());
  }

  // Compensation for all of them is above a lead's limit: a supervisor
  // (not the proposer) approves.
  v1::ProposeGrantRequest pg;
  pg.set_idempotency_key("outage-grant");
  pg.mutable_spec()->set_item("gems");
  pg.mutable_spec()->set_payload(R"({"gems":500})");
  pg.mutable_spec()->set_value_per_player(500);
  pg.mutable_spec()->set_reason("login outage");
  pg.mutable_spec()->set_incident_id(suggested.id());
  v1::GrantResponse gr;
  ASSERT_TRUE(grants_->ProposeGrant(Ctx("lead").get(), pg, &gr).ok());
  const uint64_t grant_id = gr.grant().id();
  EXPECT_EQ(gr.grant().state(), v1::GRANT_STATE_PENDING_APPROVAL);
  EXPECT_EQ(gr.grant().recipients(), static_cast<uint32_t>(kPlayers));
  EXPECT_EQ(gr.grant().total_value(), 500 * kPlayers);
  EXPECT_NE(gr.grant().why_approval().find("above the lead limit"), std::string::npos) << gr.grant().why_approval();
  v1::DecideGrantRequest dg;
  dg.set_grant_id(grant_id);
  dg.set_approve(true);
  dg.set_reason("outage confirmed by operations");
  EXPECT_EQ(grants_->DecideGrant(Ctx("lead").get(), dg, &gr).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(grants_->DecideGrant(Ctx("sup").get(), dg, &gr).ok());
  EXPECT_EQ(gr.grant().state(), v1::GRANT_STATE_APPROVED);

  // Every server of the realm hears of every player's grant key.
  std::set<std::string> keys;
  for (auto& w : watches) {
    std::set<std::string> seen;
    w.ReadUntil([&](const std::vector<v1::Directive>& g) {
      for (const auto& d : g) {
        if (d.has_compensation() && d.compensation().grant_id() == grant_id) {
          for (const auto& e : d.compensation().entries()) seen.insert(e.grant_key());
        }
      }
      return seen.size() >= static_cast<size_t>(kPlayers);
    });
    EXPECT_EQ(seen.size(), static_cast<size_t>(kPlayers));
    keys.insert(seen.begin(), seen.end());
    w.Close();
  }
  // A server that reconnects before acknowledging gets the grant again:
  // delivery is at least once, and the keys say what was applied.
  {
    Watch again = Open(gs_.get(), "eu1-c");
    size_t entries = 0;
    again.ReadUntil([&](const std::vector<v1::Directive>& g) {
      entries = 0;
      for (const auto& d : g) {
        if (d.has_compensation() && d.compensation().grant_id() == grant_id) entries += d.compensation().entries_size();
      }
      return entries >= static_cast<size_t>(kPlayers);
    });
    EXPECT_EQ(entries, static_cast<size_t>(kPlayers));
    again.Close();
  }
  // The game applies each key once and acknowledges; a repeat counts nothing.
  v1::AckGrantsRequest ag;
  ag.set_server_id("eu1-b");
  for (const auto& k : keys) ag.add_grant_keys(k);
  ag.add_grant_keys("g999-0");
  v1::AckGrantsResponse agr;
  ASSERT_TRUE(grants_->AckGrants(Ctx("gs-eu1").get(), ag, &agr).ok());
  EXPECT_EQ(agr.newly_acknowledged(), static_cast<uint32_t>(kPlayers));
  ASSERT_EQ(agr.unknown_keys_size(), 1);
  ASSERT_TRUE(grants_->AckGrants(Ctx("gs-eu1").get(), ag, &agr).ok());
  EXPECT_EQ(agr.newly_acknowledged(), 0u);
  EXPECT_EQ(grants_->AckGrants(Ctx("gs-us1").get(), ag, &agr).error_code() == StatusCode::OK
                ? agr.newly_acknowledged()
                : 0u,
            0u);
  v1::GetGrantRequest gg;
  gg.set_grant_id(grant_id);
  ASSERT_TRUE(grants_->GetGrant(Ctx("agent").get(), gg, &gr).ok());
  EXPECT_EQ(gr.grant().acknowledged(), static_cast<uint32_t>(kPlayers));

  // A second grant for the same incident is refused unless forced.
  pg.set_idempotency_key("outage-grant-2");
  pg.mutable_spec()->set_value_per_player(10);
  EXPECT_EQ(grants_->ProposeGrant(Ctx("lead").get(), pg, &gr).error_code(), StatusCode::ALREADY_EXISTS);
  pg.mutable_spec()->set_force(true);
  pg.mutable_spec()->set_force_reason("outage lasted a second day");
  ASSERT_TRUE(grants_->ProposeGrant(Ctx("lead").get(), pg, &gr).ok());
  EXPECT_EQ(gr.grant().state(), v1::GRANT_STATE_APPROVED) << "10 x 500 is within a lead's limits";

  // A restart keeps it all; resolving resolves the 500 tickets.
  StopServer();
  StartServer();
  Stubs();
  v1::ResolveIncidentRequest res;
  res.set_incident_id(suggested.id());
  res.set_resolution("login service restored");
  ASSERT_TRUE(incidents_->ResolveIncident(Ctx("lead").get(), res, &ir).ok());
  EXPECT_EQ(ir.tickets_changed(), static_cast<uint32_t>(kPlayers));
  EXPECT_EQ(GetTicket(filed[123].id()).status(), v1::TICKET_STATUS_RESOLVED);
  v1::ListAuditRequest aud;
  aud.set_target(absl::StrCat("ticket/", filed[123].id()));
  v1::ListAuditResponse trail;
  ASSERT_TRUE(audit_->ListAuditRecords(Ctx("sup").get(), aud, &trail).ok());
  std::set<std::string> actions;
  for (const auto& a : trail.records()) actions.insert(a.action());
  for (const char* want : {"ticket.submit", "ticket.reply", "ticket.escalate", "ticket.status"}) {
    EXPECT_TRUE(actions.count(want)) << want;
  }
  // Grant totals per realm and GM.
  v1::GrantReportRequest rep;
  v1::GrantReportResponse report;
  ASSERT_TRUE(grants_->GrantReport(Ctx("lead").get(), rep, &report).ok());
  EXPECT_EQ(report.total_value(), 500 * kPlayers + 10 * kPlayers);
  ASSERT_EQ(report.totals_size(), 1);
  EXPECT_EQ(report.totals(0).gm(), "lead");
  EXPECT_EQ(report.totals(0).grants(), 2u);
  // The desk report counts the incident.
  v1::DeskReportRequest dr;
  dr.set_from_ms(filed.front().created_at_ms() - 86'400'000);
  dr.set_to_ms(filed.front().created_at_ms() + 86'400'000);
  dr.set_granularity(v1::REPORT_GRANULARITY_DAY);
  v1::DeskReport desk;
  ASSERT_TRUE(desk_->GetDeskReport(Ctx("lead").get(), dr, &desk).ok());
  uint32_t opened = 0, resolved = 0;
  double per = 0;
  for (const auto& row : desk.rows()) {
    opened += row.incidents_opened();
    resolved += row.incidents_resolved();
    per = std::max(per, row.tickets_per_incident());
  }
  EXPECT_EQ(opened, 1u);
  EXPECT_EQ(resolved, 1u);
  EXPECT_EQ(per, kPlayers);
}

TEST_F(IncidentsTest, OpenIncidentLinksByFilterAndAPlayerWhoWritesAgainDetaches) {
  File(1000, 3, v1::TICKET_CATEGORY_BUG, "Quest reward missing after patch");
  v1::OpenIncidentRequest op;
  op.set_idempotency_key("patch-1");
  op.set_title("Patch 1.2 quest rewards");
  op.set_cause(v1::INCIDENT_CAUSE_PATCH);
  op.mutable_filter()->set_realm_id("eu1");
  op.mutable_filter()->add_words("Reward");
  op.set_link_existing(true);
  v1::IncidentResponse ir;
  ASSERT_TRUE(incidents_->OpenIncident(Ctx("lead").get(), op, &ir).ok());
  EXPECT_EQ(ir.incident().linked(), 3u);
  EXPECT_EQ(ir.tickets_changed(), 3u);
  // A retry returns the same incident.
  v1::IncidentResponse again;
  ASSERT_TRUE(incidents_->OpenIncident(Ctx("lead").get(), op, &again).ok());
  EXPECT_TRUE(again.deduplicated());
  EXPECT_EQ(again.incident().id(), ir.incident().id());
  // New matching tickets link themselves; others do not.
  auto more = File(2000, 2, v1::TICKET_CATEGORY_QUESTION, "where is my reward?");
  auto other = File(3000, 1, v1::TICKET_CATEGORY_QUESTION, "How do I trade?");
  EXPECT_EQ(GetTicket(more[0].id()).incident_id(), ir.incident().id());
  EXPECT_EQ(GetTicket(other[0].id()).incident_id(), 0u);
  // The player writes again: the ticket leaves the incident.
  v1::AddMessageRequest m;
  m.set_ticket_id(more[0].id());
  m.set_body("Still missing, and now my gold is gone too");
  v1::AddMessageResponse mr;
  ASSERT_TRUE(tickets_->AddMessage(Ctx("gs-eu1", "p-2000").get(), m, &mr).ok());
  v1::Ticket t = GetTicket(more[0].id());
  EXPECT_EQ(t.incident_id(), 0u);
  EXPECT_EQ(t.detached_from_incident(), ir.incident().id());
  v1::GetIncidentRequest gi;
  gi.set_incident_id(ir.incident().id());
  ASSERT_TRUE(incidents_->GetIncident(Ctx("agent").get(), gi, &ir).ok());
  EXPECT_EQ(ir.incident().linked(), 4u);
  EXPECT_EQ(ir.incident().detached(), 1u);
  // A reply on the incident skips the detached ticket.
  v1::ReplyToIncidentRequest rr;
  rr.set_incident_id(ir.incident().id());
  rr.set_body("Rewards will be restored in tomorrow's maintenance.");
  ASSERT_TRUE(incidents_->ReplyToIncident(Ctx("lead").get(), rr, &ir).ok());
  EXPECT_EQ(ir.tickets_changed(), 4u);
  // Linking a ticket of another incident is refused with the reason.
  v1::OpenIncidentRequest op2 = op;
  op2.set_idempotency_key("patch-2");
  op2.set_link_existing(false);
  v1::IncidentResponse ir2;
  ASSERT_TRUE(incidents_->OpenIncident(Ctx("lead").get(), op2, &ir2).ok());
  v1::LinkTicketsRequest lk;
  lk.set_incident_id(ir2.incident().id());
  lk.add_ticket_ids(more[1].id());
  grpc::Status s = incidents_->LinkTickets(Ctx("lead").get(), lk, &ir2);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("linked to incident"), std::string::npos) << s.error_message();
}

TEST_F(IncidentsTest, SensitiveQuestionsAreAnsweredWithTheUnifiedAnswerOrEscalated) {
  auto t = File(4000, 1, v1::TICKET_CATEGORY_QUESTION, "Can I get a refund for the outage?")[0];
  v1::Ticket stored = GetTicket(t.id());
  ASSERT_GE(stored.sensitive_reasons_size(), 1);
  EXPECT_EQ(stored.sensitive_reasons(0), "payment: \"refund\"");
  // The player's game server never sees the desk's judgement.
  EXPECT_EQ(GetTicket(t.id(), "gs-eu1", "p-4000").sensitive_reasons_size(), 0);

  v1::AddMessageRequest m;
  m.set_ticket_id(t.id());
  m.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  m.set_body("Sure, I'll refund you 50 gems.");
  v1::AddMessageResponse mr;
  grpc::Status s = tickets_->AddMessage(Ctx("agent").get(), m, &mr);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("rule 13"), std::string::npos) << s.error_message();
  // An internal note is fine.
  m.set_visibility(v1::MESSAGE_VISIBILITY_INTERNAL);
  EXPECT_TRUE(tickets_->AddMessage(Ctx("agent").get(), m, &mr).ok());
  // An expired unified answer cannot be cited; the current one can, and
  // its text is what the player gets.
  uint64_t expired = SaveKb("Old policy text.", 1);
  uint64_t current = SaveKb("Refunds follow the published refund policy: ...");
  m.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  m.set_body("");
  m.set_kb_entry_id(expired);
  EXPECT_EQ(tickets_->AddMessage(Ctx("agent").get(), m, &mr).error_code(), StatusCode::FAILED_PRECONDITION);
  m.set_kb_entry_id(current);
  ASSERT_TRUE(tickets_->AddMessage(Ctx("agent").get(), m, &mr).ok());
  EXPECT_EQ(mr.message().body(), "Refunds follow the published refund policy: ...");
  EXPECT_EQ(mr.message().kb_entry_id(), current);
  // The player sees the text, not which entry it came from.
  v1::GetTicketRequest g;
  g.set_ticket_id(t.id());
  v1::GetTicketResponse pr;
  ASSERT_TRUE(tickets_->GetTicket(Ctx("gs-eu1", "p-4000").get(), g, &pr).ok());
  ASSERT_EQ(pr.messages_size(), 1);
  EXPECT_EQ(pr.messages(0).kb_entry_id(), 0u);
  EXPECT_EQ(pr.messages(0).body(), "Refunds follow the published refund policy: ...");
  // A lead may answer freely; the message records it.
  m.set_kb_entry_id(0);
  m.set_body("As a goodwill gesture we will add 50 gems.");
  ASSERT_TRUE(tickets_->AddMessage(Ctx("lead").get(), m, &mr).ok());
  EXPECT_TRUE(mr.message().sensitive_free_answer());
}

}  // namespace
}  // namespace steward

namespace steward {
namespace {

// The detector on a clock the test moves: a realm whose normal volume is
// high needs a rise over the window before, not just the count.
class SpikeTest : public FakeClockServerFixture {
 protected:
  void Configure(Config* c) override {
    c->incidents.spike_count = 100;
    c->incidents.spike_window_minutes = 10;
  }
  void File(int first, int n) {
    auto tickets = v1::TicketService::NewStub(channel_);
    for (int at = 0; at < n; at += 100) {
      v1::SubmitTicketsRequest req;
      for (int i = at; i < std::min(n, at + 100); ++i) {
        auto* pt = req.add_tickets();
        pt->set_player_id(absl::StrCat("q-", first + i));
        pt->mutable_ticket()->set_idempotency_key(absl::StrCat("q-", first + i));
        pt->mutable_ticket()->set_category(v1::TICKET_CATEGORY_QUESTION);
        pt->mutable_ticket()->set_subject("How do I reach the capital?");
        pt->mutable_ticket()->mutable_context()->set_realm_id("eu1");
      }
      v1::SubmitTicketsResponse resp;
      ASSERT_TRUE(tickets->SubmitTickets(Ctx("gs-eu1").get(), req, &resp).ok());
    }
  }
  int Suggested() {
    auto incidents = v1::IncidentService::NewStub(channel_);
    v1::ListIncidentsRequest lr;
    lr.set_state(v1::INCIDENT_STATE_SUGGESTED);
    v1::ListIncidentsResponse out;
    EXPECT_TRUE(incidents->ListIncidents(Ctx("agent").get(), lr, &out).ok());
    return out.incidents_size();
  }
};

TEST_F(SpikeTest, ABusyRealmNeedsARiseOverTheWindowBefore) {
  File(0, 99);  // below the count
  EXPECT_EQ(Suggested(), 0);
  fake_clock_.AdvanceMs(10 * 60 * 1000 + 1000);
  File(1000, 150);  // over the count, but not three times the 99 before
  EXPECT_EQ(Suggested(), 0);
  File(2000, 150);  // 300 >= 3 x 99 within the window: a spike
  EXPECT_EQ(Suggested(), 1);
}

}  // namespace
}  // namespace steward
