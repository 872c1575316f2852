// stewardctl vip.
#include "admin-tools/ctl.h"

namespace steward::ctl {
namespace {

std::string TaskKind(v1::CareTaskKind k) { return EnumShort(v1::CareTaskKind_Name(k), "CARE_TASK_KIND_"); }
std::string TaskState(v1::CareTaskState s) { return EnumShort(v1::CareTaskState_Name(s), "CARE_TASK_STATE_"); }

void PrintTasks(const google::protobuf::RepeatedPtrField<v1::CareTask>& tasks) {
  std::printf("%-7s %-9s %-12s %-16s %-8s %-12s %-19s %-8s %s\n", "ID", "KIND", "STATE", "PLAYER", "TIER",
              "OWNER", ZoneHeader("DUE").c_str(), "ATTEMPTS", "REASON");
  for (const auto& t : tasks) {
    std::printf("%-7llu %-9s %-12s %-16s %-8s %-12s %-19s %u/%-6u %s\n", static_cast<unsigned long long>(t.id()),
                TaskKind(t.kind()).c_str(), TaskState(t.state()).c_str(), Clip(t.player_id(), 16).c_str(),
                t.tier().c_str(), t.owner().empty() ? "(queue)" : Clip(t.owner(), 12).c_str(),
                Time(t.due_at_ms()).c_str(), t.attempts_size(), t.max_attempts(), Clip(t.reason(), 50).c_str());
  }
}

void PrintProfile(const v1::VipProfile& p) {
  std::printf("player %s in %s: tier %s since %s%s\n", p.player_id().c_str(), p.realm_id().c_str(),
              p.tier().empty() ? "(none)" : p.tier().c_str(), Time(p.tier_since_ms()).c_str(),
              p.pending_tier().empty() ? "" : (" (drops to " + (p.pending_tier().empty() ? std::string("none") : p.pending_tier()) +
                                               " after the grace period from " + Time(p.pending_since_ms()) + ")").c_str());
  std::printf("spend: lifetime %.2f, last 30 days %.2f; first purchase %s, last %s\n",
              p.lifetime_spend_cents() / 100.0, p.spend_30d_cents() / 100.0, Time(p.first_purchase_ms()).c_str(),
              Time(p.last_purchase_ms()).c_str());
  std::printf("last login %s; care GM %s\n", Time(p.last_login_ms()).c_str(),
              p.care_gm().empty() ? "(VIP queue)" : p.care_gm().c_str());
  if (p.contact_redacted()) {
    std::printf("contact: (only the care GM and supervisors see it)\n");
  } else {
    std::printf("contact: %s %s, prefers %s%s\n", p.contact().email().c_str(), p.contact().phone().c_str(),
                p.contact().preferred_channel().c_str(), p.contact().do_not_contact() ? ", DO NOT CONTACT" : "");
  }
  std::printf("churn risk %.2f\n", p.churn().score());
  for (const auto& f : p.churn().factors()) std::printf("  %.2f %s: %s\n", f.weight(), f.name().c_str(), f.detail().c_str());
  for (const auto& h : p.tier_history()) {
    std::printf("  %s %s -> %s by %s: %s\n", Time(h.at_ms()).c_str(), h.from_tier().empty() ? "none" : h.from_tier().c_str(),
                h.to_tier().empty() ? "none" : h.to_tier().c_str(), h.by().c_str(), h.reason().c_str());
  }
}

}  // namespace

void AddVipCommands(CLI::App& app, const Globals& g, int* handled) {
  struct Opts {
    std::string player, realm, gm, tier, reason, outcome, note, owner, due;
    uint64_t id = 0;
    uint32_t max_attempts = 0;
    bool queue = false, all = false;
  };
  static Opts o;
  auto* vip = app.add_subcommand("vip", "VIP player care");
  vip->require_subcommand(1);

  auto* show = vip->add_subcommand("show", "a VIP profile (contact details: care GM and supervisors, audited)");
  show->add_option("--player", o.player)->required();
  show->add_option("--realm", o.realm)->required();
  show->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetVipProfileRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    v1::VipProfileResponse resp;
    c.Check(c.vip().GetVipProfile(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintProfile(resp.profile());
    return 0;
  }));

