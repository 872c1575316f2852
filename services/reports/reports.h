// Reports: player reports grouped into cases, bug submissions grouped by
// signature, abuse protection, and the notices that close the loop. Free
// of gRPC.
//
// A report joins the open case for its (realm, subject, category family);
// a reporter may have one open report per subject, whatever its category
// (a second is ALREADY_EXISTS; resolving the case closes it),
// and at most ReportOptions::reports_per_hour reports an hour
// (RESOURCE_EXHAUSTED). Each report weighs its reporter's credibility:
// (1 + upheld) / (1 + dismissed) over their resolved cases, between 0.25
// and 3. A case whose weighted reports within the window reach the
// threshold is escalated. Resolving a case updates every reporter's
// credibility and tells them, through their game servers, whether action
// was taken (never which).
//
// Bug submissions join the bug with the same signature (crash signature,
// else normalised title), raising its report count and affected players;
// attachments go to their own column family. A status change reaches
// every player who reported the bug.
#ifndef STEWARD_SERVICES_REPORTS_REPORTS_H_
#define STEWARD_SERVICES_REPORTS_REPORTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/clock.h"
#include "services/common/caller.h"
#include "services/gameservers/directives.h"
#include "steward/v1/reports.pb.h"
#include "storage/store.h"

namespace steward {

struct ReportOptions {
  // Reports one player may file per hour. Default: 20.
  int reports_per_hour = 20;
  // Weighted reports within the window that escalate a case. Default: 5.
  double escalation_threshold = 5.0;
  // Default: one hour.
  int64_t window_ms = 3600 * 1000;
  // The operator's own categories: allowed values of custom_category for
  // category CUSTOM. Default: none (CUSTOM is refused).
  std::vector<std::string> custom_categories;
  // Media types a bug's attachments may have ("type/subtype" or "type/*").
  // Default: images, text (logs), JSON and crash dumps.
  std::vector<std::string> attachment_types = {"image/*", "text/*", "application/json",
                                               "application/x-minidump", "application/x-dmp",
                                               "application/x-coredump"};
  // Where time comes from. Default: the wall clock; tests pass a FakeClock.
  const Clock* clock = Clock::Wall();
};

// Signature used to group bug reports (exposed for tests).
std::string BugSignature(absl::string_view crash_signature, absl::string_view title);

class Reports {
 public:
  Reports(storage::Store* store, DirectiveHub* hub, ReportOptions options = {})
      : store_(store), hub_(hub), options_(options), started_ms_(options_.clock->NowMs()) {}
  Reports(const Reports&) = delete;
  Reports& operator=(const Reports&) = delete;

  void SubmitReport(const Caller& c, const v1::SubmitReportRequest& req,
                    v1::SubmitReportResponse* resp, storage::DoneFn done);
  void SubmitBug(const Caller& c, const v1::SubmitBugRequest& req, v1::SubmitBugResponse* resp,
                 storage::DoneFn done);
  void ResolveCase(const Caller& c, const v1::ResolveCaseRequest& req,
                   v1::ResolveCaseResponse* resp, storage::DoneFn done);
  void UpdateBugStatus(const Caller& c, const v1::UpdateBugStatusRequest& req,
                       v1::UpdateBugStatusResponse* resp, storage::DoneFn done);

  // A monitoring rule's action: the player's active case for the
  // category's family, created if needed and escalated, audited as
  // `monitor` with the alert as evidence. `done` gets the case id.
  void OpenCaseFromAlert(const Caller& monitor, absl::string_view realm, absl::string_view player,
                         v1::ReportCategory category, absl::string_view alert_ref,
                         absl::string_view rule_name,
                         absl::AnyInvocable<void(absl::StatusOr<uint64_t>)> done);
  absl::Status ListMyReports(const Caller& c, const v1::ListMyReportsRequest& req,
                             v1::ListMyReportsResponse* resp) const;
  absl::Status ListCases(const Caller& c, const v1::ListCasesRequest& req,
                         v1::ListCasesResponse* resp) const;
  absl::Status GetCase(const Caller& c, const v1::GetCaseRequest& req,
                       v1::GetCaseResponse* resp) const;
  absl::Status ListBugs(const Caller& c, const v1::ListBugsRequest& req,
                        v1::ListBugsResponse* resp) const;
  absl::Status GetBug(const Caller& c, const v1::GetBugRequest& req, v1::GetBugResponse* resp) const;
  absl::Status GetAttachment(const Caller& c, const v1::GetAttachmentRequest& req,
                             v1::Attachment* resp) const;

 private:
  // Takes one report from the reporter's hourly allowance, or says when
  // the next one is allowed.
  absl::Status TakeAllowance(absl::string_view realm, absl::string_view player, int64_t now_ms);
  // Gives back the allowance TakeAllowance took at `taken_at_ms` for a
  // report that was not stored after all.
  void ReturnAllowance(absl::string_view realm, absl::string_view player, int64_t taken_at_ms);

  storage::Store* store_;
  DirectiveHub* hub_;
  ReportOptions options_;
  absl::Mutex mu_;
  // "realm/reporter" -> times of this hour's reports (oldest first). In the
  // first hour after the start, a reporter not yet here is read from the
  // stored reports; after that, every report of the hour went through here.
  const int64_t started_ms_;
  absl::flat_hash_map<std::string, std::vector<int64_t>> recent_ ABSL_GUARDED_BY(mu_);
  int64_t last_sweep_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_REPORTS_REPORTS_H_
