#include "services/common/periodic.h"

#include <utility>

namespace steward {

void PeriodicTask::Start(absl::Duration every, std::function<void()> fn, FirstRun first) {
  thread_ = std::thread([this, every, fn = std::move(fn), first] {
    if (first == FirstRun::kAtOnce) fn();
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping), every)) return;
      }
      fn();
    }
  });
}

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace steward
