// Tickets: the player-ticket domain, free of gRPC.
//
// Reads run on the calling thread against committed data. Mutations are
// validated on the calling thread, then run as one store transaction (the
// record, its secondary indexes, its idempotency entry and its audit record
// together) and report through `done` once durable. `req` and `resp` must
// stay alive until `done` runs; `done` runs on the commit thread and must
// not block.
#ifndef STEWARD_SERVICES_TICKETS_TICKETS_H_
#define STEWARD_SERVICES_TICKETS_TICKETS_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/gameservers/directives.h"
#include "services/common/periodic.h"
#include "services/common/round_failures.h"
#include "services/tickets/sla.h"
#include "steward/v1/ticket.pb.h"
#include "storage/store.h"

namespace steward {

// What another domain adds inside a ticket's own transaction (VIP care:
// priority and routing on submit, a callback task on resolve). Lets that
// domain act on tickets without the tickets domain knowing it.
class TicketHooks {
 public:
  virtual ~TicketHooks() = default;
  virtual absl::Status OnTicketSubmitted(storage::Txn& txn, v1::Ticket* ticket) const {
    return absl::OkStatus();
  }
  virtual absl::Status OnTicketResolved(storage::Txn& txn, const v1::Ticket& ticket,
                                        int64_t now_ms) const {
    return absl::OkStatus();
  }
  // The player wrote again on a ticket linked to an incident: it has left
  // the incident (ticket.detached_from_incident names it).
  virtual absl::Status OnTicketDetached(storage::Txn& txn, const v1::Ticket& ticket,
                                        int64_t now_ms) const {
    return absl::OkStatus();
  }
};

// A sensitive topic (support rule 13): a ticket of one of `categories`, or
// whose subject or description holds one of `words` (ASCII letters
// case-insensitive, whole words; other scripts as substrings), or whose
// game context names the topic (context.extra["topic"]) is sensitive.
struct SensitiveTopic {
  std::string name;
  std::vector<v1::TicketCategory> categories;
  std::vector<std::string> words;
};

// The topics Steward ships with: payment and account questions,
// compensation and discounts, policy; words in English, Chinese, Russian,
// German, French and Spanish.
std::vector<SensitiveTopic> DefaultSensitiveTopics();

// Whether `text` (already lower-cased) holds `word`. A word in ASCII
// letters must stand alone ("refund" matches "a refund?", not
// "refundable"); words in other scripts match as substrings, since
// Chinese has no spaces and Russian stems take many endings.
bool TextHoldsWord(absl::string_view text, absl::string_view word);

// Fills t->sensitive_reasons from `topics` (one line per matched topic).
void MarkSensitive(const std::vector<SensitiveTopic>& topics, v1::Ticket* t);

// Raises a ticket to escalation `level` (1 lead, 2 supervisor, 3 manager),
// recording levels passed over as skipped. No-op when already there.
void EscalateTicketTo(v1::Ticket* t, int level, int64_t now_ms, absl::string_view by,
                      absl::string_view reason);

// Whether the state machine allows `from` -> `to` (see ticket.proto).
bool TicketTransitionAllowed(v1::TicketStatus from, v1::TicketStatus to);

// Moves one submission's outcome into its per-ticket result.
void SetSubmitResult(const absl::Status& s, v1::SubmitTicketResponse* out,
                     v1::SubmitTicketResult* r);

struct TicketsOptions {
  // Time limits (see SlaState in ticket.proto and services/sla.h).
  SlaPolicy sla;
  // How long after resolution a player may rate a ticket. Default: 28 days.
  int64_t csat_window_ms = int64_t{28} * 24 * 3600 * 1000;
  // Where time comes from. Default: the wall clock; tests pass a FakeClock.
  const Clock* clock = Clock::Wall();
  // Support rule 13's topics ([[sensitive]] in the config).
  std::vector<SensitiveTopic> sensitive = DefaultSensitiveTopics();
};

// Raises `t` to at least `p` and records why on the ticket ("<why>: high");
// a ticket already at or above `p` is left as it is.
void RaiseTicketPriority(v1::Ticket* t, v1::Priority p, absl::string_view why);

// Clears what `c` may not see of a ticket (contact details: only the
// player, the owner and leads and above).
void RedactTicketFor(const Caller& c, v1::Ticket* t);

class Tickets {
 public:
  // `hub` carries GM public replies to the player's game server.
  Tickets(storage::Store* store, const GmDirectory* auth, DirectiveHub* hub,
             TicketsOptions options = {})
      : store_(store), auth_(auth), hub_(hub), options_(std::move(options)) {
  }
  Tickets(const Tickets&) = delete;
  Tickets& operator=(const Tickets&) = delete;
  ~Tickets();

