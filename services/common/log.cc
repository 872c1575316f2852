#include "services/common/log.h"

#include <google/protobuf/stubs/logging.h>
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

bool LogLimiter::Admit(absl::Time now, uint64_t* dropped) {
  absl::MutexLock lock(&mu_);
  *dropped = 0;
  if (now - start_ >= window_) {
    start_ = now;
    used_ = 0;
  }
  if (used_ >= per_window_) {
    ++dropped_;
    return false;
  }
  ++used_;
  *dropped = dropped_;
  dropped_ = 0;
  return true;
}

namespace {

void ProtobufToLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& msg) {
  static LogLimiter* limiter = new LogLimiter(20, absl::Minutes(1));
  uint64_t dropped = 0;
  if (level < google::protobuf::LOGLEVEL_FATAL && !limiter->Admit(absl::Now(), &dropped)) return;
  LogLevel ours = level <= google::protobuf::LOGLEVEL_INFO      ? LogLevel::kInfo
                  : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                : LogLevel::kError;
  if (dropped > 0) {
    LogLine(LogLevel::kWarning, absl::StrCat("protobuf: ", dropped, " lines held back (at most 20 a minute)"));
  }
  LogLine(ours, absl::StrCat("protobuf ", file, ":", line, ": ", msg));
}

}  // namespace

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&ProtobufToLog); }

}  // namespace steward
