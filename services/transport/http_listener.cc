#include "services/transport/http_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/transport/tls_files.h"

namespace steward {

struct HttpListener::Rep {
  std::shared_ptr<ReloadingCertificate> certificate;
  std::unique_ptr<httplib::Server> http;  // or its HTTPS subclass
  std::thread thread;
  std::atomic<bool> finished{false};
  int port = 0;
};

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    Options o, const std::function<void(httplib::Server&)>& routes) {
  const std::string& listen = o.listen;
  size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.what, " listen address \"", listen, "\" is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto rep = std::make_unique<Rep>();
  if (o.certificate == nullptr) {
    rep->http = std::make_unique<httplib::Server>();
  } else {
    rep->certificate = std::move(o.certificate);
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
    if (!https->is_valid()) {
      return absl::InternalError(absl::StrCat(o.what, " TLS: OpenSSL would not make a server context"));
    }
    rep->http = std::move(https);
  }
  const int threads = std::max(1, o.threads);
  rep->http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Address reuse for a quick restart, but not port sharing (the
  // library's default): a second stewardd on the same port must fail to
  // start, not take half the requests.
  rep->http->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Replies go out in more than one write: without this, Nagle's
  // algorithm and the peer's delayed ACK add 40 ms to each.
  rep->http->set_tcp_nodelay(true);
  rep->http->set_read_timeout(o.io_timeout_seconds);
  rep->http->set_write_timeout(o.io_timeout_seconds);
  routes(*rep->http);
  rep->port = port == 0 ? rep->http->bind_to_any_port(host) : port;
  if (rep->port <= 0 || (port != 0 && !rep->http->bind_to_port(host, port))) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve ", o.what, " on ", listen, " (address in use or invalid?)"));
  }
  Rep* r = rep.get();
  rep->thread = std::thread([r] {
    r->http->listen_after_bind();
    r->finished = true;
  });
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(rep)));
}

HttpListener::HttpListener(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

HttpListener::~HttpListener() {
  // stop() only takes effect once the listener runs; wait for that first.
  while (!rep_->http->is_running() && !rep_->finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rep_->http->stop();
  if (rep_->thread.joinable()) rep_->thread.join();
}

int HttpListener::port() const { return rep_->port; }

bool HttpListener::tls() const { return rep_->certificate != nullptr; }

}  // namespace steward
