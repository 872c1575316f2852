#include "services/common/slow_lane.h"

#include <utility>

namespace steward {

SlowLane::~SlowLane() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

bool SlowLane::Submit(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  if (stop_ || queue_.size() >= max_waiting_) return false;
  queue_.push_back(std::move(work));
  if (!worker_.joinable()) worker_ = std::thread([this] { Run(); });
  return true;
}

bool SlowLane::stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

void SlowLane::Run() {
  while (true) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping with nothing left
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

}  // namespace steward
