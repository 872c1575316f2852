#include "services/server/metrics.h"

#include "services/common/metrics_text.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "services/server/config.h"
#include "services/common/log.h"
#include "services/transport/http_listener.h"
#include "services/transport/tls_files.h"

namespace steward {

struct MetricsEndpoint::Rep {
  absl::Mutex mu;
  std::string token_sha256 ABSL_GUARDED_BY(mu);
  std::unique_ptr<HttpListener> listener;  // last: its handler reads the above
};

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen,
                                                                        std::string token_sha256,
                                                                        RenderFn render,
                                                                        std::shared_ptr<ReloadingCertificate> certificate) {
  auto rep = std::make_unique<Rep>();
  {
    absl::MutexLock lock(&rep->mu);  // not shared yet; the lock keeps the analysis whole
    rep->token_sha256 = std::move(token_sha256);
  }
  Rep* r = rep.get();
  // Scrapes come one at a time from a Prometheus or two; one thread is
  // plenty and keeps the endpoint off the cores the service needs.
  auto listener = HttpListener::Start(
      {.listen = listen, .what = "metrics", .certificate = std::move(certificate), .threads = 1},
      [r, render = std::move(render)](httplib::Server& http) {
        http.Get("/metrics", [r, render](const httplib::Request& req, httplib::Response& res) {
          std::string token;
          {
            absl::MutexLock lock(&r->mu);
            token = r->token_sha256;
          }
          if (!token.empty()) {
            std::string auth = req.get_header_value("Authorization");
            absl::string_view presented = auth;
            if (!absl::ConsumePrefix(&presented, "Bearer ") || Sha256Hex(presented) != token) {
              res.status = 401;
              res.set_header("WWW-Authenticate", "Bearer");
              res.set_content("metrics need Authorization: Bearer <metrics token>\n", "text/plain");
              return;
            }
          }
          res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
        });
      });
  if (!listener.ok()) return listener.status();
  rep->listener = *std::move(listener);
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(rep)));
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

MetricsEndpoint::~MetricsEndpoint() { rep_->listener.reset(); }

int MetricsEndpoint::port() const { return rep_->listener->port(); }

void MetricsEndpoint::SetToken(std::string token_sha256) {
  absl::MutexLock lock(&rep_->mu);
  rep_->token_sha256 = std::move(token_sha256);
}

void AppendProcessMetrics(MetricsText* out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold
  // spaces: the state is field 3, so index i here is field i + 3.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ', absl::SkipEmpty());
  auto field = [&](int n) -> double {
    double v = 0;
    if (n - 3 < static_cast<int>(f.size())) (void)absl::SimpleAtod(f[n - 3], &v);
    return v;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) {
      (void)absl::SimpleAtod(line.substr(6), &boot_time);
      break;
    }
  }
  size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  using T = MetricsText::Type;
  out->Family("process_cpu_seconds_total", T::kCounter, "User and system CPU time spent, in seconds.");
  out->Sample((field(14) + field(15)) / ticks);
  out->Family("process_resident_memory_bytes", T::kGauge, "Resident memory size in bytes.");
  out->Sample(field(24) * page);
  out->Family("process_virtual_memory_bytes", T::kGauge, "Virtual memory size in bytes.");
  out->Sample(field(23));
  out->Family("process_open_fds", T::kGauge, "Open file descriptors.");
  out->Sample(static_cast<uint64_t>(fds));
  out->Family("process_start_time_seconds", T::kGauge, "Start time of the process since the Unix epoch, in seconds.");
  out->Sample(boot_time + field(22) / ticks);
}

}  // namespace steward
