// Heavy reads (a whole-trail audit verification, a desk report over months
// of tickets) run here, on one thread of their own with a short queue,
// never on gRPC's callback threads: there are only two of those, and they
// answer CheckPlayer at login and take in events.
#ifndef STEWARD_SERVICES_COMMON_SLOW_LANE_H_
#define STEWARD_SERVICES_COMMON_SLOW_LANE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace steward {

class SlowLane {
 public:
  explicit SlowLane(size_t max_waiting = 4) : max_waiting_(max_waiting) {}
  ~SlowLane();  // runs what is queued (with stopping() true), then joins
  SlowLane(const SlowLane&) = delete;
  SlowLane& operator=(const SlowLane&) = delete;

  // Queues `work` behind what is running; false (and `work` dropped) when
  // `max_waiting` are already waiting or the lane is stopping.
  bool Submit(std::function<void()> work);
  // True once the owner is shutting down: long work should wrap up.
  bool stopping() const;

 private:
  void Run();

  const size_t max_waiting_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;  // started by the first Submit
};

// What a caller is told when the lane's queue is full.
inline absl::Status BusyLane() {
  return absl::ResourceExhaustedError(
      "the server is already running its limit of heavy reads (reports, audit verification); "
      "try again when one has finished");
}

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_SLOW_LANE_H_
