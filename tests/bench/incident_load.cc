// incident_load: the mass-complaint day against a running stewardd.
//
// N players each file a complaint on one of S game servers, which all
// watch their directive streams. Then, each timed until every server has
// what concerns it:
//   bans   N single bans (IssueSanction, 32 in flight): the yardstick;
//   link   one OpenIncident linking the N tickets;
//   reply  one ReplyToIncident: a reply on each ticket, to its own server;
//   grant  one ProposeGrant to the incident's N players (within the
//          proposer's limits, so sent at once), every key on every server.
// Prints each as seconds and as a ratio to the bans.
//   incident_load --addr A --gs-token T --gm-token T [--players N] [--servers S]
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/incidents.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string addr, gs_token, gm_token, realm = "eu1";
  int players = 10000;
  int servers = 10;
};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 120) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// What one watched server has received since the run began.
struct Watched {
  std::string id;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::thread reader;
  uint64_t sanctions = 0, replies = 0, grant_entries = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"mass-complaint day: incident link, reply and grant vs single bans"};
  app.add_option("--addr", o.addr)->required();
  app.add_option("--gs-token", o.gs_token)->required();
  app.add_option("--gm-token", o.gm_token, "an admin's token")->required();
  app.add_option("--players", o.players);
  app.add_option("--servers", o.servers);
  app.add_option("--realm", o.realm);
  CLI11_PARSE(app, argc, argv);

  auto channel = grpc::CreateChannel(o.addr, grpc::InsecureChannelCredentials());
  auto tickets = v1::TicketService::NewStub(channel);
  auto incidents = v1::IncidentService::NewStub(channel);
  auto grants = v1::CompensationService::NewStub(channel);
  auto mod = v1::ModerationService::NewStub(channel);
  grpc::ChannelArguments args;
  args.SetInt("steward.bench.gs", 1);
  auto gs = v1::GameServerService::NewStub(grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args));
  const std::string run = std::to_string(Clock::now().time_since_epoch().count());

  // The servers, watching from the newest directive on.
  std::vector<Watched> watched(o.servers);
  v1::HeartbeatResponse latest;
  std::mutex mu;
  std::condition_variable cv;
  for (int s = 0; s < o.servers; ++s) {
    watched[s].id = o.realm + "-inc-" + run.substr(run.size() - 6) + "-" + std::to_string(s);
    v1::RegisterServerRequest reg;
    reg.set_server_id(watched[s].id);
    v1::RegisterServerResponse rr;
    if (grpc::Status st = gs->RegisterServer(Ctx(o.gs_token).get(), reg, &rr); !st.ok()) {
      std::fprintf(stderr, "register: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  {
    v1::HeartbeatRequest hb;
    hb.set_server_id(watched[0].id);
    gs->Heartbeat(Ctx(o.gs_token).get(), hb, &latest);
  }
  for (auto& w : watched) {
    w.ctx = Ctx(o.gs_token, 3600);
    w.reader = std::thread([&, wp = &w] {
      v1::WatchDirectivesRequest req;
      req.set_server_id(wp->id);
      req.set_after_seq(latest.latest_seq());
      auto reader = gs->WatchDirectives(wp->ctx.get(), req);
      v1::DirectiveBatch b;
      while (reader->Read(&b)) {
        std::lock_guard<std::mutex> l(mu);
        for (const auto& d : b.directives()) {
          if (d.has_sanction()) ++wp->sanctions;
          if (d.has_ticket_reply()) ++wp->replies;
          if (d.has_compensation()) wp->grant_entries += d.compensation().entries_size();
        }
        cv.notify_all();
      }
      reader->Finish();
    });
  }
  // Waits until `done` holds for every server; returns when the last got it.
  auto wait_all = [&](auto done) {
    std::unique_lock<std::mutex> l(mu);
    bool ok = cv.wait_for(l, std::chrono::seconds(600), [&] {
      for (const auto& w : watched) {
        if (!done(w)) return false;
      }
      return true;
    });
    return ok;
  };

  // The complaints (not timed).
  std::vector<uint64_t> per_server(o.servers, 0);
  for (int at = 0; at < o.players; at += 100) {
    v1::SubmitTicketsRequest req;
    for (int i = at; i < std::min(o.players, at + 100); ++i) {
      auto* pt = req.add_tickets();
      pt->set_player_id("inc-" + run + "-" + std::to_string(i));
      auto* t = pt->mutable_ticket();
      t->set_idempotency_key("inc-" + run + "-" + std::to_string(i));
      t->set_category(v1::TICKET_CATEGORY_COMPLAINT);
      t->set_subject("Disconnected during the raid " + run);
      t->mutable_context()->set_realm_id(o.realm);
      t->mutable_context()->set_server_id(watched[i % o.servers].id);
      ++per_server[i % o.servers];
    }
    v1::SubmitTicketsResponse resp;
    grpc::Status st = tickets->SubmitTickets(Ctx(o.gs_token).get(), req, &resp);
    for (const auto& r : resp.results()) {
      if (r.code() != 0) st = grpc::Status(grpc::StatusCode::INTERNAL, r.message());
    }
    if (!st.ok()) {
      std::fprintf(stderr, "submit: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  std::printf("incident_load: %d players on %d servers (every server watching its directives)\n", o.players, o.servers);

  // Yardstick: as many single bans, 32 in flight.
  auto t0 = Clock::now();
  {
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> ts;
    for (int c = 0; c < 32; ++c) {
      ts.emplace_back([&] {
        for (int i = next++; i < o.players; i = next++) {
          v1::IssueSanctionRequest req;
          req.set_idempotency_key("inc-ban-" + run + "-" + std::to_string(i));
          auto* s = req.mutable_spec();
          s->set_type(v1::SANCTION_TYPE_TEMP_BAN);
          s->set_subject_id("inc-" + run + "-" + std::to_string(i));
          s->set_duration_ms(3600 * 1000);
          s->mutable_scope()->set_realm_id(o.realm);
          s->set_reason("Exploiting the raid disconnect");
          s->set_policy_code("exploit");
          v1::IssueSanctionResponse resp;
          if (!mod->IssueSanction(Ctx(o.gm_token).get(), req, &resp).ok()) ++failed;
        }
      });
    }
    for (auto& t : ts) t.join();
    if (failed > 0) {
      std::fprintf(stderr, "%d bans failed\n", failed.load());
      return 1;
    }
  }
  const uint64_t n = static_cast<uint64_t>(o.players);
  if (!wait_all([&](const Watched& w) { return w.sanctions >= n; })) return 1;
  const double bans = Seconds(t0, Clock::now());
  std::printf("  bans   %d single bans until every server has all %d: %.2f s (yardstick)\n", o.players, o.players, bans);

  t0 = Clock::now();
  v1::OpenIncidentRequest open;
  open.set_idempotency_key("inc-" + run);
  open.set_title("Raid disconnects " + run);
  open.set_cause(v1::INCIDENT_CAUSE_OTHER);
  open.mutable_filter()->set_realm_id(o.realm);
  open.mutable_filter()->add_words(run);
  open.set_link_existing(true);
  v1::IncidentResponse inc;
  if (grpc::Status st = incidents->OpenIncident(Ctx(o.gm_token).get(), open, &inc); !st.ok()) {
    std::fprintf(stderr, "open: %s\n", st.error_message().c_str());
    return 1;
  }
  const double link = Seconds(t0, Clock::now());
  std::printf("  link   one OpenIncident linking %u tickets: %.2f s (%.2fx the bans)\n", inc.incident().linked(), link,
              link / bans);
  if (inc.incident().linked() != n) return 1;

  t0 = Clock::now();
  v1::ReplyToIncidentRequest reply;
  reply.set_incident_id(inc.incident().id());
  reply.set_body("We found the cause of the raid disconnects; a fix is rolling out now.");
  if (grpc::Status st = incidents->ReplyToIncident(Ctx(o.gm_token).get(), reply, &inc); !st.ok()) {
    std::fprintf(stderr, "reply: %s\n", st.error_message().c_str());
    return 1;
  }
  const double answered = Seconds(t0, Clock::now());
  if (!wait_all([&](const Watched& w) {
        return w.replies >= per_server[&w - watched.data()];
      })) {
    return 1;
  }
  const double replied = Seconds(t0, Clock::now());
  std::printf("  reply  one reply to %d tickets until every server has its players' (acknowledged after %.2f s): "
              "%.2f s (%.2fx the bans)\n", o.players, answered, replied, replied / bans);

  t0 = Clock::now();
  v1::ProposeGrantRequest pg;
  pg.set_idempotency_key("inc-grant-" + run);
  pg.mutable_spec()->set_item("raid-token");
  pg.mutable_spec()->set_payload(R"({"tokens":1})");
  pg.mutable_spec()->set_value_per_player(1);
  pg.mutable_spec()->set_reason("raid disconnects");
  pg.mutable_spec()->set_incident_id(inc.incident().id());
  v1::GrantResponse gr;
  if (grpc::Status st = grants->ProposeGrant(Ctx(o.gm_token).get(), pg, &gr); !st.ok() ||
      gr.grant().state() != v1::GRANT_STATE_APPROVED) {
    std::fprintf(stderr, "grant: %s %s\n", st.error_message().c_str(), gr.grant().why_approval().c_str());
    return 1;
  }
  if (!wait_all([&](const Watched& w) { return w.grant_entries >= n; })) return 1;
  const double granted = Seconds(t0, Clock::now());
  std::printf("  grant  one grant to %d players until every server has every key: %.2f s (%.2fx the bans)\n",
              o.players, granted, granted / bans);

  for (auto& w : watched) w.ctx->TryCancel();
  for (auto& w : watched) w.reader.join();
  return 0;
}
