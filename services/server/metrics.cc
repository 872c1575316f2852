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
#include "services/transport/tls_files.h"

namespace steward {

struct MetricsEndpoint::Rep {
  std::shared_ptr<ReloadingCertificate> certificate;  // HTTPS only
  absl::Mutex mu;
  std::string token_sha256 ABSL_GUARDED_BY(mu);
  std::unique_ptr<httplib::Server> http;  // or its HTTPS subclass
  std::thread thread;
  std::atomic<bool> finished{false};
  int port = 0;
};

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen,
                                                                        std::string token_sha256,
                                                                        RenderFn render,
                                                                        std::shared_ptr<ReloadingCertificate> certificate) {
  size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\" is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto rep = std::make_unique<Rep>();
  if (certificate == nullptr) {
    rep->http = std::make_unique<httplib::Server>();
  } else {
    rep->certificate = std::move(certificate);
    // No certificate on the context: each handshake takes the pair in use
    // then, so a renewal needs no new context.
    auto https = std::make_unique<httplib::SSLServer>([kp = rep->certificate.get()](SSL_CTX& ctx) {
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_cert_cb(
          &ctx, [](SSL* ssl, void* arg) { return static_cast<ReloadingCertificate*>(arg)->ApplyTo(ssl) ? 1 : 0; },
          kp);
      return true;
    });
    if (!https->is_valid()) return absl::InternalError("metrics TLS: OpenSSL would not make a server context");
    rep->http = std::move(https);
  }
  // Scrapes come one at a time from a Prometheus or two; one thread is
  // plenty and keeps the endpoint off the cores the service needs.
  rep->http->new_task_queue = [] { return new httplib::ThreadPool(1); };
  // Address reuse for a quick restart, but not port sharing (the
  // library's default): a second stewardd on the same port must fail to
  // start, not take half the scrapes.
  rep->http->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  rep->http->set_read_timeout(5);
  rep->http->set_write_timeout(5);
  rep->token_sha256 = std::move(token_sha256);
  Rep* r = rep.get();
  rep->http->Get("/metrics", [r, render = std::move(render)](const httplib::Request& req,
                                                           httplib::Response& res) {
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
  rep->port = port == 0 ? rep->http->bind_to_any_port(host) : port;
  if (rep->port <= 0 || (port != 0 && !rep->http->bind_to_port(host, port))) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, " (address in use or invalid?)"));
  }
  rep->thread = std::thread([r] {
    r->http->listen_after_bind();
    r->finished = true;
  });
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(rep)));
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

MetricsEndpoint::~MetricsEndpoint() {
  // stop() only takes effect once the listener runs; wait for that first.
  while (!rep_->http->is_running() && !rep_->finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rep_->http->stop();
  if (rep_->thread.joinable()) rep_->thread.join();
}

int MetricsEndpoint::port() const { return rep_->port; }

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