  auto* tasks = vip->add_subcommand("tasks", "care tasks: yours by default");
  tasks->add_option("--owner", o.owner, "another GM's tasks");
  tasks->add_flag("--queue", o.queue, "the VIP queue (tasks without an owner)");
  tasks->add_flag("--all", o.all, "every task, newest first, open or not");
  tasks->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListCareTasksRequest req;
    req.set_owner(o.owner);
    req.set_queue_only(o.queue);
    req.set_open_only(!o.all);
    v1::ListCareTasksResponse resp;
    c.Check(c.vip().ListCareTasks(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintTasks(resp.tasks());
    return 0;
  }));

  auto* attempt = vip->add_subcommand("attempt", "record a contact attempt on a task");
  attempt->add_option("task", o.id)->required();
  attempt->add_option("--outcome", o.outcome, "reached|no_answer|left_message|wrong_contact")->required();
  attempt->add_option("--note", o.note);
  attempt->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::RecordAttemptRequest req;
    req.set_task_id(o.id);
    req.set_outcome(ParseEnum<v1::AttemptOutcome>(o.outcome, "ATTEMPT_OUTCOME_", v1::AttemptOutcome_Parse, "--outcome"));
    req.set_note(o.note);
    v1::CareTaskResponse resp;
    c.Check(c.vip().RecordAttempt(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("task %llu: %s after %d attempt(s)\n", static_cast<unsigned long long>(o.id),
                     TaskState(resp.task().state()).c_str(), resp.task().attempts_size());
    return 0;
  }));

  auto* task = vip->add_subcommand("task", "create a manual care task (lead+)");
  task->add_option("--player", o.player)->required();
  task->add_option("--realm", o.realm)->required();
  task->add_option("--reason", o.reason)->required();
  task->add_option("--due", o.due, "unix ms or RFC 3339 (default: in a day)");
  task->add_option("--max-attempts", o.max_attempts, "1 to 5 (default 3)");
  task->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::CreateCareTaskRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    req.set_reason(o.reason);
    req.set_due_at_ms(ParseTimeFlag(o.due, "--due"));
    req.set_max_attempts(o.max_attempts);
    v1::CareTaskResponse resp;
    c.Check(c.vip().CreateCareTask(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("care task %llu created\n", static_cast<unsigned long long>(resp.task().id()));
    return 0;
  }));

  auto* assign = vip->add_subcommand("assign", "set the player's care GM (lead+)");
  assign->add_option("--player", o.player)->required();
  assign->add_option("--realm", o.realm)->required();
  assign->add_option("--gm", o.gm, "GM name; empty for the VIP queue")->required();
  assign->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::AssignCareGmRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    req.set_care_gm(o.gm);
    v1::VipProfileResponse resp;
    c.Check(c.vip().AssignCareGm(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("care GM of %s: %s\n", o.player.c_str(), o.gm.empty() ? "(VIP queue)" : o.gm.c_str());
    return 0;
  }));

  auto* tier = vip->add_subcommand("tier", "set a tier by hand, with a reason (lead+)");
  tier->add_option("--player", o.player)->required();
  tier->add_option("--realm", o.realm)->required();
  tier->add_option("--tier", o.tier, "a configured tier, or empty for none")->required();
  tier->add_option("--reason", o.reason)->required();
  tier->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SetTierRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    req.set_tier(o.tier);
    req.set_reason(o.reason);
    v1::VipProfileResponse resp;
    c.Check(c.vip().SetTier(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("%s is now %s\n", o.player.c_str(), o.tier.empty() ? "not a VIP" : o.tier.c_str());
    return 0;
  }));

  auto* shift = vip->add_subcommand("shift", "on|off: while on shift, your VIPs' new tickets come to you");
  shift->add_option("state", o.outcome, "on|off")->required()->check(CLI::IsMember({"on", "off"}));
  shift->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SetOnShiftRequest req;
    req.set_on_shift(o.outcome == "on");
    v1::SetOnShiftResponse resp;
    c.Check(c.vip().SetOnShift(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("%s is %s shift\n", resp.gm().c_str(), resp.on_shift() ? "on" : "off");
    return 0;
  }));

  auto* report = vip->add_subcommand("report", "tiers, movement, tasks and churn (supervisor+)");
  report->add_option("--realm", o.realm);
  report->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::VipReportRequest req;
    req.set_realm_id(o.realm);
    v1::VipReportResponse r;
    c.Check(c.vip().GetVipReport(&ctx, req, &r));
    if (g.json) {
      PrintJson(r);
      return 0;
    }
    std::printf("%-10s %-8s %-9s %s\n", "TIER", "PLAYERS", "UPGRADES", "DOWNGRADES (last 30 days)");
    for (const auto& t : r.tiers()) {
      std::printf("%-10s %-8u %-9u %u\n", t.tier().c_str(), t.players(), t.upgrades(), t.downgrades());
    }
    std::printf("care tasks: %u created, %u done (%u on time), %u unreachable\n", r.tasks_created(), r.tasks_done(),
                r.tasks_done_on_time(), r.tasks_unreachable());
    std::printf("callbacks: %u, reached %u; churned VIPs (30 days without login): %u\n", r.callbacks(),
                r.callbacks_reached(), r.churned_vips());
    return 0;
  }));
}

}  // namespace steward::ctl
