// The GM console's HTTP front: the single-page app's files, sign-in
// sessions, the JSON face (json_face.h) and live streams, on its own
// port ([console] listen).
//
//   POST   /console/session   {"token": "..."} -> a session cookie
//   GET    /console/session   who is signed in, and the CSRF token
//   DELETE /console/session   sign out
//   POST   /steward.v1.<Service>/<Method>        Connect unary JSON
//   GET    /console/stream/steward.v1.<Service>/<Method>?request=<json>
//                             a server stream as server-sent events
//   GET    /, /assets/...     the app
//
// A call is made with the session's GM token (kept here, never in the
// page) or, for scripts and curl, with its own Authorization header.
// State-changing calls with a session need its CSRF token in
// X-Steward-CSRF. Every call is authorised by the services themselves,
// exactly as over gRPC.
#ifndef STEWARD_SERVICES_CONSOLE_CONSOLE_H_
#define STEWARD_SERVICES_CONSOLE_CONSOLE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/clock.h"

namespace grpc {
class Channel;
}

namespace steward {

class Authenticator;
class ReloadingCertificate;

struct ConsoleOptions {
  std::string listen;      // "host:port"
  std::string assets_dir;  // the built app (index.html, assets/)
  int64_t session_idle_ms = 30 * 60 * 1000;
  int64_t session_max_ms = 12 * 3600 * 1000;  // a shift, then sign in again
  int threads = 16;  // each open live stream holds one
  std::shared_ptr<ReloadingCertificate> certificate;  // HTTPS (and Secure cookies)
  const Clock* clock = Clock::Wall();
};

class Console {
 public:
  static absl::StatusOr<std::unique_ptr<Console>> Start(ConsoleOptions options,
                                                        const Authenticator* auth,
                                                        std::shared_ptr<grpc::Channel> channel);
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;
  ~Console();  // ends live streams, stops serving

  int port() const;

 private:
  struct Rep;
  explicit Console(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_CONSOLE_CONSOLE_H_
