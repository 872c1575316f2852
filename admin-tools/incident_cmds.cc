// stewardctl incidents and grants.
#include <memory>

#include "absl/strings/str_split.h"
#include "admin-tools/ctl.h"
#include "steward/v1/incidents.grpc.pb.h"

namespace steward::ctl {
namespace {

std::string StateName(v1::IncidentState s) { return EnumShort(v1::IncidentState_Name(s), "INCIDENT_STATE_"); }
std::string CauseName(v1::IncidentCause c) { return EnumShort(v1::IncidentCause_Name(c), "INCIDENT_CAUSE_"); }
std::string GrantStateName(v1::GrantState s) { return EnumShort(v1::GrantState_Name(s), "GRANT_STATE_"); }
std::string RecipientName(v1::RecipientState s) { return EnumShort(v1::RecipientState_Name(s), "RECIPIENT_STATE_"); }
std::string DeliveryName(v1::DeliveryState s) {
  return s == v1::DELIVERY_STATE_UNSPECIFIED ? "-" : EnumShort(v1::DeliveryState_Name(s), "DELIVERY_STATE_");
}

void PrintIncident(const v1::Incident& i) {
  std::printf("incident %llu  %s  %s  cause %s\n", static_cast<unsigned long long>(i.id()), StateName(i.state()).c_str(),
              i.title().c_str(), CauseName(i.cause()).c_str());
  std::printf("  realm %s%s%s, opened %s by %s\n", i.filter().realm_id().c_str(),
              i.filter().category() ? ", category " : "",
              i.filter().category() ? CategoryName(i.filter().category()).c_str() : "", Time(i.created_at_ms()).c_str(),
              i.created_by().c_str());
  if (!i.suggested_reason().empty()) std::printf("  suggested: %s\n", i.suggested_reason().c_str());
  std::printf("  tickets linked %u, detached %u; replies %u\n", i.linked(), i.detached(), i.replies());
  if (i.resolved_at_ms() != 0) {
    std::printf("  %s %s by %s: %s\n", i.state() == v1::INCIDENT_STATE_DISMISSED ? "dismissed" : "resolved",
                Time(i.resolved_at_ms()).c_str(), i.resolved_by().c_str(), i.resolution().c_str());
  }
}

void PrintGrant(const v1::Grant& g, const std::string& unit = "") {
  std::printf("grant %llu  %s  %s x %u players, %lld each (total %lld%s%s)\n", static_cast<unsigned long long>(g.id()),
              GrantStateName(g.state()).c_str(), g.spec().item().c_str(), g.recipients(),
              static_cast<long long>(g.spec().value_per_player()), static_cast<long long>(g.total_value()),
              unit.empty() ? "" : " ", unit.c_str());
  std::printf("  proposed by %s at %s: %s\n", g.proposed_by().c_str(), Time(g.proposed_at_ms()).c_str(),
              g.spec().reason().c_str());
  if (g.incident_id() != 0) std::printf("  for incident %llu\n", static_cast<unsigned long long>(g.incident_id()));
  if (!g.why_approval().empty()) std::printf("  needs approval: %s\n", g.why_approval().c_str());
  if (!g.decided_by().empty()) {
    std::printf("  decided by %s at %s: %s\n", g.decided_by().c_str(), Time(g.decided_at_ms()).c_str(),
                g.decision_reason().c_str());
  }
  if (g.state() == v1::GRANT_STATE_APPROVED) {
    std::printf("  delivered %u, acknowledged by the game %u of %u\n", g.delivered(), g.acknowledged(), g.recipients());
  }
  if (g.skipped_size() > 0) std::printf("  skipped %d players who already had a grant for the incident\n", g.skipped_size());
}

}  // namespace

void AddIncidentCommands(CLI::App& app, const Globals& g, int* handled) {
  struct Opts {
    std::string key, title, cause, realm, category, body, reason, state, item, payload, player_list, server,
        force_reason;
    std::vector<std::string> servers, words, keys;
    std::vector<uint64_t> tickets;
    uint64_t id = 0, kb = 0, ticket = 0, incident = 0;
    int64_t value = 0;
    bool link_existing = false, await = false, force = false, pending = false, reject = false;
    std::string from, to;
  };
  static Opts o;
  static auto stub = [](Client& c) { return v1::IncidentService::NewStub(c.channel()); };
  static auto gstub = [](Client& c) { return v1::CompensationService::NewStub(c.channel()); };

  auto* inc = app.add_subcommand("incidents", "incidents: one cause, many tickets (leads change them)");
  inc->require_subcommand(1);
  auto* list = inc->add_subcommand("list", "incidents, newest first");
  list->add_option("--state", o.state, "suggested, open, resolved, dismissed");
  list->add_option("--realm", o.realm);
  list->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListIncidentsRequest req;
    if (!o.state.empty()) req.set_state(ParseEnum<v1::IncidentState>(o.state, "INCIDENT_STATE_", v1::IncidentState_Parse, "--state"));
    req.set_realm_id(o.realm);
    v1::ListIncidentsResponse resp;
    c.Check(stub(c)->ListIncidents(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-6s %-10s %-8s %-10s %6s %6s  %-19s %s\n", "ID", "STATE", "CAUSE", "REALM", "LINKED", "LEFT",
                ZoneHeader("OPENED").c_str(), "TITLE");
    for (const auto& i : resp.incidents()) {
      std::printf("%-6llu %-10s %-8s %-10s %6u %6u  %-19s %s\n", static_cast<unsigned long long>(i.id()),
                  StateName(i.state()).c_str(), CauseName(i.cause()).c_str(), Clip(i.filter().realm_id(), 10).c_str(),
                  i.linked(), i.detached(), Time(i.created_at_ms()).c_str(), Clip(i.title(), 50).c_str());
    }
    return 0;
  }));
  auto* show = inc->add_subcommand("show", "one incident and where its last reply has got to");
  show->add_option("id", o.id)->required();
  show->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetIncidentRequest req;
    req.set_incident_id(o.id);
    v1::IncidentResponse resp;
    c.Check(stub(c)->GetIncident(&ctx, req, &resp));
    v1::ListIncidentTicketsRequest lt;
    lt.set_incident_id(o.id);
    v1::ListIncidentTicketsResponse tickets;
    grpc::ClientContext ctx2;
    c.Prepare(&ctx2);
    c.Check(stub(c)->ListIncidentTickets(&ctx2, lt, &tickets));
    if (g.json) {
      PrintJson(resp);
      PrintJson(tickets);
      return 0;
    }
    PrintIncident(resp.incident());
    std::printf("  last reply: %u queued, %u delivered, %u read\n", tickets.queued(), tickets.delivered(), tickets.read());
    std::printf("  %-8s %-14s %-10s %-12s %s\n", "TICKET", "PLAYER", "SERVER", "STATUS", "REPLY");
    for (const auto& t : tickets.tickets()) {
      std::printf("  %-8llu %-14s %-10s %-12s %s%s\n", static_cast<unsigned long long>(t.ticket_id()),
                  Clip(t.player_id(), 14).c_str(), Clip(t.server_id(), 10).c_str(), StatusName(t.status()).c_str(),
                  DeliveryName(t.reply_delivery()).c_str(), t.detached() ? "  (left: the player wrote again)" : "");
    }
    if (!tickets.next_page_token().empty()) std::printf("  ... more (use --json and the API to page)\n");
    return 0;
  }));
  auto* open = inc->add_subcommand("open", "open an incident; new matching tickets link themselves");
  open->add_option("--key", o.key, "idempotency key (default: the title)");
  open->add_option("--title", o.title)->required();
  open->add_option("--cause", o.cause, "outage, patch, exploit, other");
  open->add_option("--realm", o.realm)->required();
  open->add_option("--server", o.servers, "only these servers (repeat)");
  open->add_option("--category", o.category, "only this ticket category");
  open->add_option("--word", o.words, "a word the subject or description holds (repeat: any of them)");
  open->add_flag("--link-existing", o.link_existing, "also link matching open tickets of the last day");
  open->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::OpenIncidentRequest req;
    req.set_idempotency_key(o.key.empty() ? o.title : o.key);
    req.set_title(o.title);
    if (!o.cause.empty()) req.set_cause(ParseEnum<v1::IncidentCause>(o.cause, "INCIDENT_CAUSE_", v1::IncidentCause_Parse, "--cause"));
    auto* f = req.mutable_filter();
    f->set_realm_id(o.realm);
    for (const auto& s : o.servers) f->add_server_ids(s);
    if (!o.category.empty()) f->set_category(ParseEnum<v1::TicketCategory>(o.category, "TICKET_CATEGORY_", v1::TicketCategory_Parse, "--category"));
    for (const auto& w : o.words) f->add_words(w);
    req.set_link_existing(o.link_existing);
    v1::IncidentResponse resp;
    c.Check(stub(c)->OpenIncident(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintIncident(resp.incident());
    return 0;
  }));
  auto simple = [&](const char* name, const char* help, auto fill, auto call) {
    auto* cmd = inc->add_subcommand(name, help);
    cmd->add_option("id", o.id)->required();
    return std::make_pair(cmd, [fill, call, &g](Client& c, grpc::ClientContext& ctx) {
      v1::IncidentResponse resp;
      c.Check(call(c, ctx, fill(), &resp));
      if (g.json) {
        PrintJson(resp);
      } else {
        PrintIncident(resp.incident());
        if (resp.tickets_changed() != 0) std::printf("  tickets changed: %u\n", resp.tickets_changed());
      }
      return 0;
    });
  };
  {
    auto [cmd, fn] = simple(
        "confirm", "confirm a suggested incident (an outage escalates its complaints)",
        [] {
          v1::ConfirmIncidentRequest r;
          r.set_incident_id(o.id);
          r.set_title(o.title);
          if (!o.cause.empty()) r.set_cause(ParseEnum<v1::IncidentCause>(o.cause, "INCIDENT_CAUSE_", v1::IncidentCause_Parse, "--cause"));
          return r;
        },
        [](Client& c, grpc::ClientContext& ctx, const v1::ConfirmIncidentRequest& r, v1::IncidentResponse* out) {
          return stub(c)->ConfirmIncident(&ctx, r, out);
        });
    cmd->add_option("--title", o.title);
    cmd->add_option("--cause", o.cause, "outage, patch, exploit, other");
    cmd->callback(Command(g, handled, fn));
  }
  {
    auto [cmd, fn] = simple(
        "dismiss", "dismiss a suggestion: its tickets leave it",
        [] {
          v1::DismissIncidentRequest r;
          r.set_incident_id(o.id);
          r.set_reason(o.reason);
          return r;
        },
        [](Client& c, grpc::ClientContext& ctx, const v1::DismissIncidentRequest& r, v1::IncidentResponse* out) {
          return stub(c)->DismissIncident(&ctx, r, out);
        });
    cmd->add_option("--reason", o.reason)->required();
    cmd->callback(Command(g, handled, fn));
  }
  {
    auto [cmd, fn] = simple(
        "link", "link tickets to the incident",
        [] {
          v1::LinkTicketsRequest r;
          r.set_incident_id(o.id);
          for (uint64_t t : o.tickets) r.add_ticket_ids(t);
          return r;
        },
        [](Client& c, grpc::ClientContext& ctx, const v1::LinkTicketsRequest& r, v1::IncidentResponse* out) {
          return stub(c)->LinkTickets(&ctx, r, out);
        });
    cmd->add_option("--ticket", o.tickets, "ticket id (repeat)")->required();
    cmd->callback(Command(g, handled, fn));
  }
  {
    auto [cmd, fn] = simple(
        "reply", "one public reply to every linked ticket's player",
        [] {
          v1::ReplyToIncidentRequest r;
          r.set_incident_id(o.id);
          r.set_body(o.body);
          r.set_kb_entry_id(o.kb);
          r.set_await_player(o.await);
          return r;
        },
        [](Client& c, grpc::ClientContext& ctx, const v1::ReplyToIncidentRequest& r, v1::IncidentResponse* out) {
          return stub(c)->ReplyToIncident(&ctx, r, out);
        });
    cmd->add_option("--body", o.body, "the reply (may be empty with --kb)");
    cmd->add_option("--kb", o.kb, "cite this unified answer (its text when --body is empty)");
    cmd->add_flag("--await", o.await, "and wait on the players");
    cmd->callback(Command(g, handled, fn));
  }
  {
    auto [cmd, fn] = simple(
        "resolve", "resolve the incident and every linked open ticket",
        [] {
          v1::ResolveIncidentRequest r;
          r.set_incident_id(o.id);
          r.set_resolution(o.reason);
          return r;
        },
        [](Client& c, grpc::ClientContext& ctx, const v1::ResolveIncidentRequest& r, v1::IncidentResponse* out) {
          return stub(c)->ResolveIncident(&ctx, r, out);
        });
    cmd->add_option("--resolution", o.reason)->required();
    cmd->callback(Command(g, handled, fn));
  }

  auto* grants = app.add_subcommand("grants", "compensation grants");
  grants->require_subcommand(1);
  auto* propose = grants->add_subcommand("propose", "propose a grant (above your limits it waits for a supervisor)");
  propose->add_option("--key", o.key, "idempotency key")->required();
  propose->add_option("--item", o.item, "what to give (game-defined)")->required();
  propose->add_option("--payload", o.payload, "what the game reads (e.g. JSON)");
  propose->add_option("--value", o.value, "worth per player in the configured unit")->required();
  propose->add_option("--reason", o.reason)->required();
  propose->add_option("--ticket", o.ticket, "that ticket's player");
  propose->add_option("--incident", o.incident, "every player of the incident's tickets");
  propose->add_option("--players", o.player_list, "realm:player,realm:player,...");
  propose->add_option("--force", o.force_reason, "grant again to players who had one for the incident, with this reason");
  propose->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ProposeGrantRequest req;
    req.set_idempotency_key(o.key);
    auto* s = req.mutable_spec();
    s->set_item(o.item);
    s->set_payload(o.payload);
    s->set_value_per_player(o.value);
    s->set_reason(o.reason);
    s->set_ticket_id(o.ticket);
    s->set_incident_id(o.incident);
    for (absl::string_view p : absl::StrSplit(o.player_list, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> rp = absl::StrSplit(p, absl::MaxSplits(':', 1));
      if (rp.second.empty()) Fail(2, "--players entries are realm:player");
      auto* gp = s->add_players();
      gp->set_realm_id(rp.first);
      gp->set_player_id(rp.second);
    }
    if (!o.force_reason.empty()) {
      s->set_force(true);
      s->set_force_reason(o.force_reason);
    }
    v1::GrantResponse resp;
    c.Check(gstub(c)->ProposeGrant(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintGrant(resp.grant());
    return 0;
  }));
  auto* decide = grants->add_subcommand("decide", "approve or reject a pending grant (supervisors, not the proposer)");
  decide->add_option("id", o.id)->required();
  decide->add_flag("--reject", o.reject, "reject instead of approving");
  decide->add_option("--reason", o.reason)->required();
  decide->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::DecideGrantRequest req;
    req.set_grant_id(o.id);
    req.set_approve(!o.reject);
    req.set_reason(o.reason);
    v1::GrantResponse resp;
    c.Check(gstub(c)->DecideGrant(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintGrant(resp.grant());
    return 0;
  }));
  auto* glist = grants->add_subcommand("list", "grants, newest first");
  glist->add_flag("--pending", o.pending, "only those waiting for approval");
  glist->add_option("--incident", o.incident);
  glist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListGrantsRequest req;
    req.set_pending_only(o.pending);
    req.set_incident_id(o.incident);
    v1::ListGrantsResponse resp;
    c.Check(gstub(c)->ListGrants(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-6s %-17s %-12s %8s %10s %9s %6s  %s\n", "ID", "STATE", "ITEM", "PLAYERS", "TOTAL", "DELIVERED", "ACKED",
                "PROPOSED BY");
    for (const auto& gr : resp.grants()) {
      std::printf("%-6llu %-17s %-12s %8u %10lld %9u %6u  %s\n", static_cast<unsigned long long>(gr.id()),
                  GrantStateName(gr.state()).c_str(), Clip(gr.spec().item(), 12).c_str(), gr.recipients(),
                  static_cast<long long>(gr.total_value()), gr.delivered(), gr.acknowledged(), gr.proposed_by().c_str());
    }
    return 0;
  }));
  auto* gshow = grants->add_subcommand("show", "one grant and its players");
  gshow->add_option("id", o.id)->required();
  gshow->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetGrantRequest req;
    req.set_grant_id(o.id);
    v1::GrantResponse resp;
    c.Check(gstub(c)->GetGrant(&ctx, req, &resp));
    v1::ListGrantRecipientsRequest rr;
    rr.set_grant_id(o.id);
    v1::ListGrantRecipientsResponse rec;
    grpc::ClientContext ctx2;
    c.Prepare(&ctx2);
    c.Check(gstub(c)->ListGrantRecipients(&ctx2, rr, &rec));
    if (g.json) {
      PrintJson(resp);
      PrintJson(rec);
      return 0;
    }
    PrintGrant(resp.grant());
    std::printf("  %-10s %-16s %-12s %-13s %s\n", "REALM", "PLAYER", "KEY", "STATE", "ACKED BY");
    for (const auto& r : rec.recipients()) {
      std::printf("  %-10s %-16s %-12s %-13s %s\n", Clip(r.realm_id(), 10).c_str(), Clip(r.player_id(), 16).c_str(),
                  r.grant_key().c_str(), RecipientName(r.state()).c_str(), r.acknowledged_by().c_str());
    }
    if (!rec.next_page_token().empty()) std::printf("  ... more (use --json and the API to page)\n");
    return 0;
  }));
  auto* report = grants->add_subcommand("report", "totals per realm and GM (leads and above)");
  report->add_option("--from", o.from, "approved at or after (unix ms or RFC 3339)");
  report->add_option("--to", o.to, "approved before");
  report->add_option("--realm", o.realm);
  report->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GrantReportRequest req;
    req.set_from_ms(ParseTimeFlag(o.from, "--from"));
    req.set_to_ms(ParseTimeFlag(o.to, "--to"));
    req.set_realm_id(o.realm);
    v1::GrantReportResponse resp;
    c.Check(gstub(c)->GrantReport(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-12s %-16s %7s %8s %12s\n", "REALM", "GM", "GRANTS", "PLAYERS", "VALUE");
    for (const auto& t : resp.totals()) {
      std::printf("%-12s %-16s %7u %8u %12lld\n", Clip(t.realm_id(), 12).c_str(), Clip(t.gm(), 16).c_str(), t.grants(),
                  t.players(), static_cast<long long>(t.value()));
    }
    std::printf("total %lld %s; %u grants waiting for approval\n", static_cast<long long>(resp.total_value()),
                resp.unit().c_str(), resp.pending());
    return 0;
  }));
  auto* ack = grants->add_subcommand("ack", "game servers: these grant keys were applied");
  ack->add_option("--server", o.server, "the game server")->required();
  ack->add_option("keys", o.keys, "grant keys")->required();
  ack->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::AckGrantsRequest req;
    req.set_server_id(o.server);
    for (const auto& k : o.keys) req.add_grant_keys(k);
    v1::AckGrantsResponse resp;
    c.Check(gstub(c)->AckGrants(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%u newly acknowledged", resp.newly_acknowledged());
    if (resp.unknown_keys_size() > 0) std::printf("; unknown: %d", resp.unknown_keys_size());
    std::printf("\n");
    return 0;
  }));
}

}  // namespace steward::ctl
