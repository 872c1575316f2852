// stewardctl tickets: the ticket desk from the command line.
#include <algorithm>

#include "admin-tools/ctl.h"

namespace steward::ctl {
namespace {

void PrintTicketTable(const v1::ListTicketsResponse& r) {
  std::printf("%-8s %-14s %-13s %-7s %-8s %-16s %-8s %-14s %-19s %s\n", "ID", "STATUS", "CATEGORY",
              "PRIO", "SLA", "PLAYER", "REALM", "ASSIGNEE", ZoneHeader("CREATED").c_str(), "SUBJECT");
  for (const auto& t : r.tickets()) {
    const auto& sla = t.sla();
    const char* clock = sla.dispatch_breached() || sla.answer_breached() ? "BREACHED"
                        : sla.at_risk()                                  ? "AT RISK"
                        : sla.paused_since_ms() != 0                     ? "paused"
                                                                         : "ok";
    std::printf("%-8llu %-14s %-13s %-7s %-8s %-16s %-8s %-14s %-19s %s\n",
                static_cast<unsigned long long>(t.id()), StatusName(t.status()).c_str(),
                CategoryName(t.category()).c_str(), PriorityName(t.priority()).c_str(), clock,
                Clip(t.player_id(), 16).c_str(), Clip(t.context().realm_id(), 8).c_str(),
                t.assignee().empty() ? "-" : Clip(t.assignee(), 14).c_str(),
                Time(t.created_at_ms()).c_str(), Clip(t.subject(), 60).c_str());
  }
  if (!r.next_page_token().empty()) {
    std::printf("(more: --page-token %s)\n", r.next_page_token().c_str());
  }
}

void PrintTicket(const v1::Ticket& t) {
  auto row = [](const char* k, const std::string& v) {
    if (!v.empty()) std::printf("%-16s %s\n", k, v.c_str());
  };
  row("ticket", std::to_string(t.id()));
  row("status", StatusName(t.status()));
  row("category", CategoryName(t.category()));
  row("priority", PriorityName(t.priority()));
  for (const auto& why : t.priority_reasons()) row("  because", why);
  if (t.unread_for_owner() != 0) row("unread (owner)", std::to_string(t.unread_for_owner()));
  if (t.unread_for_player() != 0) row("unread (player)", std::to_string(t.unread_for_player()));
  row("player", t.player_id());
  row("realm", t.context().realm_id());
  row("server", t.context().server_id());
  row("map", t.context().map());
  if (t.context().has_position()) {
    const auto& p = t.context().position();
    row("position", absl::StrCat(p.x(), ", ", p.y(), ", ", p.z()));
  }
  row("client", absl::StrCat(t.context().client_build(),
                             t.context().platform().empty() ? "" : " / ", t.context().platform()));
  for (const auto& [k, v] : t.context().extra()) row(("  " + k).c_str(), v);
  row("reported player", t.reported_player_id());
  row("assignee", t.assignee().empty() ? "-" : t.assignee());
  row("submitted by", t.submitted_by());
  row("contact", t.contact());
  row("occurred", t.occurred_at_ms() ? Time(t.occurred_at_ms()) : "");
  row("created", Time(t.created_at_ms()));
  row("updated", Time(t.updated_at_ms()));
  row("resolved", t.resolved_at_ms() ? Time(t.resolved_at_ms()) : "");
  row("closed", t.closed_at_ms() ? Time(t.closed_at_ms()) : "");
  if (t.satisfaction().score() != 0) {
    const auto& sat = t.satisfaction();
    row("rating", absl::StrCat(sat.score(), "/5", sat.rejected() ? " (solution rejected)" : "", " for ",
                               sat.rated_assignee(), " at ", Time(sat.rated_at_ms()),
                               sat.comment().empty() ? "" : ": " + sat.comment()));
  }
  for (const auto& gm : t.rejected_assignees()) row("rejected GM", gm);
  const auto& sla = t.sla();
  if (sla.dispatch_due_ms() != 0) {
    row("dispatch due", Time(sla.dispatch_due_ms()) +
                            (sla.dispatched_at_ms() ? " (met " + Time(sla.dispatched_at_ms()) + ")"
                                                    : sla.dispatch_breached() ? " BREACHED" : ""));
    row("answer due", Time(sla.answer_due_ms()) +
                          (sla.answered_at_ms() ? " (answered " + Time(sla.answered_at_ms()) + ")"
                           : sla.answer_breached() ? " BREACHED"
                           : sla.paused_since_ms() ? " (paused: waiting on the player)" : ""));
  }
  static const char* kLevels[] = {"none", "lead", "supervisor", "manager"};
  for (const auto& e : t.escalations()) {
    row("escalation", absl::StrCat(kLevels[std::clamp(e.level(), 0, 3)], e.skipped() ? " (skipped, told)" : "",
                                   " by ", e.by(), " at ", Time(e.at_ms()), ": ", e.reason()));
  }
  row("version", std::to_string(t.version()));
  row("subject", t.subject());
  if (!t.description().empty()) std::printf("\n%s\n", t.description().c_str());
}

}  // namespace

void AddTicketCommands(CLI::App& app, const Globals& g, int* handled) {
  auto* tickets = app.add_subcommand("tickets", "work with player tickets");
  tickets->require_subcommand(1);

  // tickets list
  auto* list = tickets->add_subcommand("list", "list tickets (newest first)");
  static std::string f_status, f_category, f_assignee, f_player, f_realm, f_after, f_before, f_token;
  static bool f_unassigned = false, f_oldest = false;
  static uint32_t f_limit = 50;
  list->add_option("--status", f_status, "new|assigned|in_progress|waiting_player|resolved|closed");
  list->add_option("--category", f_category,
                   "question|complaint|suggestion|bug|player_report|account|payment|other");
  list->add_option("--assignee", f_assignee, "GM name");
  list->add_flag("--unassigned", f_unassigned, "only tickets nobody owns");
  list->add_option("--player", f_player, "player id (needs --realm)");
  list->add_option("--realm", f_realm, "realm id");
  list->add_option("--after", f_after, "created at or after (unix ms or RFC 3339)");
  list->add_option("--before", f_before, "created before (unix ms or RFC 3339)");
  list->add_option("--limit", f_limit, "page size (max 500)")->capture_default_str();
  list->add_option("--page-token", f_token, "continue from a previous page");
  list->add_flag("--oldest-first", f_oldest, "oldest first");

  // tickets show
  auto* show = tickets->add_subcommand("show", "show one ticket and its conversation");
  static uint64_t id = 0;
  show->add_option("id", id, "ticket id")->required();

  auto* assign = tickets->add_subcommand("assign", "give a ticket an owner");
  static std::string assignee, reason;
  static uint64_t expected_version = 0;
  assign->add_option("id", id, "ticket id")->required();
  assign->add_option("assignee", assignee, "GM name (yourself to take it)")->required();
  assign->add_option("--reason", reason, "why (required to transfer)");
  assign->add_option("--expect-version", expected_version, "refuse if the ticket changed");

  static std::string body;
  static bool await_player = false;
  auto* reply = tickets->add_subcommand("reply", "public reply the player sees");
  reply->add_option("id", id, "ticket id")->required();
  reply->add_option("body", body, "text")->required();
  reply->add_flag("--await-player", await_player, "then wait for the player's answer");
  static uint64_t kb_entry = 0;
  reply->add_option("--kb", kb_entry, "cite this knowledge-base entry (must be valid now)");
  static CLI::App* note;
  note = tickets->add_subcommand("note", "internal note, never shown to the player");
  note->add_option("id", id, "ticket id")->required();
  note->add_option("body", body, "text")->required();

  auto* status = tickets->add_subcommand("status", "move a ticket through its life cycle");
  static std::string to_status;
  status->add_option("id", id, "ticket id")->required();
  status->add_option("status", to_status, "in_progress|waiting_player|resolved|closed")->required();
  status->add_option("--reason", reason, "why");
  status->add_option("--expect-version", expected_version, "refuse if the ticket changed");

  auto* submit = tickets->add_subcommand("submit", "file a ticket (game-server token and --player)");
  static v1::SubmitTicketRequest sreq;
  static std::string s_category = "question", s_priority;
  submit->add_option("--idempotency-key", *sreq.mutable_idempotency_key(), "retry key")->required();
  submit->add_option("--category", s_category, "ticket category")->capture_default_str();
  submit->add_option("--priority", s_priority, "low|normal|high|urgent");
  submit->add_option("--subject", *sreq.mutable_subject(), "one line")->required();
  submit->add_option("--description", *sreq.mutable_description(), "details");
  submit->add_option("--realm", *sreq.mutable_context()->mutable_realm_id(), "realm id")->required();
  submit->add_option("--server", *sreq.mutable_context()->mutable_server_id(), "server id");
  submit->add_option("--map", *sreq.mutable_context()->mutable_map(), "map");
  submit->add_option("--reported-player", *sreq.mutable_reported_player_id(), "for player_report");

  auto* rate = tickets->add_subcommand("rate", "the player rates a resolved ticket (game-server token and --player)");
  static uint32_t r_score = 0;
  static std::string r_comment;
  static bool r_reject = false;
  rate->add_option("id", id, "ticket id")->required();
  rate->add_option("--score", r_score, "1 to 5")->required();
  rate->add_option("--comment", r_comment);
  rate->add_flag("--reject", r_reject, "reject the solution (reopens for another GM)");

  auto* escalate = tickets->add_subcommand("escalate", "raise a ticket: lead (1), supervisor (2), manager (3)");
  static int e_level = 0;
  escalate->add_option("id", id, "ticket id")->required();
  escalate->add_option("--level", e_level, "1-3; default the next level");
  escalate->add_option("--reason", reason, "why")->required();

  auto* read = tickets->add_subcommand("read", "mark the conversation read (the owner, or a player through --player)");
  static uint32_t r_up_to = 0;
  read->add_option("id", id, "ticket id")->required();
  read->add_option("--up-to", r_up_to, "message seq; default all");

  auto* pull = tickets->add_subcommand("pull", "take the next unowned ticket, closest to its dispatch limit first");
  static v1::PullNextTicketRequest preq;
  static std::string p_category;
  pull->add_option("--category", p_category, "complaint, question, ...; default any");
  pull->add_option("--realm", *preq.mutable_realm_id(), "realm id; default any");
  pull->add_option("--language", *preq.mutable_language(), "e.g. de; default any");

  auto list_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::ListTicketsRequest req;
    if (!f_status.empty())
      req.set_status(ParseEnum<v1::TicketStatus>(f_status, "TICKET_STATUS_", v1::TicketStatus_Parse, "--status"));
    if (!f_category.empty())
      req.set_category(ParseEnum<v1::TicketCategory>(f_category, "TICKET_CATEGORY_",
                                                     v1::TicketCategory_Parse, "--category"));
    req.set_assignee(f_assignee);
    req.set_unassigned(f_unassigned);
    req.set_player_id(f_player);
    req.set_realm_id(f_realm);
    req.set_created_after_ms(ParseTimeFlag(f_after, "--after"));
    req.set_created_before_ms(ParseTimeFlag(f_before, "--before"));
    req.set_page_size(f_limit);
    req.set_page_token(f_token);
    req.set_oldest_first(f_oldest);
    v1::ListTicketsResponse resp;
    client.Check(client.tickets().ListTickets(&ctx, req, &resp));
    g.json ? PrintJson(resp) : PrintTicketTable(resp);
    return 0;
  });
  list->callback(list_cb);

  auto show_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::GetTicketRequest req;
    req.set_ticket_id(id);
    v1::GetTicketResponse resp;
    client.Check(client.tickets().GetTicket(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintTicket(resp.ticket());
      if (resp.messages_size() > 0) std::printf("\nconversation:\n");
      static const char* kDelivery[] = {"", " [queued]", " [delivered]", " [read]"};
      for (const auto& m : resp.messages()) {
        std::printf("  #%u %s %s%s%s:\n    %s\n", m.seq(), Time(m.created_at_ms()).c_str(),
                    m.author().c_str(),
                    m.visibility() == v1::MESSAGE_VISIBILITY_INTERNAL ? " [internal note]" : "",
                    kDelivery[std::clamp(static_cast<int>(m.delivery()), 0, 3)], m.body().c_str());
      }
    }
    return 0;
  });
  show->callback(show_cb);

  auto assign_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::AssignTicketRequest req;
    req.set_ticket_id(id);
    req.set_assignee(assignee);
    req.set_reason(reason);
    req.set_expected_version(expected_version);
    v1::AssignTicketResponse resp;
    client.Check(client.tickets().AssignTicket(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu: owner %s, status %s\n", static_cast<unsigned long long>(id),
                     resp.ticket().assignee().c_str(), StatusName(resp.ticket().status()).c_str());
    return 0;
  });
  assign->callback(assign_cb);

  auto reply_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::AddMessageRequest req;
    req.set_ticket_id(id);
    req.set_body(body);
    req.set_visibility(note->parsed() ? v1::MESSAGE_VISIBILITY_INTERNAL
                                      : v1::MESSAGE_VISIBILITY_PUBLIC);
    req.set_await_player(await_player);
    if (!note->parsed()) req.set_kb_entry_id(kb_entry);
    v1::AddMessageResponse resp;
    client.Check(client.tickets().AddMessage(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu: message #%u added, status %s\n", static_cast<unsigned long long>(id),
                     resp.message().seq(), StatusName(resp.ticket().status()).c_str());
    return 0;
  });
  reply->callback(reply_cb);
  note->callback(reply_cb);

  auto status_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::UpdateTicketStatusRequest req;
    req.set_ticket_id(id);
    req.set_status(ParseEnum<v1::TicketStatus>(to_status, "TICKET_STATUS_", v1::TicketStatus_Parse, "status"));
    req.set_reason(reason);
    req.set_expected_version(expected_version);
    v1::UpdateTicketStatusResponse resp;
    client.Check(client.tickets().UpdateTicketStatus(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu: status %s\n", static_cast<unsigned long long>(id),
                     StatusName(resp.ticket().status()).c_str());
    return 0;
  });
  status->callback(status_cb);

  auto submit_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    sreq.set_category(ParseEnum<v1::TicketCategory>(s_category, "TICKET_CATEGORY_",
                                                    v1::TicketCategory_Parse, "--category"));
    if (!s_priority.empty())
      sreq.set_priority(ParseEnum<v1::Priority>(s_priority, "PRIORITY_", v1::Priority_Parse, "--priority"));
    v1::SubmitTicketResponse resp;
    client.Check(client.tickets().SubmitTicket(&ctx, sreq, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu %s\n", static_cast<unsigned long long>(resp.ticket().id()),
                     resp.deduplicated() ? "(already filed)" : "filed");
    return 0;
  });
  submit->callback(submit_cb);

  auto escalate_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::EscalateTicketRequest req;
    req.set_ticket_id(id);
    req.set_level(e_level);
    req.set_reason(reason);
    v1::EscalateTicketResponse resp;
    client.Check(client.tickets().EscalateTicket(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu escalated to level %d\n", static_cast<unsigned long long>(id),
                     resp.ticket().escalation_level());
    return 0;
  });
  escalate->callback(escalate_cb);

  auto read_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::MarkTicketReadRequest req;
    req.set_ticket_id(id);
    req.set_up_to_seq(r_up_to);
    v1::MarkTicketReadResponse resp;
    client.Check(client.tickets().MarkTicketRead(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu: read; %u unread for the player, %u for the owner\n",
                     static_cast<unsigned long long>(id), resp.ticket().unread_for_player(),
                     resp.ticket().unread_for_owner());
    return 0;
  });
  read->callback(read_cb);

  auto pull_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    if (!p_category.empty())
      preq.set_category(ParseEnum<v1::TicketCategory>(p_category, "TICKET_CATEGORY_",
                                                      v1::TicketCategory_Parse, "--category"));
    v1::PullNextTicketResponse resp;
    client.Check(client.tickets().PullNextTicket(&ctx, preq, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu is yours: %s\n", static_cast<unsigned long long>(resp.ticket().id()),
                     resp.ticket().subject().c_str());
    return 0;
  });
  pull->callback(pull_cb);

  auto rate_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::RateTicketRequest req;
    req.set_ticket_id(id);
    req.set_score(r_score);
    req.set_comment(r_comment);
    req.set_reject(r_reject);
    v1::RateTicketResponse resp;
    client.Check(client.tickets().RateTicket(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu rated %u/5%s\n", static_cast<unsigned long long>(id), r_score,
                     resp.reopened() ? "; reopened for another GM" : "");
    return 0;
  });
  rate->callback(rate_cb);
}

}  // namespace steward::ctl
