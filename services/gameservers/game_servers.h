// GameServers: registration, heartbeats and directive acknowledgements of
// the game servers that enforce Steward's decisions.
//
// A registration belongs to the game-server principal that made it: only
// that principal may heartbeat, watch or acknowledge for the server id.
// Heartbeats are kept in memory (they change every few seconds and say
// only whether a server is alive now); registrations and acknowledged
// sequences are stored.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_GAMESERVERS_GAME_SERVERS_H_
#define STEWARD_SERVICES_GAMESERVERS_GAME_SERVERS_H_

#include <functional>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/gameservers/directives.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/store.h"

namespace steward {

class MetricsText;

// A server is shown online when its last heartbeat is this recent.
inline constexpr int64_t kOnlineWindowMs = 30'000;

class GameServers {
 public:
  GameServers(storage::Store* store, DirectiveHub* hub, const Clock* clock = Clock::Wall())
      : store_(store), hub_(hub), clock_(clock) {}
  GameServers(const GameServers&) = delete;
  GameServers& operator=(const GameServers&) = delete;

  void Register(const Caller& c, const v1::RegisterServerRequest& req,
                v1::RegisterServerResponse* resp, storage::DoneFn done);
  void Ack(const Caller& c, const v1::AckDirectivesRequest& req, v1::AckDirectivesResponse* resp,
           storage::DoneFn done);
  absl::Status Heartbeat(const Caller& c, const v1::HeartbeatRequest& req,
                         v1::HeartbeatResponse* resp);
  absl::Status List(const Caller& c, const v1::ListServersRequest& req,
                    v1::ListServersResponse* resp) const;

  // Every registered server (of `realm`, or all when empty) with its
  // liveness, without a role check: for callers already authorised.
  absl::Status ListAll(absl::string_view realm, v1::ListServersResponse* resp) const;

  // Registered and online servers and players online per realm, each
  // server's last heartbeat and acknowledged directive, and the directive
  // log's extent and open streams, for /metrics.
  absl::Status AppendMetrics(MetricsText* out) const;

  // The highest directive sequence acknowledged by server (realm, server),
  // or by any server of the realm when `server` is empty; 0 when none.
  uint64_t AckedSeq(absl::string_view realm, absl::string_view server) const;

  // The stored registration of server_id when `c` owns it: NotFound when
  // unregistered, PermissionDenied when another principal registered it.
  absl::StatusOr<v1::GameServerInfo> Owned(const Caller& c, absl::string_view server_id) const;

  // Called on every heartbeat (the event pipeline sees it). Set before
  // serving; must not block.
  void set_heartbeat_hook(
      std::function<void(absl::string_view realm, absl::string_view server, int64_t players)> hook) {
    heartbeat_hook_ = std::move(hook);
  }

 private:
  std::function<void(absl::string_view, absl::string_view, int64_t)> heartbeat_hook_;
  struct Live {
    int64_t last_heartbeat_ms = 0;
    uint32_t players_online = 0;
  };
  void Touch(const std::string& server_id, uint32_t players, bool set_players);

  storage::Store* store_;
  DirectiveHub* hub_;
  const Clock* clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Live> live_ ABSL_GUARDED_BY(mu_);
};

// Every registered game server, read straight from the store (for a
// domain starting up before any GameServers object exists). `fn` returns
// false to stop; DataLoss for an unreadable registration.
absl::Status ScanRegisteredGameServers(const storage::Store& store,
                                       const std::function<bool(const v1::GameServerInfo&)>& fn);

}  // namespace steward

#endif  // STEWARD_SERVICES_GAMESERVERS_GAME_SERVERS_H_
