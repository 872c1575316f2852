// stewardctl cases | bugs.
#include "admin-tools/ctl.h"

namespace steward::ctl {
namespace {

std::string CaseStateName(v1::CaseState s) { return EnumShort(v1::CaseState_Name(s), "CASE_STATE_"); }
std::string BugStatusName(v1::BugStatus s) { return EnumShort(v1::BugStatus_Name(s), "BUG_STATUS_"); }
std::string SeverityName(v1::BugSeverity s) {
  return absl::AsciiStrToUpper(EnumShort(v1::BugSeverity_Name(s), "BUG_SEVERITY_"));
}

}  // namespace

void AddReportCommands(CLI::App& app, const Globals& g, int* handled) {
  struct Opts {
    std::string state, status, resolution, build, note, out;
    std::vector<uint64_t> sanctions;
    uint64_t id = 0;
    uint32_t index = 0, limit = 50;
    std::string page_token;
    bool action = false, dismiss = false;
  };
  static Opts o;

  auto* cases = app.add_subcommand("cases", "player reports grouped by subject");
  cases->require_subcommand(1);
  auto* clist = cases->add_subcommand("list", "escalated, then open; oldest first");
  clist->add_option("--state", o.state, "open|escalated|actioned|dismissed");
  clist->add_option("--limit", o.limit)->capture_default_str();
  clist->add_option("--page-token", o.page_token);
  clist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListCasesRequest req;
    if (!o.state.empty()) {
      req.set_state(ParseEnum<v1::CaseState>(o.state, "CASE_STATE_", v1::CaseState_Parse, "--state"));
    }
    req.set_page_size(o.limit);
    req.set_page_token(o.page_token);
    v1::ListCasesResponse resp;
    c.Check(c.reports().ListCases(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-7s %-10s %-20s %-8s %-9s %-8s %-6s %-19s\n", "ID", "STATE", "SUBJECT", "REALM", "FAMILY",
                "REPORTS", "SCORE", ZoneHeader("LAST SEEN").c_str());
    for (const auto& k : resp.cases()) {
      std::printf("%-7llu %-10s %-20s %-8s %-9s %-8u %-6.1f %-19s\n", static_cast<unsigned long long>(k.id()),
                  CaseStateName(k.state()).c_str(), Clip(k.subject_id(), 20).c_str(),
                  Clip(k.realm_id(), 8).c_str(), k.family().c_str(), k.report_count(), k.window_score(),
                  Time(k.last_seen_ms()).c_str());
    }
    if (!resp.next_page_token().empty()) std::printf("(more: --page-token %s)\n", resp.next_page_token().c_str());
    return 0;
  }));
  auto* cshow = cases->add_subcommand("show", "a case and its latest reports");
  cshow->add_option("id", o.id)->required();
  cshow->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetCaseRequest req;
    req.set_case_id(o.id);
    v1::GetCaseResponse resp;
    c.Check(c.reports().GetCase(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    const auto& k = resp.case_();
    std::printf("case %llu: %s, %s %s in %s (%s)\n", static_cast<unsigned long long>(k.id()),
                CaseStateName(k.state()).c_str(),
                EnumShort(v1::ReportSubjectType_Name(k.subject_type()), "REPORT_SUBJECT_TYPE_").c_str(),
                k.subject_id().c_str(), k.realm_id().c_str(), k.family().c_str());
    std::printf("%u reports from %u players, window score %.2f, first %s, last %s\n", k.report_count(),
                k.distinct_reporters(), k.window_score(), Time(k.first_seen_ms()).c_str(),
                Time(k.last_seen_ms()).c_str());
    for (uint64_t s : k.sanction_ids()) std::printf("led to sanction %llu\n", static_cast<unsigned long long>(s));
    if (!k.resolved_by().empty()) {
      std::printf("resolved by %s at %s: %s\n", k.resolved_by().c_str(), Time(k.resolved_at_ms()).c_str(),
                  k.resolution().c_str());
    }
    for (const auto& r : resp.reports()) {
      std::printf("  report %llu by %s (weight %.2f) %s %s: %s\n", static_cast<unsigned long long>(r.id()),
                  r.reporter_id().c_str(), r.weight(), Time(r.created_at_ms()).c_str(),
                  EnumShort(v1::ReportCategory_Name(r.category()), "REPORT_CATEGORY_").c_str(),
                  r.message().c_str());
      for (const auto& l : r.evidence().chat()) {
        std::printf("      [%s] %s: %s\n", Time(l.at_ms()).c_str(), l.speaker_id().c_str(), l.text().c_str());
      }
    }
    return 0;
  }));
  auto* resolve = cases->add_subcommand("resolve", "close a case; reporters hear the outcome (lead+)");
  resolve->add_option("id", o.id)->required();
  auto* act = resolve->add_flag("--action-taken", o.action, "action was taken");
  auto* dis = resolve->add_flag("--dismiss", o.dismiss, "no action");
  act->excludes(dis);
  resolve->add_option("--sanction", o.sanctions, "sanction ids this case led to");
  resolve->add_option("--resolution", o.resolution, "internal note")->required();
  resolve->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    if (!o.action && !o.dismiss) Fail(2, "say --action-taken or --dismiss");
    v1::ResolveCaseRequest req;
    req.set_case_id(o.id);
    req.set_action_taken(o.action);
    for (uint64_t s : o.sanctions) req.add_sanction_ids(s);
    req.set_resolution(o.resolution);
    v1::ResolveCaseResponse resp;
    c.Check(c.reports().ResolveCase(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("case %llu %s; %u reporters notified\n", static_cast<unsigned long long>(o.id),
                     CaseStateName(resp.case_().state()).c_str(), resp.reporters_notified());
    return 0;
  }));

  auto* bugs = app.add_subcommand("bugs", "bug submissions grouped by signature");
  bugs->require_subcommand(1);
  auto* blist = bugs->add_subcommand("list", "newest first");
  blist->add_option("--status", o.status, "new|confirmed|fixed|wont_fix");
  blist->add_option("--limit", o.limit)->capture_default_str();
  blist->add_option("--page-token", o.page_token);
  blist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListBugsRequest req;
    if (!o.status.empty()) {
      req.set_status(ParseEnum<v1::BugStatus>(o.status, "BUG_STATUS_", v1::BugStatus_Parse, "--status"));
    }
    req.set_page_size(o.limit);
    req.set_page_token(o.page_token);
    v1::ListBugsResponse resp;
    c.Check(c.reports().ListBugs(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-7s %-4s %-10s %-8s %-8s %-19s %s\n", "ID", "SEV", "STATUS", "REPORTS", "PLAYERS",
                ZoneHeader("LAST SEEN").c_str(), "TITLE");
    for (const auto& b : resp.bugs()) {
      std::printf("%-7llu %-4s %-10s %-8u %-8u %-19s %s\n", static_cast<unsigned long long>(b.id()),
                  SeverityName(b.severity()).c_str(), BugStatusName(b.status()).c_str(), b.report_count(),
                  b.affected_players(), Time(b.last_seen_ms()).c_str(), Clip(b.title(), 60).c_str());
    }
    if (!resp.next_page_token().empty()) std::printf("(more: --page-token %s)\n", resp.next_page_token().c_str());
    return 0;
  }));
  auto* bshow = bugs->add_subcommand("show", "a bug and its latest reports");
  bshow->add_option("id", o.id)->required();
  bshow->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetBugRequest req;
    req.set_bug_id(o.id);
    v1::GetBugResponse resp;
    c.Check(c.reports().GetBug(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    const auto& b = resp.bug();
    std::printf("bug %llu [%s] %s: %s\nsignature %s\n%u reports from %u players, first %s, last %s\n",
                static_cast<unsigned long long>(b.id()), SeverityName(b.severity()).c_str(),
                BugStatusName(b.status()).c_str(), b.title().c_str(), b.signature().c_str(), b.report_count(),
                b.affected_players(), Time(b.first_seen_ms()).c_str(), Time(b.last_seen_ms()).c_str());
    if (!b.fixed_in_build().empty()) std::printf("fixed in %s\n", b.fixed_in_build().c_str());
    for (const auto& r : resp.reports()) {
      std::printf("  report %llu by %s, build %s on %s: %s\n", static_cast<unsigned long long>(r.id()),
                  r.player_id().c_str(), r.build().c_str(), r.platform().c_str(), r.title().c_str());
      for (const auto& a : r.attachments()) {
        std::printf("      attachment %u: %s (%s, %u bytes)\n", a.index(), a.name().c_str(),
                    a.content_type().c_str(), a.size());
      }
    }
    return 0;
  }));
  auto* bstatus = bugs->add_subcommand("status", "change status; every reporter is told (lead+)");
  bstatus->add_option("id", o.id)->required();
  bstatus->add_option("status", o.status, "new|confirmed|fixed|wont_fix")->required();
  bstatus->add_option("--build", o.build, "fixed: the build with the fix");
  bstatus->add_option("--note", o.note, "shown to players");
  bstatus->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::UpdateBugStatusRequest req;
    req.set_bug_id(o.id);
    req.set_status(ParseEnum<v1::BugStatus>(o.status, "BUG_STATUS_", v1::BugStatus_Parse, "status"));
    req.set_fixed_in_build(o.build);
    req.set_note(o.note);
    v1::UpdateBugStatusResponse resp;
    c.Check(c.reports().UpdateBugStatus(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("bug %llu %s; %u players notified\n", static_cast<unsigned long long>(o.id),
                     BugStatusName(resp.bug().status()).c_str(), resp.players_notified());
    return 0;
  }));
  auto* battach = bugs->add_subcommand("attachment", "save an attachment to a file");
  battach->add_option("report", o.id, "bug report id")->required();
  battach->add_option("index", o.index, "attachment index")->required();
  battach->add_option("--out", o.out, "file to write (default: the attachment's name)");
  battach->callback(Command(g, handled, [](Client& c, grpc::ClientContext& ctx) {
    v1::GetAttachmentRequest req;
    req.set_bug_report_id(o.id);
    req.set_index(o.index);
    v1::Attachment a;
    c.Check(c.reports().GetAttachment(&ctx, req, &a));
    std::string path = o.out.empty() ? a.name() : o.out;
    if (path.find('/') != std::string::npos && o.out.empty()) path = "attachment.bin";
    std::ofstream out(path, std::ios::binary);
    out.write(a.data().data(), static_cast<std::streamsize>(a.data().size()));
    if (!out) Fail(1, "cannot write " + path);
    std::printf("wrote %zu bytes to %s\n", a.data().size(), path.c_str());
    return 0;
  }));
}

}  // namespace steward::ctl
