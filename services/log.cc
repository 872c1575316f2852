#include "services/log.h"

#include <unistd.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace steward {

void LogLine(LogLevel level, absl::string_view msg) {
  static constexpr absl::string_view kTags[] = {"I", "W", "E"};
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ ", absl::Now(), absl::UTCTimeZone()),
      kTags[static_cast<int>(level)], " ", msg, "\n");
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace steward
