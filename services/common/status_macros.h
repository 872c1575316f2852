// STEWARD_RETURN_IF_ERROR / STEWARD_ASSIGN_OR_RETURN for absl::Status and
// absl::StatusOr, and STEWARD_DROP_STATUS for a status left unhandled on
// purpose. Abseil 20220623 ships none, so the project defines them once,
// here. Header-only: storage, the lowest layer, uses them too.
#ifndef STEWARD_SERVICES_COMMON_STATUS_MACROS_H_
#define STEWARD_SERVICES_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <atomic>
#include <cstdint>

#define STEWARD_CONCAT_INNER_(a, b) a##b
#define STEWARD_CONCAT_(a, b) STEWARD_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define STEWARD_RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status steward_status_ = (expr);       \
    if (!steward_status_.ok()) return steward_status_; \
  } while (0)

// `lhs` is assigned the value of `rexpr` (an absl::StatusOr<T>), or the
// enclosing function returns its error.
#define STEWARD_ASSIGN_OR_RETURN(lhs, rexpr) \
  STEWARD_ASSIGN_OR_RETURN_IMPL_(STEWARD_CONCAT_(steward_statusor_, __LINE__), lhs, rexpr)

#define STEWARD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                           \
  if (!tmp.ok()) return tmp.status();           \
  lhs = std::move(tmp).value()

namespace steward {

// Statuses dropped on purpose since the process started; stewardd exports
// it as steward_dropped_statuses_total, so a drop that starts happening
// often is seen rather than lost.
inline std::atomic<uint64_t> dropped_statuses{0};

inline void DropStatus(const absl::Status& s) {
  if (!s.ok()) dropped_statuses.fetch_add(1, std::memory_order_relaxed);
}
template <typename T>
void DropStatus(const absl::StatusOr<T>& s) {
  DropStatus(s.status());
}

}  // namespace steward

// Evaluates `expr` (a Status or StatusOr) and drops its error, counting it.
// `why` is a string literal saying why dropping is right here (the caller
// retries later, the failure was already logged, ...); it documents the
// call site and costs nothing.
#define STEWARD_DROP_STATUS(expr, why) \
  do {                                 \
    static_assert(sizeof(why) > 1, "say why the status is dropped"); \
    ::steward::DropStatus(expr);       \
  } while (0)

#endif  // STEWARD_SERVICES_COMMON_STATUS_MACROS_H_
