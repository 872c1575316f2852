// RoundFailures: what a background round (the time-limit scheduler, the
// VIP sweep) does with its errors. The round is retried by its schedule;
// this logs the first failure of a run of them once, counts every one in
// steward_dropped_statuses_total, and logs once more when a round
// succeeds again, so a failing disk is neither silent nor a log flood.
//
// Thread-safety: Report may be called from any thread.
#ifndef STEWARD_SERVICES_COMMON_ROUND_FAILURES_H_
#define STEWARD_SERVICES_COMMON_ROUND_FAILURES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace steward {

class RoundFailures {
 public:
  // `what` names the round in the log: "time-limit round".
  explicit RoundFailures(std::string what) : what_(std::move(what)) {}

  void Report(const absl::Status& s) {
    absl::MutexLock lock(&mu_);
    if (s.ok()) {
      if (failing_ > 0) LogInfo(what_, ": recovered after ", failing_, " failed round(s)");
      failing_ = 0;
      return;
    }
    DropStatus(s);
    if (failing_++ == 0) LogWarning(what_, " failed (retried each round; logged again on recovery): ", s.ToString());
  }
  template <typename T>
  void Report(const absl::StatusOr<T>& s) {
    Report(s.status());
  }
  // Rounds failed in a row now.
  uint64_t failing() const {
    absl::MutexLock lock(&mu_);
    return failing_;
  }

 private:
  const std::string what_;
  mutable absl::Mutex mu_;
  uint64_t failing_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_ROUND_FAILURES_H_
