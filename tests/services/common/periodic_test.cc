#include "services/common/periodic.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace steward {
namespace {

TEST(PeriodicTaskTest, RunsAgainAndAgainUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicTask task;
  task.Start(absl::Milliseconds(5), [&] { ++runs; });
  for (int i = 0; i < 400 && runs.load() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  task.Stop();
  const int at_stop = runs.load();
  EXPECT_GE(at_stop, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(runs.load(), at_stop) << "ran after Stop returned";
  task.Stop();  // a second Stop is harmless
}

TEST(PeriodicTaskTest, FirstRunAtOnceOrAfterTheInterval) {
  std::atomic<int> eager{0}, lazy{0};
  PeriodicTask at_once, after;
  at_once.Start(
      absl::Hours(1), [&] { ++eager; }, PeriodicTask::FirstRun::kAtOnce);
  after.Start(absl::Hours(1), [&] { ++lazy; });
  for (int i = 0; i < 400 && eager.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Stop does not wait out the hour: it wakes the thread.
  const auto t0 = std::chrono::steady_clock::now();
  at_once.Stop();
  after.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(eager.load(), 1);
  EXPECT_EQ(lazy.load(), 0);
}

TEST(PeriodicTaskTest, StopWaitsForARunInProgress) {
  absl::Notification started, release;
  std::atomic<bool> finished{false};
  PeriodicTask task;
  task.Start(absl::Milliseconds(1), [&] {
    if (started.HasBeenNotified()) return;
    started.Notify();
    release.WaitForNotification();
    finished = true;
  });
  started.WaitForNotification();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release.Notify();
  });
  task.Stop();
  EXPECT_TRUE(finished.load()) << "Stop returned while the run was still going";
  releaser.join();
}

TEST(PeriodicTaskTest, StopWithoutStartIsHarmless) {
  PeriodicTask task;
  task.Stop();
}

}  // namespace
}  // namespace steward
