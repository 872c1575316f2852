// Compensation: grants of game items or currency to players, with limits,
// a second GM's approval above them, and delivery to the game exactly once
// per player.
//
// A grant lists its recipients (one row per player, each with its grant
// key "g<grant>-<n>"). Once approved, the recipients go to their realm's
// game servers as CompensationGrant directives of up to 500 players,
// written in the approving transaction; a server that reconnects reads
// them again from the directive log, so the game must apply a grant key
// at most once (it is unique) and confirm it with AckGrants, which is
// idempotent. A player gets one grant per incident unless the proposer
// forces another with a reason.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_INCIDENTS_COMPENSATION_H_
#define STEWARD_SERVICES_INCIDENTS_COMPENSATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/gameservers/directives.h"
#include "services/incidents/incidents.h"
#include "steward/v1/incidents.pb.h"
#include "storage/store.h"

namespace steward {

// What a role may grant without a second GM: per player and per grant,
// in the configured unit.
struct GrantLimit {
  int64_t per_player = 0;
  int64_t total = 0;
};

struct CompensationOptions {
  std::string unit = "credits";
  // By role; a role without an entry may grant nothing alone.
  std::map<Role, GrantLimit> limits{{Role::kAgent, {0, 0}},
                                    {Role::kLead, {1'000, 100'000}},
                                    {Role::kSupervisor, {10'000, 1'000'000}},
                                    {Role::kAdmin, {10'000, 1'000'000}}};
  const Clock* clock = Clock::Wall();
};

class Compensation {
 public:
  Compensation(storage::Store* store, DirectiveHub* hub, const Incidents* incidents,
               CompensationOptions options = {});
  Compensation(const Compensation&) = delete;
  Compensation& operator=(const Compensation&) = delete;

  // The highest directive sequence any server of `realm` confirmed (set
  // before serving; unset, nothing shows as delivered).
  void set_acked_seq_lookup(std::function<uint64_t(absl::string_view realm)> f) { acked_seq_ = std::move(f); }

  void Propose(const Caller& c, const v1::ProposeGrantRequest& req, v1::GrantResponse* resp,
               storage::DoneFn done);
  void Decide(const Caller& c, const v1::DecideGrantRequest& req, v1::GrantResponse* resp,
              storage::DoneFn done);
  void Ack(const Caller& c, const v1::AckGrantsRequest& req, v1::AckGrantsResponse* resp,
           storage::DoneFn done);
  absl::Status Get(const Caller& c, const v1::GetGrantRequest& req, v1::GrantResponse* resp) const;
  absl::Status List(const Caller& c, const v1::ListGrantsRequest& req, v1::ListGrantsResponse* resp) const;
  absl::Status Recipients(const Caller& c, const v1::ListGrantRecipientsRequest& req,
                          v1::ListGrantRecipientsResponse* resp) const;
  absl::Status Report(const Caller& c, const v1::GrantReportRequest& req, v1::GrantReportResponse* resp) const;

 private:
  int64_t Now() const { return options_.clock->NowMs(); }
  // Writes the directives of an approved grant and marks its recipients
  // (numbered as in their keys) queued; returns the highest sequence.
  using Numbered = std::pair<uint32_t, v1::GrantRecipient>;
  absl::StatusOr<uint64_t> Send(storage::Txn& txn, v1::Grant* g, std::vector<Numbered> recipients,
                                int64_t now) const;
  // Fills delivered from the recipients' directives and the servers' acks.
  absl::Status CountDelivered(v1::Grant* g) const;
  v1::RecipientState Shown(const v1::GrantRecipient& r) const;

  storage::Store* store_;
  DirectiveHub* hub_;
  const Incidents* incidents_;
  CompensationOptions options_;
  std::function<uint64_t(absl::string_view)> acked_seq_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_INCIDENTS_COMPENSATION_H_
