#include "services/gameservers/game_servers.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/metrics_text.h"
#include "services/common/validation.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyWriter;
using storage::Txn;

std::string ServerKey(absl::string_view id) { return KeyWriter().Str(id).Release(); }

absl::Status CheckOwner(const Caller& c, const v1::GameServerInfo& info) {
  if (info.principal() != c.name()) {
    return absl::PermissionDeniedError(absl::StrCat("server ", info.server_id(),
                                                    " is registered by another principal"));
  }
  return absl::OkStatus();
}

absl::Status ParseInfo(absl::string_view v, absl::string_view id, v1::GameServerInfo* out) {
  if (!out->ParseFromArray(v.data(), v.size())) {
    return absl::DataLossError(absl::StrCat("server record ", id, " is unreadable"));
  }
  return absl::OkStatus();
}

}  // namespace

void GameServers::Touch(const std::string& server_id, uint32_t players, bool set_players) {
  absl::MutexLock lock(&mu_);
  Live& l = live_[server_id];
  l.last_heartbeat_ms = clock_->NowMs();
  if (set_players) l.players_online = players;
}

absl::Status GameServers::AppendMetrics(MetricsText* out) const {
  v1::ListServersResponse all;
  STEWARD_RETURN_IF_ERROR(ListAll("", &all));
  struct Realm {
    uint64_t registered = 0, online = 0, players = 0;
  };
  std::map<std::string, Realm> realms;
  for (const auto& s : all.servers()) {
    Realm& r = realms[s.realm_id()];
    ++r.registered;
    r.online += s.online();
    r.players += s.online() ? s.players_online() : 0;
  }
  using T = MetricsText::Type;
  out->Family("steward_game_servers", T::kGauge, "Registered game servers, by realm.");
  for (const auto& [realm, r] : realms) out->Sample(r.registered, {{"realm", realm}});
  out->Family("steward_game_servers_online", T::kGauge,
              "Game servers with a heartbeat in the last 30 s, by realm.");
  for (const auto& [realm, r] : realms) out->Sample(r.online, {{"realm", realm}});
  out->Family("steward_players_online", T::kGauge,
              "Players online as the realm's online servers last reported them.");
  for (const auto& [realm, r] : realms) out->Sample(r.players, {{"realm", realm}});
  out->Family("steward_game_server_last_heartbeat_timestamp_seconds", T::kGauge,
              "When each game server was last heard from (heartbeat or registration).");
  for (const auto& s : all.servers()) {
    out->Sample(static_cast<double>(s.last_heartbeat_ms()) / 1000.0,
                {{"realm", s.realm_id()}, {"server", s.server_id()}});
  }
  out->Family("steward_game_server_acked_directive_seq", T::kGauge,
              "The last directive each game server acknowledged; compare with steward_directive_latest_seq.");
  for (const auto& s : all.servers()) {
    out->Sample(s.acked_seq(), {{"realm", s.realm_id()}, {"server", s.server_id()}});
  }
  out->Family("steward_directive_latest_seq", T::kGauge, "Sequence of the newest stored directive.");
  out->Sample(hub_->latest_seq());
  out->Family("steward_directive_oldest_seq", T::kGauge,
              "Oldest directive sequence still readable (older ones are past retention).");
  out->Sample(hub_->oldest_seq());
  out->Family("steward_directive_streams", T::kGauge, "Game servers' directive streams open now.");
  out->Sample(static_cast<uint64_t>(hub_->watcher_count()));
  return absl::OkStatus();
}

uint64_t GameServers::AckedSeq(absl::string_view realm, absl::string_view server) const {
  if (!server.empty()) {  // one point read
    std::string v;
    v1::GameServerInfo info;
    if (!store_->Get(Cf::kGameServers, ServerKey(server), &v).ok() || !ParseInfo(v, server, &info).ok() ||
        info.realm_id() != realm) {
      return 0;
    }
    return info.acked_seq();
  }
  v1::ListServersResponse servers;
  uint64_t acked = 0;
  if (!ListAll(realm, &servers).ok()) return 0;
  for (const auto& s : servers.servers()) acked = std::max(acked, s.acked_seq());
  return acked;
}

