// VipCare: tiers computed from spend, VIP profiles whose contact details
// only the care GM and supervisors may read (each read audited), care
// tasks with attempts, and churn risk explained by its factors. Free of
// gRPC.
//
// Tiers: the highest tier whose lifetime or rolling-30-day threshold the
// player's spend reaches. Upgrades apply at once (with a welcome task);
// downgrades wait VipOptions::downgrade_grace_ms and apply only if spend
// has not recovered by then (Sweep applies them for players who stop
// buying). A tier set by hand holds until computed spend beats it.
//
// Care tasks: welcome on reaching a tier, callback after a VIP's ticket is
// resolved (due after the tier's callback window), outreach when churn
// risk crosses the threshold (one open at a time), birthday and anniversary
// greetings on the day (once a year, from the hourly sweep), manual. A task closes
// as done on a reached attempt, or unreachable after max_attempts failed
// ones.
#ifndef STEWARD_SERVICES_VIP_VIP_H_
#define STEWARD_SERVICES_VIP_VIP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/common/event_batch.h"
#include "services/common/periodic.h"
#include "services/common/round_failures.h"
#include "services/moderation/moderation.h"
#include "services/tickets/tickets.h"
#include "steward/v1/events.pb.h"
#include "steward/v1/ticket.pb.h"
#include "steward/v1/vip.pb.h"
#include "storage/store.h"

namespace steward {

struct VipTierConfig {
  std::string name;
  int64_t lifetime_cents = 0;     // reached when lifetime spend >= this
  int64_t rolling_30d_cents = 0;  // or 30-day spend >= this
  int64_t callback_hours = 72;    // callback due this long after resolution
  v1::Priority ticket_priority = v1::PRIORITY_HIGH;  // at least this for tickets
  // Tighter ticket time limits for the tier (0: the desk's own).
  int64_t dispatch_ms = 0;
  int64_t answer_ms = 0;
};

struct VipOptions {
  // Lowest first. Default: silver (100.00 lifetime or 50.00 in 30 days),
  // gold (1,000 / 300), platinum (5,000 / 1,000).
  std::vector<VipTierConfig> tiers = {
      {"silver", 100'00, 50'00, 72, v1::PRIORITY_NORMAL},
      {"gold", 1'000'00, 300'00, 48, v1::PRIORITY_HIGH, 0, 48LL * 3600 * 1000},
      {"platinum", 5'000'00, 1'000'00, 24, v1::PRIORITY_URGENT, 30LL * 60 * 1000, 24LL * 3600 * 1000},
  };
  // Default: 14 days.
  int64_t downgrade_grace_ms = int64_t{14} * 24 * 3600 * 1000;
  // Churn risk at or above this opens an outreach task. Default: 0.6.
  double churn_threshold = 0.6;
  // Default: 3 (at most 5).
  uint32_t default_max_attempts = 3;
  // Where time comes from. Default: the wall clock; tests pass a FakeClock.
  const Clock* clock = Clock::Wall();
};

class VipCare final : public TicketHooks {
 public:
  VipCare(storage::Store* store, const GmDirectory* auth, VipOptions options = {});
  VipCare(const VipCare&) = delete;
  VipCare& operator=(const VipCare&) = delete;
  ~VipCare();

  // Runs Sweep right away and then every `every`, on a thread of its own,
  // until destruction.
  void StartSweeper(absl::Duration every);

