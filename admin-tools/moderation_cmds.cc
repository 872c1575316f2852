// stewardctl sanctions | approvals | appeals | announce | servers | player.
#include <unistd.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "admin-tools/ctl.h"

namespace steward::ctl {
namespace {

std::string SanctionTypeName(v1::SanctionType t) {
  return EnumShort(v1::SanctionType_Name(t), "SANCTION_TYPE_");
}
std::string SanctionStateName(v1::SanctionState s) {
  return EnumShort(v1::SanctionState_Name(s), "SANCTION_STATE_");
}

// "90m", "12h", "3d", "1h30m", "permanent"/"0", or milliseconds.
int64_t ParseDurationFlag(const std::string& v, const std::string& flag) {
  if (v.empty() || v == "0" || v == "permanent") return 0;
  int64_t ms;
  if (absl::SimpleAtoi(v, &ms) && ms >= 0) return ms;
  if (absl::EndsWith(v, "d")) {
    int64_t days;
    if (absl::SimpleAtoi(v.substr(0, v.size() - 1), &days) && days > 0) return days * 86'400'000;
  }
  absl::Duration d;
  if (absl::ParseDuration(v, &d) && d > absl::ZeroDuration()) return absl::ToInt64Milliseconds(d);
  Fail(2, flag + " must look like 90m, 12h, 3d or 'permanent'");
}

std::string DurationText(int64_t ms) {
  if (ms == 0) return "permanent";
  if (ms % 86'400'000 == 0) return absl::StrCat(ms / 86'400'000, "d");
  return absl::FormatDuration(absl::Milliseconds(ms));
}

std::string DefaultKey() {
  return absl::StrCat("ctl-", absl::ToUnixNanos(absl::Now()), "-", ::getpid());
}

std::string Scope(const v1::SanctionScope& s) {
  if (s.realm_id().empty()) return "global";
  return s.server_id().empty() ? s.realm_id() : s.realm_id() + "/" + s.server_id();
}

void PrintSanctions(const google::protobuf::RepeatedPtrField<v1::Sanction>& list) {
  std::printf("%-8s %-12s %-20s %-14s %-17s %-19s %-12s %s\n", "ID", "TYPE", "SUBJECT", "SCOPE",
              "STATE", ZoneHeader("EXPIRES").c_str(), "ISSUED BY", "REASON");
  for (const auto& s : list) {
    std::printf("%-8llu %-12s %-20s %-14s %-17s %-19s %-12s %s\n",
                static_cast<unsigned long long>(s.id()), SanctionTypeName(s.spec().type()).c_str(),
                Clip(s.spec().subject_id(), 20).c_str(), Clip(Scope(s.spec().scope()), 14).c_str(),
                SanctionStateName(s.state()).c_str(),
                s.expires_at_ms() ? Time(s.expires_at_ms()).c_str()
                                  : (s.state() == v1::SANCTION_STATE_ACTIVE ? "never" : "-"),
                Clip(s.issued_by(), 12).c_str(), Clip(s.spec().reason(), 50).c_str());
  }
}

void PrintSanction(const v1::Sanction& s) {
  auto row = [](const char* k, const std::string& v) {
    if (!v.empty()) std::printf("%-16s %s\n", k, v.c_str());
  };
  row("sanction", std::to_string(s.id()));
  row("type", SanctionTypeName(s.spec().type()));
  row("subject", s.spec().subject_id());
  row("scope", Scope(s.spec().scope()));
  row("state", SanctionStateName(s.state()));
  row("duration", DurationText(s.spec().duration_ms()));
  row("issued", Time(s.issued_at_ms()) + " by " + s.issued_by());
  row("effective", s.effective_at_ms() ? Time(s.effective_at_ms()) : "");
  row("expires", s.expires_at_ms() ? Time(s.expires_at_ms()) : "");
  row("approval", s.approval_id() ? absl::StrCat(s.approval_id(), s.approved_by().empty() ? "" : " approved by " + s.approved_by()) : "");
  row("policy", s.spec().policy_code());
  row("strike points", s.strike_points() ? absl::StrCat(s.strike_points()) : "");
  for (const auto& f : s.spec().features()) row("feature", f);
  for (const auto& e : s.spec().evidence()) row("evidence", e);
  row("appeal", s.appeal_id() ? absl::StrCat(s.appeal_id(), " (",
                                             EnumShort(v1::AppealState_Name(s.appeal_state()), "APPEAL_STATE_"), ")")
                              : "");
  row("revoked", s.revoked_at_ms() ? Time(s.revoked_at_ms()) + " by " + s.revoked_by() + ": " + s.revoke_reason() : "");
  row("reason", s.spec().reason());
}

}  // namespace

void AddModerationCommands(CLI::App& app, const Globals& g, int* handled) {
  // Options outlive parsing: CLI11 writes into them, callbacks read them.
  struct Opts {
    std::string type, subject, realm, server, duration, reason, policy, key, player, device, ip,
        guild, file, decision, reply, title, body, channel, locale, vip, at, every, until, show_for;
    std::vector<std::string> evidence, features;
    uint64_t id = 0;
    uint32_t limit = 50;
    std::string page_token;
    bool active = false, all = false, scheduled = false;
  };
  static Opts o;

  // --- sanctions ---
  auto* sanctions = app.add_subcommand("sanctions", "bans, mutes and other sanctions");
  sanctions->require_subcommand(1);
  auto* issue = sanctions->add_subcommand("issue", "place a sanction (may wait for approval)");
  issue->add_option("--type", o.type,
                    "warning|ban|temp_ban|mute|shadow_mute|restrict|kick|device_ban|ip_ban|guild_ban|channel_ban")
      ->required();
  issue->add_option("--subject", o.subject, "player id, or device/IP hash, guild or channel id")->required();
  issue->add_option("--realm", o.realm, "scope: realm (omit for global)");
  issue->add_option("--server", o.server, "scope: one server of --realm");
  issue->add_option("--duration", o.duration, "90m, 12h, 3d or permanent");
  issue->add_option("--reason", o.reason, "shown to the player")->required();
  issue->add_option("--policy", o.policy, "policy code, e.g. cheating");
  issue->add_option("--evidence", o.evidence, "case/report/alert/ticket ids");
  issue->add_option("--feature", o.features, "restrict: trade, matchmaking, market, ...");
  issue->add_option("--idempotency-key", o.key, "retry key (default: a new one)");
  issue->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::IssueSanctionRequest req;
    req.set_idempotency_key(o.key.empty() ? DefaultKey() : o.key);
    auto* s = req.mutable_spec();
    s->set_type(ParseEnum<v1::SanctionType>(o.type, "SANCTION_TYPE_", v1::SanctionType_Parse, "--type"));
    s->set_subject_id(o.subject);
    s->mutable_scope()->set_realm_id(o.realm);
    s->mutable_scope()->set_server_id(o.server);
    s->set_duration_ms(ParseDurationFlag(o.duration, "--duration"));
    s->set_reason(o.reason);
    s->set_policy_code(o.policy);
    for (const auto& e : o.evidence) s->add_evidence(e);
    for (const auto& f : o.features) s->add_features(f);
    v1::IssueSanctionResponse resp;
    c.Check(c.moderation().IssueSanction(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else if (resp.sanction().state() == v1::SANCTION_STATE_PENDING_APPROVAL) {
      std::printf("sanction %llu waits for a second GM: approval %llu\n",
                  static_cast<unsigned long long>(resp.sanction().id()),
                  static_cast<unsigned long long>(resp.sanction().approval_id()));
    } else {
      std::printf("sanction %llu %s\n", static_cast<unsigned long long>(resp.sanction().id()),
                  resp.deduplicated() ? "(already issued)" : "in force");
    }
    return 0;
  }));

