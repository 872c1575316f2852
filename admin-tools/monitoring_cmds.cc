// stewardctl rules | alerts | events | kb | metrics.
#include "admin-tools/ctl.h"

namespace steward::ctl {
namespace {

std::string KindName(v1::RuleKind k) { return EnumShort(v1::RuleKind_Name(k), "RULE_KIND_"); }
std::string SevName(v1::Severity s) { return EnumShort(v1::Severity_Name(s), "SEVERITY_"); }
std::string AlertStateName(v1::AlertState s) { return EnumShort(v1::AlertState_Name(s), "ALERT_STATE_"); }

void PrintAlertLine(const v1::Alert& a) {
  std::printf("%-7llu %-8s %-6s %-22s %-34s %10.1f %5u  %-19s %s%s%s\n", static_cast<unsigned long long>(a.id()),
              SevName(a.severity()).c_str(), AlertStateName(a.state()).c_str(), Clip(a.rule_name(), 22).c_str(),
              Clip(a.key(), 34).c_str(), a.value(), a.occurrences(), Time(a.raised_at_ms()).c_str(),
              a.storm() ? "STORM " : "", a.page() ? "PAGE " : "", a.action_taken().c_str());
}

void PrintAlertHeader() {
  std::printf("%-7s %-8s %-6s %-22s %-34s %10s %5s  %-19s %s\n", "ID", "SEVERITY", "STATE", "RULE", "KEY", "VALUE",
              "TIMES", ZoneHeader("RAISED").c_str(), "ACTION");
}

}  // namespace

void AddMonitoringCommands(CLI::App& app, const Globals& g, int* handled) {
  struct Opts {
    std::string file, reason, note, state, severity, type, realm, server, from, to;
    uint64_t id = 0, rule = 0;
    uint32_t limit = 50;
    bool hours = false;
    std::string page_token;
  };
  static Opts o;

  auto* rules = app.add_subcommand("rules", "event monitoring rules (leads change them)");
  rules->require_subcommand(1);
  auto* rlist = rules->add_subcommand("list", "every rule");
  rlist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListRulesResponse resp;
    c.Check(c.monitoring().ListRules(&ctx, {}, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-5s %-24s %-15s %-8s %-3s %-24s %-22s %s\n", "ID", "NAME", "KIND", "SEVERITY", "ON", "EVENTS",
                "KEY", "ACTION");
    for (const auto& r : resp.rules()) {
      std::string types, key;
      for (const auto& t : r.event_types()) absl::StrAppend(&types, types.empty() ? "" : ",", t);
      for (const auto& k : r.group_by()) absl::StrAppend(&key, key.empty() ? "" : ",", k);
      std::printf("%-5llu %-24s %-15s %-8s %-3s %-24s %-22s %s\n", static_cast<unsigned long long>(r.id()),
                  Clip(r.name(), 24).c_str(), KindName(r.kind()).c_str(), SevName(r.severity()).c_str(),
                  r.enabled() ? "yes" : "no", Clip(types.empty() ? "*" : types, 24).c_str(),
                  Clip(key.empty() ? "-" : key, 22).c_str(),
                  EnumShort(v1::ActionKind_Name(r.action().kind()), "ACTION_KIND_").c_str());
    }
    return 0;
  }));
  auto* rsave = rules->add_subcommand("save", "create or replace a rule from a JSON file (a steward.v1.Rule)");
  rsave->add_option("--file", o.file, "JSON; with \"id\" it replaces that rule")->required();
  rsave->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SaveRuleRequest req;
    auto st = google::protobuf::util::JsonStringToMessage(ReadFileOrDie(o.file), req.mutable_rule());
    if (!st.ok()) Fail(2, absl::StrCat(o.file, ": not a rule: ", st.ToString()));
    v1::SaveRuleResponse resp;
    c.Check(c.monitoring().SaveRule(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("rule %llu \"%s\" saved (version %llu)\n", static_cast<unsigned long long>(resp.rule().id()),
                     resp.rule().name().c_str(), static_cast<unsigned long long>(resp.rule().version()));
    return 0;
  }));
  auto* rdel = rules->add_subcommand("delete", "remove a rule");
  rdel->add_option("id", o.id)->required();
  rdel->add_option("--reason", o.reason)->required();
  rdel->callback(Command(g, handled, [](Client& c, grpc::ClientContext& ctx) {
    v1::DeleteRuleRequest req;
    req.set_id(o.id);
    req.set_reason(o.reason);
    v1::DeleteRuleResponse resp;
    c.Check(c.monitoring().DeleteRule(&ctx, req, &resp));
    std::printf("rule %llu deleted\n", static_cast<unsigned long long>(o.id));
    return 0;
  }));

  auto* alerts = app.add_subcommand("alerts", "alerts raised by the rules");
  alerts->require_subcommand(1);
  auto* alist = alerts->add_subcommand("list", "newest first");
  alist->add_option("--state", o.state, "open|acknowledged");
  alist->add_option("--rule", o.rule, "only this rule's alerts");
  alist->add_option("--limit", o.limit)->capture_default_str();
  alist->add_option("--page-token", o.page_token);
  alist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListAlertsRequest req;
    if (!o.state.empty()) {
      req.set_state(ParseEnum<v1::AlertState>(o.state, "ALERT_STATE_", v1::AlertState_Parse, "--state"));
    }
    req.set_rule_id(o.rule);
    req.set_limit(static_cast<int32_t>(o.limit));
    req.set_page_token(o.page_token);
    v1::ListAlertsResponse resp;
    c.Check(c.monitoring().ListAlerts(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    PrintAlertHeader();
    for (const auto& a : resp.alerts()) PrintAlertLine(a);
    if (!resp.next_page_token().empty()) std::printf("(more: --page-token %s)\n", resp.next_page_token().c_str());
    return 0;
  }));
  auto* aack = alerts->add_subcommand("ack", "acknowledge an alert");
  aack->add_option("id", o.id)->required();
  aack->add_option("--note", o.note);
  aack->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::AcknowledgeAlertRequest req;
    req.set_id(o.id);
    req.set_note(o.note);
    v1::AcknowledgeAlertResponse resp;
    c.Check(c.monitoring().AcknowledgeAlert(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("alert %llu acknowledged\n", static_cast<unsigned long long>(o.id));
    return 0;
  }));
  auto* awatch = alerts->add_subcommand("watch", "print alerts as they are raised, until interrupted");
  awatch->add_option("--min-severity", o.severity, "info|warning|critical");
  awatch->callback([&g, handled] {
    Client c(g);
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    ctx.set_deadline(std::chrono::system_clock::time_point::max());  // a live feed
    v1::WatchAlertsRequest req;
    if (!o.severity.empty()) {
      req.set_min_severity(ParseEnum<v1::Severity>(o.severity, "SEVERITY_", v1::Severity_Parse, "--min-severity"));
    }
    auto reader = c.monitoring().WatchAlerts(&ctx, req);
    if (!g.json) PrintAlertHeader();
    std::fflush(stdout);
    v1::Alert a;
    while (reader->Read(&a)) {
      if (g.json) PrintJson(a);
      else PrintAlertLine(a);
      std::fflush(stdout);
    }
    c.Check(reader->Finish());
    *handled = 0;
  });

  auto* events = app.add_subcommand("events", "publish events (game-server token; for tests and tooling)");
  events->require_subcommand(1);
  auto* epub = events->add_subcommand("publish", "send one batch from a JSON file (a steward.v1.EventBatch)");
  epub->add_option("--file", o.file)->required();
  epub->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::PublishEventsRequest req;
    auto st = google::protobuf::util::JsonStringToMessage(ReadFileOrDie(o.file), req.mutable_batch());
    if (!st.ok()) Fail(2, absl::StrCat(o.file, ": not an event batch: ", st.ToString()));
    v1::PublishEventsResponse resp;
    c.Check(c.events().PublishEvents(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("%llu accepted, %llu shed, %llu late%s%s\n",
                     static_cast<unsigned long long>(resp.summary().accepted()),
                     static_cast<unsigned long long>(resp.summary().shed()),
                     static_cast<unsigned long long>(resp.summary().late()),
                     resp.summary().detail().empty() ? "" : ": ", resp.summary().detail().c_str());
    return 0;
  }));

  auto* kb = app.add_subcommand("kb", "the knowledge base of unified answers (leads write)");
  kb->require_subcommand(1);
  static std::vector<std::string> kb_tags;
  auto* ksearch = kb->add_subcommand("search", "entries valid now that match every word and tag");
  ksearch->add_option("query", o.note, "words");
  ksearch->add_option("--tag", kb_tags, "repeatable");
  ksearch->add_option("--locale", o.realm, "e.g. en");
  ksearch->add_flag("--all", o.hours, "include entries outside their validity");
  ksearch->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SearchKbRequest req;
    req.set_query(o.note);
    for (const auto& t : kb_tags) req.add_tags(t);
    req.set_locale(o.realm);
    req.set_include_expired(o.hours);
    v1::SearchKbResponse resp;
    c.Check(c.knowledge().Search(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-6s %-4s %-6s %-48s %-19s %s\n", "ID", "VER", "LOCALE", "TITLE", ZoneHeader("VALID UNTIL").c_str(), "TAGS");
    for (const auto& e : resp.entries()) {
      std::string tags;
      for (const auto& t : e.tags()) absl::StrAppend(&tags, tags.empty() ? "" : ",", t);
      std::printf("%-6llu %-4llu %-6s %-48s %-19s %s\n", static_cast<unsigned long long>(e.id()),
                  static_cast<unsigned long long>(e.version()), e.locale().c_str(), Clip(e.title(), 48).c_str(),
                  e.valid_until_ms() == 0 ? "-" : Time(e.valid_until_ms()).c_str(), tags.c_str());
    }
    return 0;
  }));
  auto* kshow = kb->add_subcommand("show", "an entry (current, or --version N)");
  kshow->add_option("id", o.id)->required();
  kshow->add_option("--version", o.rule, "an earlier version");
  kshow->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetKbEntryRequest req;
    req.set_id(o.id);
    req.set_version(o.rule);
    v1::KbEntry e;
    c.Check(c.knowledge().GetEntry(&ctx, req, &e));
    if (g.json) {
      PrintJson(e);
      return 0;
    }
    std::printf("#%llu v%llu [%s] %s\n%s\n(by %s at %s%s%s)\n", static_cast<unsigned long long>(e.id()),
                static_cast<unsigned long long>(e.version()), e.locale().c_str(), e.title().c_str(), e.body().c_str(),
                e.updated_by().c_str(), Time(e.updated_at_ms()).c_str(), e.change_reason().empty() ? "" : ": ",
                e.change_reason().c_str());
    return 0;
  }));
  auto* khist = kb->add_subcommand("history", "every version of an entry, oldest first");
  khist->add_option("id", o.id)->required();
  khist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListKbHistoryRequest req;
    req.set_id(o.id);
    v1::ListKbHistoryResponse resp;
    c.Check(c.knowledge().ListHistory(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    for (const auto& e : resp.versions()) {
      std::printf("v%-3llu %-19s %-12s %s\n", static_cast<unsigned long long>(e.version()),
                  Time(e.updated_at_ms()).c_str(), e.updated_by().c_str(), e.change_reason().c_str());
    }
    return 0;
  }));
  auto* ksave = kb->add_subcommand("save", "create or update an entry from JSON (a steward.v1.KbEntry)");
  ksave->add_option("--file", o.file)->required();
  ksave->add_option("--reason", o.reason, "required for updates");
  ksave->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SaveKbEntryRequest req;
    auto st = google::protobuf::util::JsonStringToMessage(ReadFileOrDie(o.file), req.mutable_entry());
    if (!st.ok()) Fail(2, absl::StrCat(o.file, ": not a knowledge-base entry: ", st.ToString()));
    req.set_reason(o.reason);
    v1::SaveKbEntryResponse resp;
    c.Check(c.knowledge().SaveEntry(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("entry %llu saved (version %llu)\n", static_cast<unsigned long long>(resp.entry().id()),
                     static_cast<unsigned long long>(resp.entry().version()));
    return 0;
  }));

  auto* metrics = app.add_subcommand("metrics", "event roll-ups per minute or hour, and the pipeline's state");
  metrics->require_subcommand(1);
  auto* mq = metrics->add_subcommand("query", "points of one event type, oldest first");
  mq->add_option("type", o.type, "event type, e.g. login, ccu, crash")->required();
  mq->add_option("--realm", o.realm);
  mq->add_option("--server", o.server);
  mq->add_flag("--hours", o.hours, "hourly points (default: minutes)");
  mq->add_option("--from", o.from, "unix ms or RFC 3339; default a day (minutes) or 30 days (hours) back");
  mq->add_option("--to", o.to, "unix ms or RFC 3339; default now");
  mq->add_option("--limit", o.limit)->capture_default_str();
  mq->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::QueryMetricsRequest req;
    req.set_type(o.type);
    req.set_realm_id(o.realm);
    req.set_server_id(o.server);
    req.set_resolution(o.hours ? v1::RESOLUTION_HOUR : v1::RESOLUTION_MINUTE);
    req.set_from_ms(ParseTimeFlag(o.from, "--from"));
    req.set_to_ms(ParseTimeFlag(o.to, "--to"));
    req.set_limit(static_cast<int32_t>(o.limit));
    v1::QueryMetricsResponse resp;
    c.Check(c.monitoring().QueryMetrics(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-19s %-8s %-14s %10s %14s %12s %12s\n", ZoneHeader("START").c_str(), "REALM", "SERVER", "COUNT", "SUM", "MIN", "MAX");
    for (const auto& p : resp.points()) {
      std::printf("%-19s %-8s %-14s %10llu %14.1f %12.1f %12.1f\n", Time(p.start_ms()).c_str(),
                  Clip(p.realm_id(), 8).c_str(), Clip(p.server_id(), 14).c_str(),
                  static_cast<unsigned long long>(p.count()), p.sum(), p.min(), p.max());
    }
    return 0;
  }));
  auto* mstats = metrics->add_subcommand("pipeline", "events accepted/shed/late, window memory, alerts");
  mstats->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::PipelineStats s;
    c.Check(c.monitoring().GetPipelineStats(&ctx, {}, &s));
    if (g.json) {
      PrintJson(s);
      return 0;
    }
    std::printf("events: %llu accepted, %llu shed, %llu late; %llu batches rejected\n",
                static_cast<unsigned long long>(s.accepted()), static_cast<unsigned long long>(s.shed()),
                static_cast<unsigned long long>(s.late()), static_cast<unsigned long long>(s.rejected_batches()));
    std::printf("windows: %llu keys, %.1f MiB of %.0f MiB (%llu keys refused at the limit); %d workers, %llu queued\n",
                static_cast<unsigned long long>(s.window_keys()), s.memory_bytes() / 1048576.0,
                s.memory_limit_bytes() / 1048576.0, static_cast<unsigned long long>(s.keys_refused()), s.workers(),
                static_cast<unsigned long long>(s.queue_depth()));
    std::printf("alerts: %llu raised, %llu folded into open ones, %llu held back in storms; arrival->fire p99 <= %.1f ms\n",
                static_cast<unsigned long long>(s.alerts_raised()),
                static_cast<unsigned long long>(s.alerts_suppressed()),
                static_cast<unsigned long long>(s.alerts_held()), s.fire_latency_p99_ms());
    return 0;
  }));
}

}  // namespace steward::ctl
