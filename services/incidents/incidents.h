// Incidents: one cause, many tickets (support rule 4's mass complaints).
//
// An incident links tickets: by hand (LinkTickets), or on their own when a
// new ticket matches an open incident's filter (a TicketHooks callback in
// the ticket's own transaction). A spike detector counts new tickets per
// realm and category; past the configured count within the window it opens
// a *suggested* incident linking the spike's tickets and tells the desk
// (the shift brief lists it; `on_suggested` raises an alert). Replies and
// resolution act on every linked ticket in one transaction, through the
// tickets domain's own checks, audit and directives. A player who writes
// again on a linked ticket detaches it (OnTicketDetached).
//
// Thread-safety: all methods are safe to call from any thread. The hooks
// run on the store's commit thread.
#ifndef STEWARD_SERVICES_INCIDENTS_INCIDENTS_H_
#define STEWARD_SERVICES_INCIDENTS_INCIDENTS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/gameservers/directives.h"
#include "services/tickets/tickets.h"
#include "steward/v1/incidents.pb.h"
#include "storage/store.h"

namespace steward {

struct IncidentsOptions {
  // The spike detector: this many new tickets of one realm and category
  // within `spike_window_ms`, none linked to an incident, and at least
  // three times as many as in the window before, suggest one.
  // 0 turns the detector off.
  int spike_count = 50;
  int64_t spike_window_ms = 10 * 60 * 1000;
  const Clock* clock = Clock::Wall();
};

class Incidents : public TicketHooks {
 public:
  Incidents(storage::Store* store, Tickets* tickets, DirectiveHub* hub, IncidentsOptions options = {});
  Incidents(const Incidents&) = delete;
  Incidents& operator=(const Incidents&) = delete;

  // Loads the open and suggested incidents (their filters link new
  // tickets). Call once before serving.
  absl::Status Init();
  // Called after a suggested incident is stored (commit thread; must not
  // block): the server raises a desk alert.
  void set_on_suggested(std::function<void(const v1::Incident&)> f) { on_suggested_ = std::move(f); }

  void Open(const Caller& c, const v1::OpenIncidentRequest& req, v1::IncidentResponse* resp,
            storage::DoneFn done);
  void Confirm(const Caller& c, const v1::ConfirmIncidentRequest& req, v1::IncidentResponse* resp,
               storage::DoneFn done);
  void Dismiss(const Caller& c, const v1::DismissIncidentRequest& req, v1::IncidentResponse* resp,
               storage::DoneFn done);
  void Link(const Caller& c, const v1::LinkTicketsRequest& req, v1::IncidentResponse* resp,
            storage::DoneFn done);
  void Reply(const Caller& c, const v1::ReplyToIncidentRequest& req, v1::IncidentResponse* resp,
             storage::DoneFn done);
  void Resolve(const Caller& c, const v1::ResolveIncidentRequest& req, v1::IncidentResponse* resp,
               storage::DoneFn done);
  absl::Status Get(const Caller& c, const v1::GetIncidentRequest& req, v1::IncidentResponse* resp) const;
  absl::Status List(const Caller& c, const v1::ListIncidentsRequest& req,
                    v1::ListIncidentsResponse* resp) const;
  absl::Status ListTickets(const Caller& c, const v1::ListIncidentTicketsRequest& req,
                           v1::ListIncidentTicketsResponse* resp) const;

  // For other domains (already authorised): the players of the tickets
  // linked to an incident now, as (realm, player), each once.
  absl::Status LinkedPlayers(storage::Txn& txn, uint64_t incident_id,
                             std::vector<std::pair<std::string, std::string>>* out) const;
  // Suggested, then open incidents, newest first (the shift brief).
  std::vector<v1::Incident> Active() const;
  // Incidents created in [from, to), and resolved in it (desk reports).
  absl::Status ScanCreated(int64_t from_ms, int64_t to_ms,
                           const std::function<void(const v1::Incident&)>& fn) const;
  absl::Status ScanResolved(int64_t from_ms, int64_t to_ms,
                            const std::function<void(const v1::Incident&)>& fn) const;

  // TicketHooks.
  absl::Status OnTicketSubmitted(storage::Txn& txn, v1::Ticket* ticket) const override;
  absl::Status OnTicketDetached(storage::Txn& txn, const v1::Ticket& ticket, int64_t now_ms) const override;

 private:
  struct Spike {
    // (created, ticket) of the last two windows, oldest first.
    std::deque<std::pair<int64_t, uint64_t>> recent;
  };
  int64_t Now() const { return options_.clock->NowMs(); }
  // Links `t` (loaded, not yet written) to `inc` inside txn: the ticket's
  // field, the escalation an outage complaint gets, the link entry and the
  // incident's count. The caller writes both records.
  void Attach(storage::Txn& txn, const v1::Incident& inc, v1::Ticket* t, int64_t now) const;
  // Commits fn(txn, incident) on a loaded incident and keeps the in-memory
  // list of active incidents in step once durable.
  void Change(const Caller& c, uint64_t id, v1::IncidentResponse* resp, storage::DoneFn done,
              std::function<absl::Status(storage::Txn&, v1::Incident*, uint64_t* reply_seq)> fn);
  void Remember(const v1::Incident& inc) const;
  // The linked tickets of an incident, as (ticket id, detached), from
  // committed data: inside a change, a ticket linked in the same commit
  // group counts as linked just after it.
  absl::Status Links(uint64_t id, std::vector<std::pair<uint64_t, bool>>* out) const;

  storage::Store* store_;
  Tickets* tickets_;
  DirectiveHub* hub_;
  IncidentsOptions options_;
  std::function<void(const v1::Incident&)> on_suggested_;
  mutable absl::Mutex mu_;
  mutable std::map<uint64_t, v1::Incident> active_ ABSL_GUARDED_BY(mu_);
  mutable std::map<std::pair<std::string, int>, Spike> spikes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steward

#endif  // STEWARD_SERVICES_INCIDENTS_INCIDENTS_H_
