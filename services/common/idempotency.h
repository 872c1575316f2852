// Idempotency keys are honoured for a configured lifetime (default 7 days):
// long enough for any client retry, short enough that the keys of millions
// of tickets, reports and sanctions do not pile up in the store forever.
// Entries older than that are deleted in write order from the time index
// (Cf::kIdemIndex); a retry after that creates a new record.
#ifndef STEWARD_SERVICES_COMMON_IDEMPOTENCY_H_
#define STEWARD_SERVICES_COMMON_IDEMPOTENCY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/periodic.h"

namespace steward {
namespace storage {
class Store;
}

class IdempotencyExpiry {
 public:
  IdempotencyExpiry(storage::Store* store, int64_t keep_ms, const Clock* clock = Clock::Wall())
      : store_(store), keep_ms_(keep_ms), clock_(clock) {}
  ~IdempotencyExpiry();

  // On the first start with a store written before keys had a time index,
  // indexes every existing key as written now, so they too expire one
  // lifetime later. Call before serving.
  absl::Status Init();
  // Expires once now and then every `every`, on a thread of its own.
  void Start(absl::Duration every = absl::Hours(1));
  // Deletes the entries written before `cutoff_ms`; returns how many.
  absl::StatusOr<int> Expire(int64_t cutoff_ms);

 private:
  storage::Store* store_;
  const int64_t keep_ms_;
  const Clock* clock_;
  PeriodicTask expiry_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_IDEMPOTENCY_H_
