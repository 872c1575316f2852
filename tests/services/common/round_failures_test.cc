// A background round's failures: logged once per run of them, counted
// every time, and the recovery said once.
#include "services/common/round_failures.h"

#include "gtest/gtest.h"

namespace steward {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(RoundFailuresTest, CountsEveryFailureAndTracksTheRun) {
  RoundFailures r("test round");
  const uint64_t before = dropped_statuses.load();
  testing::internal::CaptureStderr();
  r.Report(absl::OkStatus());
  EXPECT_EQ(r.failing(), 0u);
  r.Report(absl::UnavailableError("disk"));
  r.Report(absl::StatusOr<int>(absl::UnavailableError("disk")));
  r.Report(absl::UnavailableError("disk"));
  EXPECT_EQ(r.failing(), 3u);
  EXPECT_EQ(dropped_statuses.load() - before, 3u);
  r.Report(absl::StatusOr<int>(7));
  r.Report(absl::OkStatus());
  EXPECT_EQ(r.failing(), 0u);
  EXPECT_EQ(dropped_statuses.load() - before, 3u);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(Count(log, "test round failed"), 1u) << log;
  EXPECT_EQ(Count(log, "recovered after 3 failed round(s)"), 1u) << log;
}

}  // namespace
}  // namespace steward