  // Checks stored deadlines every `every` on a thread of its own (see
  // RunSlaOnce) until destruction. Deadlines live in the ticket index, so
  // a restart loses none.
  void StartSlaScheduler(absl::Duration every);
  // Marks every deadline passed by now as breached and escalates its
  // ticket one level, each in its own transaction. Returns the number of
  // breaches. Blocks until committed.
  absl::StatusOr<int> RunSlaOnce();
  // Time limits breached since this process started (for /metrics).
  uint64_t sla_breaches() const { return sla_breaches_.load(std::memory_order_relaxed); }

  // VIP care (optional; must outlive the desk): `hooks` bump VIP tickets'
  // priority, route them to care GMs and schedule callbacks when they are
  // resolved; `tier_limits` (tier name -> limits) join the SLA policy.
  void set_vip(const TicketHooks* hooks, const std::map<std::string, SlaLimits>& tier_limits);
  // Another domain's hooks (incidents); called after earlier ones. Set
  // before serving.
  void add_hooks(const TicketHooks* hooks) { hooks_.push_back(hooks); }

  void Submit(const Caller& caller, const v1::SubmitTicketRequest& req,
              v1::SubmitTicketResponse* resp, storage::DoneFn done);
  // Fans a batch out into one transaction per ticket; done(OK) once every
  // ticket has its own result in resp.
  void SubmitBatch(const Caller& caller, const v1::SubmitTicketsRequest& req,
                   v1::SubmitTicketsResponse* resp, storage::DoneFn done);
  // One player's ticket from a game server acting for many players (the
  // batch and stream paths); `caller` is the game server.
  void SubmitForPlayer(const Caller& caller, const v1::PlayerTicket& item,
                       v1::SubmitTicketResponse* resp, storage::DoneFn done);
  void Assign(const Caller& caller, const v1::AssignTicketRequest& req,
              v1::AssignTicketResponse* resp, storage::DoneFn done);
  void AddMessage(const Caller& caller, const v1::AddMessageRequest& req,
                  v1::AddMessageResponse* resp, storage::DoneFn done);
  void PullNext(const Caller& caller, const v1::PullNextTicketRequest& req,
                v1::PullNextTicketResponse* resp, storage::DoneFn done);
  void Escalate(const Caller& caller, const v1::EscalateTicketRequest& req,
                v1::EscalateTicketResponse* resp, storage::DoneFn done);
  // Committed tickets through the tickets indexes, for briefs and reports
  // whose callers are already authorised. `fn` returns false to stop.
  using TicketFn = std::function<bool(const v1::Ticket&)>;
  absl::Status ScanCreated(int64_t from_ms, int64_t to_ms, const TicketFn& fn) const;
  absl::Status ScanResolved(int64_t from_ms, int64_t to_ms, const TicketFn& fn) const;
  absl::Status ScanOpen(const TicketFn& fn) const;                 // oldest first
  absl::Status ScanOpenEscalated(const TicketFn& fn) const;        // highest level, then oldest
  absl::Status ScanOpenBreached(const TicketFn& fn) const;         // oldest first
  // One player's tickets in a realm, oldest first (or newest first).
  absl::Status ScanPlayer(absl::string_view realm, absl::string_view player, const TicketFn& fn,
                          bool newest_first = false) const;

