// The slow lane (one heavy read at a time) and the log limiter.
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/log.h"
#include "services/common/slow_lane.h"

namespace steward {
namespace {

// One heavy read at a time, in order, with a bounded queue; what is queued
// when the owner shuts down still runs (and can see it is stopping).
TEST(SlowLaneTest, RunsOneAtATimeInOrderAndRefusesPastItsQueue) {
  std::vector<int> ran;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> first_started;
  bool saw_stopping = false;
  {
    SlowLane lane(2);
    ASSERT_TRUE(lane.Submit([&] {
      first_started.set_value();
      gate.wait();
      ran.push_back(1);
    }));
    first_started.get_future().wait();  // 1 runs; the queue is empty again
    EXPECT_TRUE(lane.Submit([&] { ran.push_back(2); }));
    EXPECT_TRUE(lane.Submit([&] {
      ran.push_back(3);
      saw_stopping = lane.stopping();
    }));
    EXPECT_FALSE(lane.Submit([&] { ran.push_back(4); }));  // two already wait
    EXPECT_FALSE(lane.stopping());
    std::thread opener([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      release.set_value();
    });
    opener.detach();
  }  // the destructor stops the lane, lets 1, 2 and 3 finish, and joins
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(saw_stopping);
}

TEST(LogLimiterTest, LetsAFewLinesThroughEachWindowAndCountsTheRest) {
  LogLimiter limiter(3, absl::Minutes(1));
  const absl::Time t0 = absl::FromUnixSeconds(1'000'000);
  uint64_t dropped = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit(t0 + absl::Seconds(i), &dropped));
    EXPECT_EQ(dropped, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Admit(t0 + absl::Seconds(10 + i), &dropped));
  // The next window lets lines through again and reports what was held.
  EXPECT_TRUE(limiter.Admit(t0 + absl::Seconds(61), &dropped));
  EXPECT_EQ(dropped, 5u);
  EXPECT_TRUE(limiter.Admit(t0 + absl::Seconds(62), &dropped));
  EXPECT_EQ(dropped, 0u);
}

}  // namespace
}  // namespace steward