  auto* bulk = sanctions->add_subcommand("bulk", "issue many at once, all or nothing");
  bulk->add_option("--file", o.file, "JSON: {\"specs\": [SanctionSpec, ...]}")->required();
  bulk->add_option("--idempotency-key", o.key, "retry key (default: a new one)");
  bulk->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::BulkIssueSanctionsRequest req;
    auto st = google::protobuf::util::JsonStringToMessage(ReadFileOrDie(o.file), &req);
    if (!st.ok()) Fail(2, o.file + ": " + std::string(st.message()));
    req.set_idempotency_key(o.key.empty() ? DefaultKey() : o.key);
    v1::BulkIssueSanctionsResponse resp;
    c.Check(c.moderation().BulkIssueSanctions(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else {
      std::printf("%d sanctions %s%s\n", resp.sanctions_size(),
                  resp.approval_id() ? absl::StrCat("wait for approval ", resp.approval_id()).c_str() : "in force",
                  resp.deduplicated() ? " (already issued)" : "");
    }
    return 0;
  }));

  auto* slist = sanctions->add_subcommand("list", "newest first");
  slist->add_option("--subject", o.subject, "only this subject");
  slist->add_flag("--active", o.active, "only sanctions in force now");
  slist->add_option("--limit", o.limit)->capture_default_str();
  slist->add_option("--page-token", o.page_token);
  slist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListSanctionsRequest req;
    req.set_subject_id(o.subject);
    req.set_active_only(o.active);
    req.set_page_size(o.limit);
    req.set_page_token(o.page_token);
    v1::ListSanctionsResponse resp;
    c.Check(c.moderation().ListSanctions(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else {
      PrintSanctions(resp.sanctions());
      if (!resp.next_page_token().empty()) std::printf("(more: --page-token %s)\n", resp.next_page_token().c_str());
    }
    return 0;
  }));

  auto* sshow = sanctions->add_subcommand("show", "one sanction");
  sshow->add_option("id", o.id)->required();
  sshow->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetSanctionRequest req;
    req.set_sanction_id(o.id);
    v1::Sanction resp;
    c.Check(c.moderation().GetSanction(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else PrintSanction(resp);
    return 0;
  }));

  auto* revoke = sanctions->add_subcommand("revoke", "lift a sanction");
  revoke->add_option("id", o.id)->required();
  revoke->add_option("--reason", o.reason)->required();
  revoke->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::RevokeSanctionRequest req;
    req.set_sanction_id(o.id);
    req.set_reason(o.reason);
    v1::RevokeSanctionResponse resp;
    c.Check(c.moderation().RevokeSanction(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("sanction %llu revoked\n", static_cast<unsigned long long>(o.id));
    return 0;
  }));

  auto* suggest = sanctions->add_subcommand("suggest", "next step on the penalty ladder");
  suggest->add_option("--player", o.player)->required();
  suggest->add_option("--realm", o.realm);
  suggest->add_option("--policy", o.policy, "the rule broken now")->required();
  suggest->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::SuggestPenaltyRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    req.set_policy_code(o.policy);
    v1::SuggestPenaltyResponse resp;
    c.Check(c.moderation().SuggestPenalty(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else {
      std::printf("suggested: %s %s\n%s\n", SanctionTypeName(resp.suggested_type()).c_str(),
                  resp.suggested_duration_ms() ? DurationText(resp.suggested_duration_ms()).c_str() : "",
                  resp.explanation().c_str());
    }
    return 0;
  }));

  // --- approvals ---
  auto* approvals = app.add_subcommand("approvals", "two-person approval (supervisor+)");
  approvals->require_subcommand(1);
  auto* alist = approvals->add_subcommand("list", "pending, oldest first");
  alist->add_flag("--all", o.all, "decided ones too, newest first");
  alist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListApprovalsRequest req;
    req.set_pending_only(!o.all);
    v1::ListApprovalsResponse resp;
    c.Check(c.moderation().ListApprovals(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-8s %-10s %-14s %-19s %-9s %s\n", "ID", "STATE", "PROPOSED BY", ZoneHeader("AT").c_str(), "SANCTIONS", "WHY");
    for (const auto& a : resp.approvals()) {
      std::printf("%-8llu %-10s %-14s %-19s %-9d %s\n", static_cast<unsigned long long>(a.id()),
                  EnumShort(v1::ApprovalState_Name(a.state()), "APPROVAL_STATE_").c_str(),
                  Clip(a.proposed_by(), 14).c_str(), Time(a.proposed_at_ms()).c_str(),
                  a.sanction_ids_size(), a.why_needed().c_str());
    }
    return 0;
  }));
  for (bool approve : {true, false}) {
    auto* d = approvals->add_subcommand(approve ? "approve" : "reject",
                                        approve ? "let the sanctions take effect" : "refuse them");
    d->add_option("id", o.id)->required();
    auto* r = d->add_option("--reason", o.reason);
    if (!approve) r->required();
    d->callback(Command(g, handled, [&g, approve](Client& c, grpc::ClientContext& ctx) {
      v1::DecideApprovalRequest req;
      req.set_approval_id(o.id);
      req.set_approve(approve);
      req.set_reason(o.reason);
      v1::DecideApprovalResponse resp;
      c.Check(c.moderation().DecideApproval(&ctx, req, &resp));
      if (g.json) PrintJson(resp);
      else std::printf("approval %llu %s\n", static_cast<unsigned long long>(o.id), approve ? "approved" : "rejected");
      return 0;
    }));
  }

  // --- appeals ---
  auto* appeals = app.add_subcommand("appeals", "players' appeals (lead+)");
  appeals->require_subcommand(1);
  auto* aplist = appeals->add_subcommand("list", "open, oldest first");
  aplist->add_flag("--all", o.all, "decided ones too, newest first");
  aplist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListAppealsRequest req;
    req.set_open_only(!o.all);
    v1::ListAppealsResponse resp;
    c.Check(c.moderation().ListAppeals(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-8s %-9s %-10s %-16s %-22s %-19s %s\n", "ID", "SANCTION", "STATE", "PLAYER", "REASON",
                ZoneHeader("FILED").c_str(), "TEXT");
    for (const auto& a : resp.appeals()) {
      std::printf("%-8llu %-9llu %-10s %-16s %-22s %-19s %s\n", static_cast<unsigned long long>(a.id()),
                  static_cast<unsigned long long>(a.sanction_id()),
                  EnumShort(v1::AppealState_Name(a.state()), "APPEAL_STATE_").c_str(),
                  Clip(a.player_id(), 16).c_str(),
                  EnumShort(v1::AppealReason_Name(a.reason()), "APPEAL_REASON_").c_str(),
                  Time(a.filed_at_ms()).c_str(), Clip(a.text(), 60).c_str());
    }
    return 0;
  }));
  auto* decide = appeals->add_subcommand("decide", "uphold, reduce or revoke");
  decide->add_option("id", o.id)->required();
  decide->add_option("--decision", o.decision, "uphold|reduce|revoke")->required();
  decide->add_option("--duration", o.duration, "reduce: the new total duration");
  decide->add_option("--reply", o.reply, "what the player is told")->required();
  decide->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::DecideAppealRequest req;
    req.set_appeal_id(o.id);
    req.set_decision(ParseEnum<v1::AppealDecision>(o.decision, "APPEAL_DECISION_",
                                                   v1::AppealDecision_Parse, "--decision"));
    req.set_new_duration_ms(ParseDurationFlag(o.duration, "--duration"));
    req.set_reply(o.reply);
    v1::DecideAppealResponse resp;
    c.Check(c.moderation().DecideAppeal(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("appeal %llu: %s\n", static_cast<unsigned long long>(o.id),
                     EnumShort(v1::AppealState_Name(resp.appeal().state()), "APPEAL_STATE_").c_str());
    return 0;
  }));

  // --- player check ---
  auto* player = app.add_subcommand("player", "what a player may do right now");
  player->require_subcommand(1);
  auto* check = player->add_subcommand("check", "as the game server sees it at login");
  check->add_option("--player", o.player)->required();
  check->add_option("--realm", o.realm)->required();
  check->add_option("--server", o.server);
  check->add_option("--device", o.device, "device hash");
  check->add_option("--ip", o.ip, "IP hash");
  check->add_option("--guild", o.guild);
  static std::vector<std::string> channels;
  check->add_option("--chat-channel", channels, "a chat channel the player is in (repeat)");
  check->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::CheckPlayerRequest req;
    req.set_player_id(o.player);
    req.set_realm_id(o.realm);
    req.set_server_id(o.server);
    req.set_device_hash(o.device);
    req.set_ip_hash(o.ip);
    req.set_guild_id(o.guild);
    for (const auto& ch : channels) req.add_channel_ids(ch);
    v1::PlayerStatus st;
    c.Check(c.moderation().CheckPlayer(&ctx, req, &st));
    if (g.json) {
      PrintJson(st);
      return 0;
    }
    std::printf("login %s, chat %s%s\n", st.can_login() ? "allowed" : "BLOCKED",
                st.can_chat() ? "allowed" : "BLOCKED", st.shadow_muted() ? " (shadow muted)" : "");
    for (const auto& f : st.restricted_features()) std::printf("restricted: %s\n", f.c_str());
    if (st.guild_banned()) std::printf("guild banned\n");
    for (const auto& ch : st.banned_channels()) std::printf("channel closed: %s\n", ch.c_str());
    for (const auto& r : st.restrictions()) {
      std::printf("  sanction %llu %s, %s%s%s\n", static_cast<unsigned long long>(r.sanction_id()),
                  SanctionTypeName(r.type()).c_str(),
                  r.expires_at_ms() ? ("until " + Time(r.expires_at_ms())).c_str() : "permanent",
                  r.appealable() ? ", appealable" : "", r.reason().empty() ? "" : (": " + r.reason()).c_str());
    }
    return 0;
  }));

  // --- announcements ---
  auto* announce = app.add_subcommand("announce", "broadcasts to game servers (lead+)");
  announce->require_subcommand(1);
  auto* create = announce->add_subcommand("create", "now, later, or repeating");
  create->add_option("--title", o.title)->required();
  create->add_option("--body", o.body)->required();
  create->add_option("--channel", o.channel, "system_chat|banner|mail")->required();
  create->add_option("--realm", o.realm, "target realm (omit for all)");
  create->add_option("--server", o.server, "one server of --realm");
  create->add_option("--locale", o.locale, "only players with this locale");
  create->add_option("--vip-tier", o.vip, "only players of this VIP tier");
  create->add_option("--at", o.at, "first showing (unix ms or RFC 3339; default now)");
  create->add_option("--every", o.every, "repeat period, e.g. 30m, 1d");
  create->add_option("--until", o.until, "no showings from then on");
  create->add_option("--show-for", o.show_for, "how long each showing stays");
  create->add_option("--idempotency-key", o.key);
  create->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::CreateAnnouncementRequest req;
    req.set_idempotency_key(o.key.empty() ? DefaultKey() : o.key);
    auto* s = req.mutable_spec();
    s->set_title(o.title);
    s->set_body(o.body);
    s->set_channel(ParseEnum<v1::AnnouncementChannel>(o.channel, "ANNOUNCEMENT_CHANNEL_",
                                                      v1::AnnouncementChannel_Parse, "--channel"));
    s->mutable_target()->set_realm_id(o.realm);
    s->mutable_target()->set_server_id(o.server);
    s->set_locale(o.locale);
    s->set_vip_tier(o.vip);
    s->set_starts_at_ms(ParseTimeFlag(o.at, "--at"));
    s->set_repeat_every_ms(ParseDurationFlag(o.every, "--every"));
    s->set_ends_at_ms(ParseTimeFlag(o.until, "--until"));
    s->set_show_for_ms(ParseDurationFlag(o.show_for, "--show-for"));
    v1::AnnouncementResponse resp;
    c.Check(c.announcements().CreateAnnouncement(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("announcement %llu: %u showing(s) sent%s\n",
                     static_cast<unsigned long long>(resp.announcement().id()), resp.announcement().showings(),
                     resp.announcement().state() == v1::ANNOUNCEMENT_STATE_SCHEDULED
                         ? (", next at " + Time(resp.announcement().next_at_ms())).c_str() : "");
    return 0;
  }));
  auto* anlist = announce->add_subcommand("list", "newest first");
  anlist->add_flag("--scheduled", o.scheduled, "only those with showings to come");
  anlist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListAnnouncementsRequest req;
    req.set_scheduled_only(o.scheduled);
    v1::ListAnnouncementsResponse resp;
    c.Check(c.announcements().ListAnnouncements(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-6s %-10s %-12s %-9s %-19s %-8s %s\n", "ID", "STATE", "CHANNEL", "TARGET", ZoneHeader("NEXT").c_str(), "SHOWN",
                "TITLE");
    for (const auto& a : resp.announcements()) {
      std::string target = a.spec().target().realm_id().empty() ? "all" : a.spec().target().realm_id();
      std::printf("%-6llu %-10s %-12s %-9s %-19s %-8u %s\n", static_cast<unsigned long long>(a.id()),
                  EnumShort(v1::AnnouncementState_Name(a.state()), "ANNOUNCEMENT_STATE_").c_str(),
                  EnumShort(v1::AnnouncementChannel_Name(a.spec().channel()), "ANNOUNCEMENT_CHANNEL_").c_str(),
                  Clip(target, 9).c_str(),
                  a.state() == v1::ANNOUNCEMENT_STATE_SCHEDULED ? Time(a.next_at_ms()).c_str() : "-",
                  a.showings(), Clip(a.spec().title(), 50).c_str());
    }
    return 0;
  }));
  auto* ancancel = announce->add_subcommand("cancel", "stop it and take it down on servers");
  ancancel->add_option("id", o.id)->required();
  ancancel->add_option("--reason", o.reason)->required();
  ancancel->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::CancelAnnouncementRequest req;
    req.set_announcement_id(o.id);
    req.set_reason(o.reason);
    v1::AnnouncementResponse resp;
    c.Check(c.announcements().CancelAnnouncement(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("announcement %llu cancelled\n", static_cast<unsigned long long>(o.id));
    return 0;
  }));
  auto* andel = announce->add_subcommand("deliveries", "which servers acknowledged it");
  andel->add_option("id", o.id)->required();
  andel->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::GetDeliveriesRequest req;
    req.set_announcement_id(o.id);
    v1::GetDeliveriesResponse resp;
    c.Check(c.announcements().GetDeliveries(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%u of %d targeted servers acknowledged\n", resp.acknowledged(), resp.servers_size());
    for (const auto& s : resp.servers()) {
      std::printf("  %-20s %-8s %-7s %s\n", s.server_id().c_str(), s.realm_id().c_str(),
                  s.online() ? "online" : "offline", s.acknowledged() ? "acknowledged" : "pending");
    }
    return 0;
  }));

  // --- servers ---
  auto* servers = app.add_subcommand("servers", "registered game servers");
  servers->require_subcommand(1);
  auto* svlist = servers->add_subcommand("list", "with liveness and directive acks");
  svlist->add_option("--realm", o.realm);
  svlist->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    v1::ListServersRequest req;
    req.set_realm_id(o.realm);
    v1::ListServersResponse resp;
    c.Check(c.game_servers().ListServers(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("%-20s %-8s %-7s %-8s %-10s %-19s %s\n", "SERVER", "REALM", "STATE", "PLAYERS", "ACKED SEQ",
                "LAST HEARTBEAT", "BUILD");
    for (const auto& s : resp.servers()) {
      std::printf("%-20s %-8s %-7s %-8u %-10llu %-19s %s\n", Clip(s.server_id(), 20).c_str(),
                  Clip(s.realm_id(), 8).c_str(), s.online() ? "online" : "offline", s.players_online(),
                  static_cast<unsigned long long>(s.acked_seq()), Time(s.last_heartbeat_ms()).c_str(),
                  s.build().c_str());
    }
    return 0;
  }));
}

}  // namespace steward::ctl
