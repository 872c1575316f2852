// A pretend game server on the Steward plugin: N players log in, chat,
// earn gold, fight, now and then file a ticket, report someone or submit a
// bug; one gold farmer and one spammer misbehave. With --gm-token it also
// installs two monitoring rules so the misbehaviour raises alerts and
// sanctions. Everything Steward sends back (kicks, mutes, announcements,
// GM replies) is printed as the game would apply it.
//
//   make run                       # in one terminal
//   make demo                      # in another (reads var/credentials.env)
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>

#include <grpcpp/grpcpp.h>

#include "steward/plugin.h"
#include "steward/v1/events.grpc.pb.h"

namespace {

const char* Kind(steward::Directive::Kind k) {
  using K = steward::Directive::Kind;
  switch (k) {
    case K::kKick: return "KICK";
    case K::kSanction: return "SANCTION";
    case K::kSanctionLifted: return "LIFTED";
    case K::kAnnouncement: return "ANNOUNCE";
    case K::kAnnouncementCancel: return "ANNOUNCE-CANCEL";
    case K::kTicketReply: return "GM-REPLY";
    case K::kReportOutcome: return "REPORT-OUTCOME";
    case K::kBugStatus: return "BUG-STATUS";
    case K::kAppealOutcome: return "APPEAL";
    case K::kRequestDone: return "DONE";
    case K::kResync: return "RESYNC";
  }
  return "?";
}

// The demo's rules, through the monitoring API (a lead's token).
void InstallRules(const std::string& addr, const std::string& gm_token) {
  auto stub = steward::v1::MonitoringService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  auto save = [&](steward::v1::Rule r) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + gm_token);
    steward::v1::SaveRuleRequest req;
    *req.mutable_rule() = r;
    steward::v1::SaveRuleResponse resp;
    grpc::Status s = stub->SaveRule(&ctx, req, &resp);
    std::printf("rule \"%s\": %s\n", r.name().c_str(),
                s.ok() ? "installed" : s.error_message().c_str());
  };
  steward::v1::Rule gold;
  gold.set_name("demo: gold farming");
  gold.set_kind(steward::v1::RULE_KIND_THRESHOLD);
  gold.set_enabled(true);
  gold.set_severity(steward::v1::SEVERITY_CRITICAL);
  gold.add_event_types("gold_gain");
  gold.add_group_by("player");
  gold.set_aggregate(steward::v1::AGGREGATE_SUM);
  gold.set_window_seconds(60);
  gold.set_slide_seconds(10);
  gold.set_threshold(100000);
  gold.mutable_action()->set_kind(steward::v1::ACTION_KIND_SANCTION);
  gold.mutable_action()->set_sanction_type(steward::v1::SANCTION_TYPE_TEMP_BAN);
  gold.mutable_action()->set_sanction_duration_ms(3600 * 1000);
  gold.mutable_action()->set_reason("Impossible gold income (automatic, under review)");
  gold.mutable_action()->set_policy_code("cheating");
  save(gold);
  steward::v1::Rule spam;
  spam.set_name("demo: gold sellers");
  spam.set_kind(steward::v1::RULE_KIND_PATTERN);
  spam.set_enabled(true);
  spam.add_event_types("chat");
  spam.add_group_by("player");
  spam.set_pattern(R"(cheap\s+gold)");
  spam.set_case_insensitive(true);
  spam.set_threshold(3);
  spam.mutable_action()->set_kind(steward::v1::ACTION_KIND_SANCTION);
  spam.mutable_action()->set_sanction_type(steward::v1::SANCTION_TYPE_MUTE);
  spam.mutable_action()->set_sanction_duration_ms(600 * 1000);
  spam.mutable_action()->set_reason("Advertising (automatic)");
  spam.mutable_action()->set_policy_code("spamming");
  save(spam);
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:50051", token, gm_token, realm = "dev", server = "demo-1";
  int players = 200, seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--addr") addr = v;
    else if (k == "--token") token = v;
    else if (k == "--gm-token") gm_token = v;
    else if (k == "--realm") realm = v;
    else if (k == "--server") server = v;
    else if (k == "--players") players = std::stoi(v);
    else if (k == "--seconds") seconds = std::stoi(v);
  }
  if (token.empty()) {
    std::fprintf(stderr,
                 "usage: steward_demo --token <game-server token> [--gm-token <lead token>] [--addr host:port]\n"
                 "       [--realm dev] [--server demo-1] [--players 200] [--seconds 60]\n");
    return 2;
  }
  if (!gm_token.empty()) InstallRules(addr, gm_token);

  steward::Options o;
  o.mode = steward::Options::Mode::kRemote;
  o.address = addr;
  o.token = token;
  o.realm_id = realm;
  o.server_id = server;
  o.build = "demo-1.0";
  std::unique_ptr<steward::Plugin> plugin;
  steward::Status s = steward::Plugin::Create(o, &plugin);
  if (!s.ok()) {
    std::fprintf(stderr, "plugin: %s\n", s.message.c_str());
    return 1;
  }
  std::printf("demo game server %s (realm %s) with %d players, %d s, against %s\n", server.c_str(), realm.c_str(),
              players, seconds, addr.c_str());

  std::mt19937 rng(42);
  std::unordered_set<int> online;
  const std::string farmer = "p-9001", spammer = "p-9002";
  static const char* kChat[] = {"gg", "anyone for the raid?", "lol", "need a healer", "wts sword 500g", "ty!"};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int tick = 0;
  while (std::chrono::steady_clock::now() < end) {
    ++tick;
    // Logins: checked against the ban cache, never waiting on the network.
    for (int k = 0; k < 3; ++k) {
      int p = static_cast<int>(rng() % players);
      std::string id = "p-" + std::to_string(1000 + p);
      steward::PlayerStatus st = plugin->CheckPlayer(id);
      if (!st.can_login) {
        std::printf("  login refused for %s: %s\n", id.c_str(), st.reason.c_str());
        continue;
      }
      if (online.insert(p).second) plugin->RecordEvent("login", id, 1, {}, "device", "dev-" + std::to_string(p));
    }
    plugin->SetPlayersOnline(static_cast<uint32_t>(online.size()));
    for (int p : online) {
      std::string id = "p-" + std::to_string(1000 + p);
      if (rng() % 10 == 0) plugin->RecordEvent("chat", id, 0, kChat[rng() % 6]);
      if (rng() % 4 == 0) plugin->RecordEvent("gold_gain", id, static_cast<double>(rng() % 50));
      if (rng() % 20 == 0) plugin->RecordEvent("kill", id, 1);
    }
    // The misbehaving two.
    if (plugin->CheckPlayer(farmer).can_login) plugin->RecordEvent("gold_gain", farmer, 5000);
    if (plugin->CheckPlayer(spammer).can_chat) plugin->RecordEvent("chat", spammer, 0, "CHEAP GOLD at goldz.example");
    // Now and then, the support side.
    if (tick % 50 == 0 && !online.empty()) {
      steward::TicketSubmission t;
      t.player_id = "p-" + std::to_string(1000 + *online.begin());
      t.category = tick % 100 == 0 ? "complaint" : "question";
      t.subject = tick % 100 == 0 ? "My sword vanished after a trade" : "How do I reset my talents?";
      t.map = "forest";
      plugin->SubmitTicket(t);
    }
    if (tick % 70 == 0) {
      steward::PlayerReportSubmission r;
      r.reporter_id = "p-" + std::to_string(1000 + rng() % players);
      r.reported_id = spammer;
      r.category = "spamming";
      r.message = "keeps advertising gold";
      r.chat_excerpt = {"CHEAP GOLD at goldz.example"};
      plugin->ReportPlayer(r);
    }
    if (tick % 120 == 0) {
      steward::BugSubmission b;
      b.player_id = "p-" + std::to_string(1000 + rng() % players);
      b.title = "Fell through the floor in the dungeon";
      b.severity = "s3";
      b.crash_signature = "";
      plugin->SubmitBug(b);
    }
    // Apply what Steward sent, on the game thread.
    plugin->Poll([&](const steward::Directive& d) {
      if (d.kind == steward::Directive::Kind::kRequestDone) {
        std::printf("  %-15s request %llu -> id %llu %s\n", Kind(d.kind), static_cast<unsigned long long>(d.request_id),
                    static_cast<unsigned long long>(d.id), d.status.ok() ? "" : d.status.message.c_str());
        return;
      }
      std::printf("  %-15s %s %s %s %s\n", Kind(d.kind), d.player_id.c_str(), d.sanction_type.c_str(),
                  d.title.c_str(), d.text.c_str());
      if (d.kind == steward::Directive::Kind::kKick) {
        for (auto it = online.begin(); it != online.end(); ++it) {
          if ("p-" + std::to_string(1000 + *it) == d.player_id) {
            online.erase(it);
            break;
          }
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  steward::Stats st = plugin->GetStats();
  std::printf("events: %llu recorded, %llu sent, %llu shed; %llu directives; %s\n",
              static_cast<unsigned long long>(st.events_recorded), static_cast<unsigned long long>(st.events_sent),
              static_cast<unsigned long long>(st.events_shed), static_cast<unsigned long long>(st.directives),
              st.connected ? "connected" : "disconnected");
  std::printf("look around: stewardctl tickets list | cases list | alerts list | sanctions list --active\n");
  return 0;
}
