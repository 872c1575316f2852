// PeriodicTask: one thread that runs a function every so often until it is
// stopped. The background sweeps (SLA deadlines, VIP care, directive and
// idempotency retention, monitoring housekeeping) all run on one each.
#ifndef STEWARD_SERVICES_COMMON_PERIODIC_H_
#define STEWARD_SERVICES_COMMON_PERIODIC_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace steward {

class PeriodicTask {
 public:
  enum class FirstRun { kAfterInterval, kAtOnce };

  PeriodicTask() = default;
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  ~PeriodicTask() { Stop(); }

  // Runs `fn` every `every` (measured from the end of one run to the start
  // of the next) on a new thread. At most one Start per task.
  void Start(absl::Duration every, std::function<void()> fn,
             FirstRun first = FirstRun::kAfterInterval);
  // Wakes the thread, lets a run in progress finish and joins. The owner
  // calls it before tearing down anything `fn` uses. Idempotent.
  void Stop();

 private:
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_PERIODIC_H_
