// Moderation: sanctions, two-person approval, graduated penalties, appeals
// and the player check, free of gRPC.
//
// Every mutation is one store transaction holding the change, its indexes,
// its audit record and the directive that tells game servers; the
// in-memory SanctionIndex and the directive watchers are updated only after
// that transaction is durable. Mutations report through `done` on the
// commit thread; requests and responses must outlive `done`.
//
// Who may do what (GM roles agent < lead < supervisor < admin):
//   agent: warning, mute, shadow mute, kick, restrict, temp ban up to 7 days
//   lead: any temp ban, permanent ban, guild and channel bans; revoke any
//     sanction (agents revoke their own); decide appeals
//   supervisor: device and IP bans; approve or reject others' proposals
// Permanent bans, device and IP bans, and bulk issues of more than
// ModerationOptions::bulk_approval_threshold sanctions wait for a second
// GM (supervisor or above, never the proposer) before taking effect.
#ifndef STEWARD_SERVICES_MODERATION_MODERATION_H_
#define STEWARD_SERVICES_MODERATION_MODERATION_H_

#include <cstdint>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/gameservers/directives.h"
#include "services/moderation/sanction_index.h"
#include "steward/v1/moderation.pb.h"
#include "storage/store.h"

namespace steward {

struct ModerationOptions {
  // Bulk issues with more sanctions than this need approval. Default: 50.
  int bulk_approval_threshold = 50;
  // Strike points lose half their weight over this time. Default: 30 days.
  int64_t strike_half_life_ms = int64_t{30} * 24 * 3600 * 1000;
  // Where time comes from. Default: the wall clock; tests pass a FakeClock.
  const Clock* clock = Clock::Wall();
};

class Moderation {
 public:
  Moderation(storage::Store* store, DirectiveHub* hub, ModerationOptions options = {});
  Moderation(const Moderation&) = delete;
  Moderation& operator=(const Moderation&) = delete;

  ~Moderation();

  // Rebuilds the in-memory index from the store and starts a thread that
  // frees expired entries every `prune_every`. Call once before serving.
  absl::Status Init(absl::Duration prune_every = absl::Minutes(1));

  void Issue(const Caller& c, const v1::IssueSanctionRequest& req,
             v1::IssueSanctionResponse* resp, storage::DoneFn done);
  void BulkIssue(const Caller& c, const v1::BulkIssueSanctionsRequest& req,
                 v1::BulkIssueSanctionsResponse* resp, storage::DoneFn done);
  void Revoke(const Caller& c, const v1::RevokeSanctionRequest& req,
              v1::RevokeSanctionResponse* resp, storage::DoneFn done);
  void DecideApproval(const Caller& c, const v1::DecideApprovalRequest& req,
                      v1::DecideApprovalResponse* resp, storage::DoneFn done);
  void FileAppeal(const Caller& c, const v1::FileAppealRequest& req,
                  v1::FileAppealResponse* resp, storage::DoneFn done);
  void DecideAppeal(const Caller& c, const v1::DecideAppealRequest& req,
                    v1::DecideAppealResponse* resp, storage::DoneFn done);

  absl::Status Get(const Caller& c, const v1::GetSanctionRequest& req, v1::Sanction* resp) const;
  absl::Status List(const Caller& c, const v1::ListSanctionsRequest& req,
                    v1::ListSanctionsResponse* resp) const;
  absl::Status ListApprovals(const Caller& c, const v1::ListApprovalsRequest& req,
                             v1::ListApprovalsResponse* resp) const;
  absl::Status ListAppeals(const Caller& c, const v1::ListAppealsRequest& req,
                           v1::ListAppealsResponse* resp) const;
  absl::Status SuggestPenalty(const Caller& c, const v1::SuggestPenaltyRequest& req,
                              v1::SuggestPenaltyResponse* resp) const;
  absl::Status CheckPlayer(const Caller& c, const v1::CheckPlayerRequest& req,
                           v1::PlayerStatus* resp) const;

  // The lookup behind CheckPlayer, for callers already authorised
  // (embedders, benchmarks). Decides expiry against now_ms.
  void Evaluate(const v1::CheckPlayerRequest& req, int64_t now_ms, v1::PlayerStatus* out) const;

  // Sanctions issued against `subject` since `since_ms`, counted up to
  // `cap` (VIP care's churn signal).
  int CountIssuedSince(absl::string_view subject, int64_t since_ms, int cap) const;

  // Frees index memory held by expired sanctions.
  size_t PruneExpired(int64_t now_ms) { return index_.Prune(now_ms); }
  const SanctionIndex& index() const { return index_; }

 private:
  storage::Store* store_;
  DirectiveHub* hub_;
  ModerationOptions options_;
  SanctionIndex index_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread pruner_;
};

// Inside another domain's transaction: OK when sanction `id` exists,
// InvalidArgument naming it when it does not.
absl::Status CheckSanctionExists(storage::Txn& txn, uint64_t id);

}  // namespace steward

#endif  // STEWARD_SERVICES_MODERATION_MODERATION_H_
