#include "services/common/idempotency.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "services/common/log.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"
#include "storage/store.h"

namespace steward {

using storage::Cf;

IdempotencyExpiry::~IdempotencyExpiry() { expiry_.Stop(); }

namespace {
constexpr absl::string_view kIndexedKey = "idempotency_time_index";
}  // namespace

absl::Status IdempotencyExpiry::Init() {
  std::string flag;
  absl::Status got = store_->Get(Cf::kMeta, kIndexedKey, &flag);
  if (got.ok()) return absl::OkStatus();
  if (!absl::IsNotFound(got)) return got;
  const int64_t now = clock_->NowMs();
  std::string after;  // the last key indexed
  int indexed = 0;
  while (true) {
    std::vector<std::string> keys;
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kIdempotency, after, "", false, [&](absl::string_view k, absl::string_view) {
      if (k == after) return true;  // the scan starts at the last key of the slice before
      keys.emplace_back(k);
      return keys.size() < 10'000;
    }));
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](storage::Txn& txn) {
      for (const auto& k : keys) txn.Put(Cf::kIdemIndex, storage::KeyWriter().I64(now).Raw(k).key(), "");
      if (keys.empty()) txn.Put(Cf::kMeta, kIndexedKey, "1");
      return absl::OkStatus();
    }));
    if (keys.empty()) break;
    indexed += static_cast<int>(keys.size());
    after = keys.back();
  }
  if (indexed > 0) LogInfo("idempotency: ", indexed, " keys from before the time index will expire one lifetime from now");
  return absl::OkStatus();
}

void IdempotencyExpiry::Start(absl::Duration every) {
  expiry_.Start(
      every,
      [this] {
        auto n = Expire(clock_->NowMs() - keep_ms_);
        if (!n.ok()) {
          LogWarning("idempotency expiry: ", n.status().ToString());
        } else if (*n > 0) {
          LogInfo("idempotency expiry: ", *n, " keys past their lifetime deleted");
        }
      },
      PeriodicTask::FirstRun::kAtOnce);
}

absl::StatusOr<int> IdempotencyExpiry::Expire(int64_t cutoff_ms) {
  const std::string limit = storage::KeyWriter().I64(cutoff_ms).Release();
  std::string from;  // each slice starts where the last one ended, not
                     // among the tombstones it left
  int deleted = 0;
  while (true) {
    // In slices, so a backlog of millions never sits in one transaction.
    std::vector<std::string> doomed;
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kIdemIndex, from, limit, false, [&](absl::string_view k, absl::string_view) {
      doomed.emplace_back(k);
      return doomed.size() < 10'000;
    }));
    if (doomed.empty()) return deleted;
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](storage::Txn& txn) {
      for (const auto& k : doomed) {
        txn.Delete(Cf::kIdempotency, absl::string_view(k).substr(8));  // after the I64 time
        txn.Delete(Cf::kIdemIndex, k);
      }
      return absl::OkStatus();
    }));
    deleted += static_cast<int>(doomed.size());
    from = std::move(doomed.back());
  }
}

}  // namespace steward
