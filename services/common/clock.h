// The one source of time for every domain. Domains take a `const Clock*`
// (Default: Clock::Wall()) and never read the system clock themselves, so
// a test can move time by hours (an answer-time breach, a sanction's
// expiry, an announcement's schedule) without sleeping.
//
// Thread-safety: every method may be called from any thread.
#ifndef STEWARD_SERVICES_COMMON_CLOCK_H_
#define STEWARD_SERVICES_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace steward {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in milliseconds.
  virtual int64_t NowMs() const = 0;
  absl::Time Now() const { return absl::FromUnixMillis(NowMs()); }

  // The system's wall clock. Never null; lives for the whole process.
  static const Clock* Wall();
};

// Time that moves only when told to. Starts at `start_ms`.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  int64_t NowMs() const override { return now_ms_.load(std::memory_order_relaxed); }
  void SetMs(int64_t ms) { now_ms_.store(ms, std::memory_order_relaxed); }
  void AdvanceMs(int64_t ms) { now_ms_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_CLOCK_H_
