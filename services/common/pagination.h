// Cursor pagination over time-ordered index keys. Every such key is
// <prefix> I64(time_ms) U64(id) [...], so one helper pages tickets, audit
// records and whatever later domains index by time.
#ifndef STEWARD_SERVICES_COMMON_PAGINATION_H_
#define STEWARD_SERVICES_COMMON_PAGINATION_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "storage/store.h"

namespace steward {

struct TimeScan {
  storage::Cf cf;
  std::string prefix;
  int64_t after_ms = 0;   // inclusive lower bound; 0 = open
  int64_t before_ms = 0;  // exclusive upper bound; 0 = open
  bool oldest_first = false;
  absl::string_view page_token;
  size_t page_size = 50;
  // Index entries examined per call at most; a page may come back short
  // (with a token) when filters reject many entries.
  size_t scan_budget = 10000;
};

// Called for each entry in order: return true when the entry was taken
// into the page, false when a filter rejected it.
using TimeScanVisitor = absl::FunctionRef<absl::StatusOr<bool>(
    int64_t time_ms, uint64_t id, absl::string_view key, absl::string_view value)>;

// Returns the next page token ("" at the end). InvalidArgument for a token
// this server did not issue.
absl::StatusOr<std::string> ScanByTime(const storage::Store& store,
                                       const TimeScan& scan,
                                       TimeScanVisitor visit);

// Page size from a request: 0 -> default, capped at the maximum.
size_t EffectivePageSize(uint32_t requested);

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_PAGINATION_H_
