// Minimal leveled logging to stderr, one line per call, safe from any
// thread (a single write(2) per line).
#ifndef STEWARD_SERVICES_COMMON_LOG_H_
#define STEWARD_SERVICES_COMMON_LOG_H_

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace steward {

enum class LogLevel { kInfo, kWarning, kError };

void LogLine(LogLevel level, absl::string_view msg);

template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine(LogLevel::kError, absl::StrCat(args...));
}

// Lets at most `per_window` lines through each `window`; counts the rest.
class LogLimiter {
 public:
  LogLimiter(int per_window, absl::Duration window) : per_window_(per_window), window_(window) {}
  // Whether a line at `now` may be written. `*dropped` is set to the lines
  // held back in earlier windows and not yet reported (then reset).
  bool Admit(absl::Time now, uint64_t* dropped);

 private:
  const int per_window_;
  const absl::Duration window_;
  absl::Mutex mu_;
  absl::Time start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int used_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// Sends protobuf's own log lines into this log, at most 20 a minute. A
// caller can provoke one per request (a string field that is not UTF-8 is
// logged as it is refused), so left alone they would let any client fill
// the disk. For the daemon only: it replaces a process-wide handler.
void RouteProtobufLogs();

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_LOG_H_
