// Desk: the support team's own work around tickets. Shift handovers (and
// the brief a GM reads when a shift starts), quality inspection of resolved
// tickets on a configurable sheet, and desk reports over time.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_DESK_DESK_H_
#define STEWARD_SERVICES_DESK_DESK_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "steward/v1/desk.pb.h"
#include "storage/store.h"

namespace steward {

class Tickets;
class VipCare;
class Incidents;

struct DeskOptions {
  // The quality sheet: criteria scored 1..max_score each.
  std::vector<std::string> criteria{"wording", "attitude", "understanding", "handling"};
  uint32_t max_score = 5;
  // Resolved tickets drawn per agent per month. Default 5.
  uint32_t per_agent = 5;
  // Unread handovers older than this are no longer listed. Default 30 days.
  int64_t handover_horizon_ms = int64_t{30} * 24 * 3600 * 1000;
  // Where time comes from. Default: the wall clock; tests pass a FakeClock.
  const Clock* clock = Clock::Wall();
  // Seeds the sampler. Default: a fresh random seed per draw.
  std::function<uint64_t()> seed;
};

// Up to `k` of `ids`, drawn uniformly at random without replacement, in
// ascending order.
std::vector<uint64_t> SampleUniform(std::vector<uint64_t> ids, size_t k, std::mt19937_64& rng);

class Desk {
 public:
  // `vip` may be null (no callback figures then).
  Desk(storage::Store* store, const Tickets* tickets, const VipCare* vip, DeskOptions options = {});
  Desk(const Desk&) = delete;
  Desk& operator=(const Desk&) = delete;

  void WriteHandover(const Caller& c, const v1::WriteHandoverRequest& req, v1::Handover* resp,
                     storage::DoneFn done);
  void MarkHandoverRead(const Caller& c, const v1::MarkHandoverReadRequest& req, v1::Handover* resp,
                        storage::DoneFn done);
  absl::Status GetShiftBrief(const Caller& c, const v1::GetShiftBriefRequest& req,
                             v1::ShiftBrief* resp) const;

  void DrawQualitySample(const Caller& c, const v1::DrawQualitySampleRequest& req,
                         v1::QualitySample* resp, storage::DoneFn done);
  absl::Status GetQualitySample(const Caller& c, const v1::GetQualitySampleRequest& req,
                                v1::QualitySample* resp) const;
  void ScoreTicket(const Caller& c, const v1::ScoreTicketRequest& req, v1::QualityReview* resp,
                   storage::DoneFn done);
  absl::Status GetQualityTrends(const Caller& c, const v1::QualityTrendsRequest& req,
                                v1::QualityTrends* resp) const;

  absl::Status GetDeskReport(const Caller& c, const v1::DeskReportRequest& req,
                             v1::DeskReport* resp) const;
  // Incidents for the brief and the reports (optional; set before serving).
  void set_incidents(const Incidents* incidents) { incidents_ = incidents; }

 private:
  int64_t Now() const;
  absl::Status FillRow(const v1::DeskReportRequest& req, v1::DeskReportRow* row) const;

  storage::Store* store_;
  const Tickets* tickets_;
  const VipCare* vip_;
  const Incidents* incidents_ = nullptr;
  DeskOptions options_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_DESK_DESK_H_
