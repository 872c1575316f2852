// Announcements: immediate, scheduled and recurring broadcasts to game
// servers, delivered as directives, with per-server acknowledgement.
//
// The schedule lives in RocksDB (each announcement's next showing time);
// a scheduler thread keeps the pending ones in a time-ordered queue loaded
// at Start, so schedules survive restarts. A showing missed while the
// service was down is sent once on start (not once per missed period),
// then the schedule continues at its period. Immediate announcements are
// shown by the transaction that creates them.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_GAMESERVERS_ANNOUNCEMENTS_H_
#define STEWARD_SERVICES_GAMESERVERS_ANNOUNCEMENTS_H_

#include <cstdint>
#include <set>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/gameservers/directives.h"
#include "services/gameservers/game_servers.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/store.h"

namespace steward {

class Announcements {
 public:
  // `clock` decides when a scheduled announcement is due.
  Announcements(storage::Store* store, DirectiveHub* hub, GameServers* servers,
                const Clock* clock = Clock::Wall())
      : store_(store), hub_(hub), servers_(servers), clock_(clock) {}
  Announcements(const Announcements&) = delete;
  Announcements& operator=(const Announcements&) = delete;
  ~Announcements();

  // Loads pending showings and starts the scheduler.
  absl::Status Start();

  void Create(const Caller& c, const v1::CreateAnnouncementRequest& req,
              v1::AnnouncementResponse* resp, storage::DoneFn done);
  void Cancel(const Caller& c, const v1::CancelAnnouncementRequest& req,
              v1::AnnouncementResponse* resp, storage::DoneFn done);
  absl::Status List(const Caller& c, const v1::ListAnnouncementsRequest& req,
                    v1::ListAnnouncementsResponse* resp) const;
  absl::Status Deliveries(const Caller& c, const v1::GetDeliveriesRequest& req,
                          v1::GetDeliveriesResponse* resp) const;

 private:
  void Run();
  void Fire(uint64_t id);
  void Enqueue(int64_t at_ms, uint64_t id);

  storage::Store* store_;
  DirectiveHub* hub_;
  GameServers* servers_;
  const Clock* clock_;
  absl::Mutex mu_;
  std::set<std::pair<int64_t, uint64_t>> queue_ ABSL_GUARDED_BY(mu_);  // (due ms, id)
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int firing_ ABSL_GUARDED_BY(mu_) = 0;  // Fire commits not yet reported
  std::thread thread_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_GAMESERVERS_ANNOUNCEMENTS_H_