absl::StatusOr<v1::GameServerInfo> GameServers::Owned(const Caller& c,
                                                      absl::string_view server_id) const {
  if (!c.is_game_server()) {
    return absl::PermissionDeniedError("only game servers act for a game server");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", server_id, true));
  std::string v;
  absl::Status s = store_->Get(Cf::kGameServers, ServerKey(server_id), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(
        absl::StrCat("server ", server_id, " is not registered; call RegisterServer first"));
  }
  STEWARD_RETURN_IF_ERROR(s);
  v1::GameServerInfo info;
  STEWARD_RETURN_IF_ERROR(ParseInfo(v, server_id, &info));
  STEWARD_RETURN_IF_ERROR(CheckOwner(c, info));
  return info;
}

void GameServers::Register(const Caller& c, const v1::RegisterServerRequest& req,
                           v1::RegisterServerResponse* resp, storage::DoneFn done) {
  absl::Status s = c.is_game_server()
                       ? absl::OkStatus()
                       : absl::PermissionDeniedError("RegisterServer is for game servers");
  if (s.ok()) s = CheckId("server_id", req.server_id(), true);
  if (s.ok()) s = CheckText("build", req.build(), 0, kMaxShortTextLen);
  if (s.ok()) s = CheckText("region", req.region(), 0, kMaxShortTextLen);
  if (s.ok() && !c.principal->server.empty() && c.principal->server != req.server_id()) {
    s = absl::PermissionDeniedError(
        absl::StrCat(c.name(), " may register server ", c.principal->server, " only"));
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        int64_t now = clock_->NowMs();
        v1::GameServerInfo before, after;
        std::string v;
        absl::Status got = txn.Get(Cf::kGameServers, ServerKey(req.server_id()), &v);
        if (got.ok()) {
          STEWARD_RETURN_IF_ERROR(ParseInfo(v, req.server_id(), &before));
          STEWARD_RETURN_IF_ERROR(CheckOwner(c, before));
          after = before;
        } else if (absl::IsNotFound(got)) {
          after.set_server_id(req.server_id());
          after.set_registered_at_ms(now);
          // A new server starts at the present: it has nothing to catch
          // up on from before it existed.
          after.set_acked_seq(hub_->latest_seq());
        } else {
          return got;
        }
        after.set_realm_id(c.principal->realm);
        after.set_principal(c.name());
        after.set_build(req.build());
        after.set_region(req.region());
        txn.Put(Cf::kGameServers, ServerKey(req.server_id()), after.SerializeAsString());
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "server.register",
                                     .target = absl::StrCat("server/", req.server_id()),
                                     .before = got.ok() ? &before : nullptr,
                                     .after = &after}));
        *resp->mutable_server() = std::move(after);
        return absl::OkStatus();
      },
      [this, resp, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          Touch(resp->server().server_id(), 0, false);
          resp->mutable_server()->set_online(true);
          resp->mutable_server()->set_last_heartbeat_ms(clock_->NowMs());
        }
        done(s);
      });
}

void GameServers::Ack(const Caller& c, const v1::AckDirectivesRequest& req,
                      v1::AckDirectivesResponse* resp, storage::DoneFn done) {
  auto owned = Owned(c, req.server_id());
  if (!owned.ok()) return done(owned.status());
  if (req.seq() > hub_->latest_seq()) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "seq ", req.seq(), " is beyond the newest directive (", hub_->latest_seq(), ")")));
  }
  store_->Commit(
      [&req, resp, c](Txn& txn) -> absl::Status {
        std::string v;
        STEWARD_RETURN_IF_ERROR(txn.Get(Cf::kGameServers, ServerKey(req.server_id()), &v));
        v1::GameServerInfo info;
        STEWARD_RETURN_IF_ERROR(ParseInfo(v, req.server_id(), &info));
        STEWARD_RETURN_IF_ERROR(CheckOwner(c, info));
        // Acks only move forward: a late or repeated ack changes nothing.
        if (req.seq() > info.acked_seq()) {
          info.set_acked_seq(req.seq());
          txn.Put(Cf::kGameServers, ServerKey(req.server_id()), info.SerializeAsString());
        }
        resp->set_acked_seq(info.acked_seq());
        return absl::OkStatus();
      },
      std::move(done));
}

absl::Status GameServers::Heartbeat(const Caller& c, const v1::HeartbeatRequest& req,
                                    v1::HeartbeatResponse* resp) {
  STEWARD_ASSIGN_OR_RETURN(auto info, Owned(c, req.server_id()));
  Touch(info.server_id(), req.players_online(), true);
  if (heartbeat_hook_) heartbeat_hook_(info.realm_id(), info.server_id(), req.players_online());
  resp->set_latest_seq(hub_->latest_seq());
  return absl::OkStatus();
}

absl::Status GameServers::List(const Caller& c, const v1::ListServersRequest& req,
                               v1::ListServersResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListServers"));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  return ListAll(req.realm_id(), resp);
}

absl::Status GameServers::ListAll(absl::string_view realm, v1::ListServersResponse* resp) const {
  absl::Status bad = absl::OkStatus();
  int64_t now = clock_->NowMs();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kGameServers, "", "", false,
                               [&](absl::string_view key, absl::string_view value) {
                                 v1::GameServerInfo info;
                                 bad = ParseInfo(value, key, &info);
                                 if (!bad.ok()) return false;
                                 if (!realm.empty() && info.realm_id() != realm) {
                                   return true;
                                 }
                                 *resp->add_servers() = std::move(info);
                                 return resp->servers_size() < 10000;
                               }));
  STEWARD_RETURN_IF_ERROR(bad);
  absl::MutexLock lock(&mu_);
  for (auto& s : *resp->mutable_servers()) {
    auto it = live_.find(s.server_id());
    if (it == live_.end()) continue;
    s.set_last_heartbeat_ms(it->second.last_heartbeat_ms);
    s.set_players_online(it->second.players_online);
    s.set_online(now - it->second.last_heartbeat_ms < kOnlineWindowMs);
  }
  return absl::OkStatus();
}

absl::Status ScanRegisteredGameServers(const storage::Store& store,
                                       const std::function<bool(const v1::GameServerInfo&)>& fn) {
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store.Scan(Cf::kGameServers, "", "", false, [&](absl::string_view, absl::string_view v) {
    v1::GameServerInfo info;
    if (!info.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      bad = absl::DataLossError("a game server registration is unreadable");
      return false;
    }
    return fn(info);
  }));
  return bad;
}

}  // namespace steward