  const VipOptions& options() const { return options_; }
  // The domains churn risk reads (optional; each must outlive this).
  // Unset, their factors count nothing.
  void set_sources(const Tickets* tickets, const Moderation* moderation) {
    tickets_ = tickets;
    moderation_ = moderation;
  }
  // Each tier's tighter ticket limits, for Tickets::set_vip.
  std::map<std::string, SlaLimits> TierLimits() const;
  // What the event pipeline tells VIP care (see Monitoring::ForwardVipEvents),
  // for events already validated and accepted; failures are logged.
  // - "purchase": recorded like RecordPurchase, keyed by its order_id.
  // - "login" of a player who holds a tier: recorded like RecordLogin
  //   (attribute last_session_minutes, when the game knows it).
  // - "logout" of a player who holds a tier: value is the session's length
  //   in minutes, which feeds the session trend.
  // Logins and logouts of other players cost one in-memory lookup.
  void RecordEvent(const Caller& c, const EventView& e);
  // Whether the player holds a tier (from memory; kept in step with every
  // profile write and loaded at construction).
  bool HoldsTier(absl::string_view realm, absl::string_view player) const;
  void RecordPurchase(const Caller& c, const v1::RecordPurchaseRequest& req,
                      v1::VipProfileResponse* resp, storage::DoneFn done);
  void RecordLogin(const Caller& c, const v1::RecordLoginRequest& req,
                   v1::VipProfileResponse* resp, storage::DoneFn done);
  void SetContact(const Caller& c, const v1::SetContactRequest& req, v1::VipProfileResponse* resp,
                  storage::DoneFn done);
  void SetTier(const Caller& c, const v1::SetTierRequest& req, v1::VipProfileResponse* resp,
               storage::DoneFn done);
  // A write: reading contact details leaves an audit record.
  void GetProfile(const Caller& c, const v1::GetVipProfileRequest& req,
                  v1::VipProfileResponse* resp, storage::DoneFn done);
  void AssignCareGm(const Caller& c, const v1::AssignCareGmRequest& req,
                    v1::VipProfileResponse* resp, storage::DoneFn done);
  void CreateTask(const Caller& c, const v1::CreateCareTaskRequest& req,
                  v1::CareTaskResponse* resp, storage::DoneFn done);
  void RecordAttempt(const Caller& c, const v1::RecordAttemptRequest& req,
                     v1::CareTaskResponse* resp, storage::DoneFn done);
  void SetOnShift(const Caller& c, const v1::SetOnShiftRequest& req, v1::SetOnShiftResponse* resp,
                  storage::DoneFn done);
  absl::Status ListTasks(const Caller& c, const v1::ListCareTasksRequest& req,
                         v1::ListCareTasksResponse* resp) const;
  // Care tasks created in [since, until) (of `realm`, or all), oldest first,
  // for callers already authorised. `fn` returns false to stop.
  // Callback tasks whose due time is in [since, until), whenever they were
  // made (the desk report counts callbacks due in its period).
  absl::Status ScanCallbacksDue(absl::string_view realm, int64_t since, int64_t until,
                                const std::function<bool(const v1::CareTask&)>& fn) const;
  absl::Status ScanTasks(absl::string_view realm, int64_t since, int64_t until,
                         const std::function<bool(const v1::CareTask&)>& fn) const;
  absl::Status Report(const Caller& c, const v1::VipReportRequest& req,
                      v1::VipReportResponse* resp) const;

  // Inside a ticket transaction: a VIP's ticket gets at least its tier's
  // priority (the reason goes to the ticket's extras), and goes to the
  // player's care GM when that GM is on shift.
  absl::Status OnTicketSubmitted(storage::Txn& txn, v1::Ticket* ticket) const override;
  // Inside a ticket transaction: a resolved complaint, and any resolved
  // ticket of a VIP, gets a callback task.
  absl::Status OnTicketResolved(storage::Txn& txn, const v1::Ticket& ticket, int64_t now_ms) const override;

  // Applies due downgrades and recomputes churn risk for every profile,
  // opening outreach tasks where it crossed the threshold. Returns how many
  // profiles changed. Blocks until committed.
  absl::StatusOr<int> Sweep();

  // Churn risk of a profile now (0 to 1): days since login against the
  // player's usual gap (up to 0.4), 30-day spend against their monthly
  // average (0.25), recent session length against their usual (0.1),
  // tickets rated 1-2 in 30 days (0.1), sanctions in 30 days (0.1) and open
  // tickets (0.05).
  v1::ChurnRisk ComputeChurn(const v1::VipProfile& p, int64_t now_ms) const;

 private:
  int64_t Now() const { return options_.clock->NowMs(); }
  void RecordPurchaseEvent(const Caller& c, const EventView& e);
  // A login (counts one, moves the login rhythm) and/or the length of a
  // session (0: unknown). With `tier_holders_only`, players without a
  // tier are left alone (no profile is made for them).
  void RecordActivity(const Caller& c, absl::string_view player_id, int64_t at_ms, bool login,
                      double session_minutes, bool tier_holders_only, v1::VipProfileResponse* resp,
                      storage::DoneFn done);
  // Writes the profile and keeps the in-memory tier holders in step.
  void PutProfile(storage::Txn& txn, v1::VipProfile& p) const;

  storage::Store* store_;
  const GmDirectory* auth_;
  const Tickets* tickets_ = nullptr;
  const Moderation* moderation_ = nullptr;
  // GetVipProfile's recent tickets and sanctions summary (from the sources).
  void AddSummaries(const v1::VipProfile& p, int64_t now, v1::VipProfileResponse* resp) const;
  VipOptions options_;
  // realm -> players holding a tier. May briefly hold a player whose tier
  // write then failed: RecordActivity checks the stored profile again.
  mutable absl::Mutex holders_mu_;
  mutable absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> holders_
      ABSL_GUARDED_BY(holders_mu_);
  PeriodicTask sweeper_;
  RoundFailures sweep_failures_{"VIP sweep"};
  mutable RoundFailures churn_scan_failures_{"ticket reads for churn risk"};
};

}  // namespace steward

#endif  // STEWARD_SERVICES_VIP_VIP_H_
