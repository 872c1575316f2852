// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr.
// Abseil 20220623 ships neither, so the project defines them once, here.
#ifndef STEWARD_STORAGE_STATUS_MACROS_H_
#define STEWARD_STORAGE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STEWARD_CONCAT_INNER_(a, b) a##b
#define STEWARD_CONCAT_(a, b) STEWARD_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status steward_status_ = (expr);       \
    if (!steward_status_.ok()) return steward_status_; \
  } while (0)

// `lhs` is assigned the value of `rexpr` (an absl::StatusOr<T>), or the
// enclosing function returns its error.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(STEWARD_CONCAT_(steward_statusor_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                           \
  if (!tmp.ok()) return tmp.status();           \
  lhs = std::move(tmp).value()

#endif  // STEWARD_STORAGE_STATUS_MACROS_H_
