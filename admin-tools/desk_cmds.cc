// stewardctl handover, quality and reports.
#include <unistd.h>

#include <algorithm>

#include "admin-tools/ctl.h"
#include "steward/v1/desk.grpc.pb.h"

namespace steward::ctl {
namespace {

void PrintHandover(const v1::Handover& h) {
  std::printf("handover %llu by %s at %s%s\n", static_cast<unsigned long long>(h.id()), h.author().c_str(),
              Time(h.written_at_ms()).c_str(), h.realm_id().empty() ? "" : (" (realm " + h.realm_id() + ")").c_str());
  if (!h.system_state().empty()) std::printf("  system state: %s\n", h.system_state().c_str());
  for (const auto& i : h.open_issues()) std::printf("  open issue:   %s\n", i.c_str());
  if (!h.staffing_notes().empty()) std::printf("  staffing:     %s\n", h.staffing_notes().c_str());
}

void PrintTicketLine(const v1::Ticket& t) {
  std::printf("  #%-7llu level %d  %-8s %-12s %-12s %s\n", static_cast<unsigned long long>(t.id()),
              t.escalation_level(), PriorityName(t.priority()).c_str(), StatusName(t.status()).c_str(),
              t.assignee().empty() ? "(unowned)" : Clip(t.assignee(), 12).c_str(), Clip(t.subject(), 50).c_str());
}

std::string Ms(int64_t ms) {
  if (ms == 0) return "-";
  if (ms < 3600 * 1000) return absl::StrCat(ms / 60000, "m");
  if (ms < 48LL * 3600 * 1000) return absl::StrFormat("%.1fh", ms / 3600000.0);
  return absl::StrFormat("%.1fd", ms / 86400000.0);
}

std::string Csv(const v1::DeskReportRow& r) {
  std::string cats;
  std::vector<std::pair<std::string, uint32_t>> sorted(r.received_by_category().begin(),
                                                       r.received_by_category().end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [k, v] : sorted) absl::StrAppend(&cats, cats.empty() ? "" : " ", k, "=", v);
  std::string agents;
  for (const auto& a : r.agents()) absl::StrAppend(&agents, agents.empty() ? "" : " ", a.agent(), "=", a.resolved());
  return absl::StrFormat("%s,%s,%u,%u,%d,%d,%d,%d,%.1f,%.2f,%u,%u,%u,%.1f,\"%s\",\"%s\"\n",
                         Time(r.period_start_ms()), Time(r.period_end_ms()), r.received(), r.resolved(),
                         r.first_response_p50_ms(), r.first_response_p90_ms(), r.resolution_p50_ms(),
                         r.resolution_p90_ms(), r.sla_compliance_pct(), r.csat_average(), r.csat_count(),
                         r.callbacks_due(), r.callbacks_reached(), r.callback_rate_pct(), cats, agents);
}

constexpr const char* kCsvHeader =
    "period_start,period_end,received,resolved,first_response_p50_ms,first_response_p90_ms,"
    "resolution_p50_ms,resolution_p90_ms,sla_compliance_pct,csat_average,csat_count,callbacks_due,"
    "callbacks_reached,callback_rate_pct,received_by_category,resolved_by_agent\n";

}  // namespace

void AddDeskCommands(CLI::App& app, const Globals& g, int* handled) {
  struct Opts {
    std::string realm, state, staffing, period, agent, from, to, by = "day", csv, comment;
    std::vector<std::string> issues, scores;
    uint64_t id = 0, ticket = 0;
    uint32_t per_agent = 0;
  };
  static Opts o;

  auto* handover = app.add_subcommand("handover", "shift handovers");
  handover->require_subcommand(1);
  auto* write = handover->add_subcommand("write", "leave a handover for the next shift");
  write->add_option("--state", o.state, "system state: servers, incidents, known problems");
  write->add_option("--issue", o.issues, "a hard open issue (repeat for more)");
  write->add_option("--staffing", o.staffing, "staffing notes");
  write->add_option("--realm", o.realm, "the realm it is about");
  write->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::WriteHandoverRequest req;
    req.set_system_state(o.state);
    for (const auto& i : o.issues) req.add_open_issues(i);
    req.set_staffing_notes(o.staffing);
    req.set_realm_id(o.realm);
    v1::Handover resp;
    c.Check(c.desk().WriteHandover(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("handover %llu written\n", static_cast<unsigned long long>(resp.id()));
    return 0;
  }));
  auto* read = handover->add_subcommand("read", "mark a handover read");
  read->add_option("id", o.id)->required();
  read->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::MarkHandoverReadRequest req;
    req.set_id(o.id);
    v1::Handover resp;
    c.Check(c.desk().MarkHandoverRead(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("handover %llu read\n", static_cast<unsigned long long>(resp.id()));
    return 0;
  }));
  auto* brief = app.add_subcommand("brief", "start of shift: unread handovers, open escalations, breached tickets, incidents");
  brief->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ShiftBrief resp;
    c.Check(c.desk().GetShiftBrief(&ctx, {}, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("unread handovers: %d\n", resp.unread_handovers_size());
    for (const auto& h : resp.unread_handovers()) PrintHandover(h);
    std::printf("\nopen escalations: %d\n", resp.open_escalations_size());
    for (const auto& t : resp.open_escalations()) PrintTicketLine(t);
    std::printf("\nbreached time limits: %d\n", resp.breached_size());
    for (const auto& t : resp.breached()) PrintTicketLine(t);
    std::printf("\nincidents: %d\n", resp.incidents_size());
    for (const auto& i : resp.incidents()) {
      std::string state = absl::AsciiStrToLower(v1::IncidentState_Name(i.state()).substr(sizeof("INCIDENT_STATE_") - 1));
      std::printf("  incident %-5llu %-9s %4u tickets  %s%s%s\n", static_cast<unsigned long long>(i.id()), state.c_str(),
                  i.linked(), i.title().c_str(), i.suggested_reason().empty() ? "" : " -- ",
                  i.suggested_reason().c_str());
    }
    return 0;
  }));

  auto* quality = app.add_subcommand("quality", "quality inspection (supervisors)");
  quality->require_subcommand(1);
  auto* draw = quality->add_subcommand("draw", "draw the month's random sample of each agent's resolved tickets");
  draw->add_option("--period", o.period, "YYYY-MM")->required();
  draw->add_option("--per-agent", o.per_agent, "default from the config (5)");
  auto print_sample = [](const v1::QualitySample& s) {
    std::printf("sample %llu for %s, %u per agent, drawn by %s at %s\n", static_cast<unsigned long long>(s.id()),
                s.period().c_str(), s.per_agent(), s.drawn_by().c_str(), Time(s.drawn_at_ms()).c_str());
    for (const auto& i : s.items()) {
      std::printf("  %-16s ticket %-8llu %s\n", i.agent().c_str(), static_cast<unsigned long long>(i.ticket_id()),
                  i.scored() ? "scored" : "to score");
    }
  };
  draw->callback(Command(g, handled, [&g, print_sample](Client& c, grpc::ClientContext& ctx) {
    v1::DrawQualitySampleRequest req;
    req.set_period(o.period);
    req.set_per_agent(o.per_agent);
    v1::QualitySample resp;
    c.Check(c.desk().DrawQualitySample(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else print_sample(resp);
    return 0;
  }));
  auto* show = quality->add_subcommand("show", "a drawn sample");
  show->add_option("id", o.id)->required();
  show->callback(Command(g, handled, [&g, print_sample](Client& c, grpc::ClientContext& ctx) {
    v1::GetQualitySampleRequest req;
    req.set_id(o.id);
    v1::QualitySample resp;
    c.Check(c.desk().GetQualitySample(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else print_sample(resp);
    return 0;
  }));
  auto* score = quality->add_subcommand("score", "score a sampled ticket: --score wording=5 --score attitude=4 ...");
  score->add_option("sample", o.id)->required();
  score->add_option("ticket", o.ticket)->required();
  score->add_option("--score", o.scores, "criterion=score, one per criterion of the sheet")->required();
  score->add_option("--comment", o.comment);
  score->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ScoreTicketRequest req;
    req.set_sample_id(o.id);
    req.set_ticket_id(o.ticket);
    req.set_comment(o.comment);
    for (const auto& s : o.scores) {
      size_t eq = s.find('=');
      uint32_t v = 0;
      if (eq == std::string::npos || !absl::SimpleAtoi(s.substr(eq + 1), &v)) {
        Fail(2, "--score must be criterion=number, not '" + s + "'");
      }
      auto* sc = req.add_scores();
      sc->set_criterion(s.substr(0, eq));
      sc->set_score(v);
    }
    v1::QualityReview resp;
    c.Check(c.desk().ScoreTicket(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("ticket %llu scored for %s\n", static_cast<unsigned long long>(resp.ticket_id()),
                     resp.agent().c_str());
    return 0;
  }));
  auto* trends = quality->add_subcommand("trends", "average scores per agent per month");
  trends->add_option("--from", o.from, "YYYY-MM")->required();
  trends->add_option("--to", o.to, "YYYY-MM")->required();
  trends->add_option("--agent", o.agent, "one agent (your own needs no supervisor role)");
  trends->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::QualityTrendsRequest req;
    req.set_from_period(o.from);
    req.set_to_period(o.to);
    req.set_agent(o.agent);
    v1::QualityTrends resp;
    c.Check(c.desk().GetQualityTrends(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-16s %-8s %-7s", "AGENT", "PERIOD", "REVIEWS");
    for (const auto& crit : resp.criteria()) std::printf(" %-13s", Clip(crit, 13).c_str());
    std::printf(" OVERALL (of %u)\n", resp.max_score());
    for (const auto& p : resp.points()) {
      std::printf("%-16s %-8s %-7u", Clip(p.agent(), 16).c_str(), p.period().c_str(), p.reviews());
      for (const auto& crit : resp.criteria()) {
        auto it = p.average().find(crit);
        std::printf(" %-13.2f", it == p.average().end() ? 0.0 : it->second);
      }
      std::printf(" %.2f\n", p.overall());
    }
    return 0;
  }));

  auto* reports = app.add_subcommand("reports", "desk reports (leads and above)");
  reports->require_subcommand(1);
  auto* desk = reports->add_subcommand("desk", "received, resolved, times, SLA, CSAT, callbacks, workload per period");
  desk->add_option("--from", o.from, "RFC 3339 or unix ms")->required();
  desk->add_option("--to", o.to, "RFC 3339 or unix ms; default now");
  desk->add_option("--by", o.by, "day, week or month")->capture_default_str();
  desk->add_option("--realm", o.realm);
  desk->add_option("--csv", o.csv, "write CSV to this file ('-' for stdout), with a progress bar");
  desk->callback([&g, handled]() {
    Client c(g);
    v1::DeskReportRequest req;
    req.set_from_ms(ParseTimeFlag(o.from, "--from"));
    req.set_to_ms(o.to.empty() ? absl::ToUnixMillis(absl::Now()) : ParseTimeFlag(o.to, "--to"));
    req.set_granularity(ParseEnum<v1::ReportGranularity>(o.by, "REPORT_GRANULARITY_", v1::ReportGranularity_Parse,
                                                         "--by"));
    req.set_realm_id(o.realm);
    // Page through the range 10 periods at a time so a long export shows
    // its progress; the table and JSON take the whole range too.
    req.set_max_rows(10);
    FILE* out = nullptr;
    if (!o.csv.empty()) {
      out = o.csv == "-" ? stdout : std::fopen(o.csv.c_str(), "w");
      if (out == nullptr) Fail(2, "cannot write " + o.csv);
      std::fputs(kCsvHeader, out);
    }
    const bool bar = out != nullptr && isatty(STDERR_FILENO);
    const int64_t from = req.from_ms(), to = req.to_ms();
    v1::DeskReport all;
    while (true) {
      grpc::ClientContext ctx;
      c.Prepare(&ctx);
      v1::DeskReport page;
      c.Check(c.desk().GetDeskReport(&ctx, req, &page));
      for (const auto& r : page.rows()) {
        if (out != nullptr) std::fputs(Csv(r).c_str(), out);
        *all.add_rows() = r;
      }
      *all.mutable_backlog() = page.backlog();
      int64_t reached = page.next_from_ms() == 0 ? to : page.next_from_ms();
      if (bar) {
        int pct = static_cast<int>(100.0 * std::clamp<int64_t>(reached - from, 0, to - from) / (to - from));
        std::fprintf(stderr, "\r[%-40s] %3d%%", std::string(pct * 40 / 100, '#').c_str(), pct);
        std::fflush(stderr);
      }
      if (page.next_from_ms() == 0) break;
      req.set_from_ms(page.next_from_ms());
    }
    if (bar) std::fputc('\n', stderr);
    if (out != nullptr) {
      if (out != stdout) std::fclose(out);
      std::fprintf(stderr, "%d rows written to %s\n", all.rows_size(), o.csv.c_str());
    } else if (g.json) {
      PrintJson(all);
    } else {
      std::printf("%-19s %8s %8s %9s %9s %9s %9s %6s %5s %9s\n", ZoneHeader("PERIOD").c_str(), "RECEIVED", "RESOLVED", "1ST p50",
                  "1ST p90", "RES p50", "RES p90", "SLA%", "CSAT", "CALLBACK%");
      for (const auto& r : all.rows()) {
        std::printf("%-19s %8u %8u %9s %9s %9s %9s %6.1f %5.2f %9.1f\n", Time(r.period_start_ms()).c_str(),
                    r.received(), r.resolved(), Ms(r.first_response_p50_ms()).c_str(),
                    Ms(r.first_response_p90_ms()).c_str(), Ms(r.resolution_p50_ms()).c_str(),
                    Ms(r.resolution_p90_ms()).c_str(), r.sla_compliance_pct(), r.csat_average(),
                    r.callback_rate_pct());
      }
      const auto& b = all.backlog();
      std::printf("\nbacklog now: %u open (<1d %u, 1-3d %u, 3-7d %u, >7d %u)\n", b.open(), b.under_1d(), b.d1_to_3(),
                  b.d3_to_7(), b.over_7d());
    }
    *handled = 0;
  });
}

}  // namespace steward::ctl