  void MarkRead(const Caller& caller, const v1::MarkTicketReadRequest& req,
                v1::MarkTicketReadResponse* resp, storage::DoneFn done);

  // The highest directive sequence confirmed by game server (realm, server),
  // or by any server of the realm when `server` is empty: tells whether a
  // reply has reached the game. Set before serving; unset, replies show
  // as queued until read.
  void set_acked_seq_lookup(std::function<uint64_t(absl::string_view, absl::string_view)> f) {
    acked_seq_ = std::move(f);
  }
  // The player rates a resolved ticket (see RateTicket in ticket.proto).
  void Rate(const Caller& caller, const v1::RateTicketRequest& req, v1::RateTicketResponse* resp,
            storage::DoneFn done);
  void UpdateStatus(const Caller& caller,
                    const v1::UpdateTicketStatusRequest& req,
                    v1::UpdateTicketStatusResponse* resp,
                    storage::DoneFn done);

  absl::Status Get(const Caller& caller, const v1::GetTicketRequest& req,
                   v1::GetTicketResponse* resp) const;

  // Inside another domain's transaction (incidents act on many tickets in
  // one): the same checks, writes, audit and directives as AddMessage and
  // UpdateTicketStatus. A public GM reply's directive sequence goes to
  // *reply_seq (0 when none); the caller reports the highest one to the
  // hub's Published() once the transaction is durable.
  absl::Status AppendMessage(storage::Txn& txn, const Caller& caller, const v1::AddMessageRequest& req,
                             uint64_t incident_id, int64_t now, v1::AddMessageResponse* resp,
                             uint64_t* reply_seq) const;
  absl::Status ChangeStatus(storage::Txn& txn, const Caller& caller,
                            const v1::UpdateTicketStatusRequest& req, int64_t now,
                            v1::UpdateTicketStatusResponse* resp) const;
  // Reads a ticket inside a transaction (NotFound names it).
  static absl::Status Load(storage::Txn& txn, uint64_t id, v1::Ticket* t);
  // Writes a changed ticket with its indexes and an audit record.
  absl::Status Save(storage::Txn& txn, const Caller& caller, const v1::Ticket& before, v1::Ticket* after,
                    absl::string_view action, absl::string_view reason, int64_t now) const;
  // How many writes the store has acknowledged (only grows), and a wait
  // for that to pass `seen`: live views re-read when something changed.
  uint64_t Changes() const { return store_->acknowledged(); }
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const {
    return store_->WaitForChange(seen, timeout);
  }
  absl::Status List(const Caller& caller, const v1::ListTicketsRequest& req,
                    v1::ListTicketsResponse* resp) const;
  absl::Status ListForPlayer(const Caller& caller,
                             const v1::ListPlayerTicketsRequest& req,
                             v1::ListTicketsResponse* resp) const;

 private:
  // Player reports pile up: 5 about one player within 24 hours make the
  // newest high, 20 make it urgent.
  absl::Status RaiseForReportVolume(storage::Txn& txn, int64_t now, v1::Ticket* t) const;
  // Tickets whose index keys lie in [from, to) (keys end in the ticket id).
  absl::Status ScanIndex(const std::string& from, const std::string& to, const TicketFn& fn,
                         bool reverse = false) const;
  // List for an already authorised caller.
  absl::Status ListChecked(const Caller& caller, const v1::ListTicketsRequest& req,
                           v1::ListTicketsResponse* resp) const;

  int64_t Now() const { return options_.clock->NowMs(); }

  storage::Store* store_;
  const GmDirectory* auth_;
  DirectiveHub* hub_;
  std::vector<const TicketHooks*> hooks_;
  TicketsOptions options_;
  PeriodicTask sla_scheduler_;
  RoundFailures sla_failures_{"time-limit round"};
  std::atomic<uint64_t> sla_breaches_{0};
  std::function<uint64_t(absl::string_view, absl::string_view)> acked_seq_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TICKETS_TICKETS_H_
