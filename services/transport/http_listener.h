// HttpListener: an HTTP/1.1 server (cpp-httplib) on "host:port", HTTPS
// when given a certificate, serving on its own threads. The metrics
// endpoint and the console share it.
#ifndef STEWARD_SERVICES_TRANSPORT_HTTP_LISTENER_H_
#define STEWARD_SERVICES_TRANSPORT_HTTP_LISTENER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace steward {

class ReloadingCertificate;

class HttpListener {
 public:
  struct Options {
    std::string listen;  // "host:port"; port 0 picks a free one
    std::string what;    // for errors: "metrics", "console"
    // HTTPS only when set; each handshake takes the pair in use then.
    std::shared_ptr<ReloadingCertificate> certificate;
    int threads = 1;
    int io_timeout_seconds = 5;  // read and write, per request
  };
  // `routes` adds the handlers before the listener starts.
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      Options options, const std::function<void(httplib::Server&)>& routes);
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;
  ~HttpListener();  // stops serving and joins the threads

  int port() const;
  bool tls() const;

 private:
  struct Rep;
  explicit HttpListener(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_HTTP_LISTENER_H_
