// The status macros: errors propagate, values are assigned, and a status
// dropped on purpose is counted only when it is an error.
#include "services/common/status_macros.h"

#include "gtest/gtest.h"

namespace steward {
namespace {

absl::Status FailIf(bool fail) { return fail ? absl::NotFoundError("no such ticket") : absl::OkStatus(); }
absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::Status Chain(bool fail, int n, int* out) {
  STEWARD_RETURN_IF_ERROR(FailIf(fail));
  STEWARD_ASSIGN_OR_RETURN(int half, Half(n));
  STEWARD_ASSIGN_OR_RETURN(*out, Half(half));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, ErrorsPropagateWithTheirCodeAndValuesAreAssigned) {
  int out = 0;
  EXPECT_TRUE(Chain(false, 8, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(Chain(true, 8, &out).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Chain(false, 7, &out).code(), absl::StatusCode::kInvalidArgument);
  out = -1;
  EXPECT_EQ(Chain(false, 6, &out).code(), absl::StatusCode::kInvalidArgument);  // 3 is odd
  EXPECT_EQ(out, -1);
}

TEST(StatusMacrosTest, DroppedStatusesAreCountedOnlyWhenTheyAreErrors) {
  const uint64_t before = dropped_statuses.load();
  STEWARD_DROP_STATUS(FailIf(false), "nothing to drop");
  STEWARD_DROP_STATUS(Half(4), "a value, not an error");
  EXPECT_EQ(dropped_statuses.load(), before);
  STEWARD_DROP_STATUS(FailIf(true), "the test drops it");
  STEWARD_DROP_STATUS(Half(3), "the test drops it");
  EXPECT_EQ(dropped_statuses.load(), before + 2);
}

}  // namespace
}  // namespace steward
