// Minimal leveled logging to stderr, one line per call, safe from any
// thread (a single write(2) per line).
#ifndef STEWARD_SERVICES_LOG_H_
#define STEWARD_SERVICES_LOG_H_

#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"

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

}  // namespace steward

#endif  // STEWARD_SERVICES_LOG_H_
