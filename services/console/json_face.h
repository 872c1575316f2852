// JsonFace: every RPC in proto/ over HTTP, in the Connect protocol's
// unary JSON form (POST /steward.v1.TicketService/ListTickets with the
// request in protobuf's JSON mapping), and server streams as
// server-sent events. Nothing here knows a method: the request is parsed
// with the method's descriptor, sent over stewardd's in-process channel
// with the generic stub, and so meets the same authentication,
// validation, audit and service code as a gRPC call.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_CONSOLE_JSON_FACE_H_
#define STEWARD_SERVICES_CONSOLE_JSON_FACE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace steward {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class JsonFace {
 public:
  // The largest request body taken (bigger: resource_exhausted).
  static constexpr size_t kMaxRequestBytes = 4 << 20;

  explicit JsonFace(std::shared_ptr<grpc::Channel> channel);
  ~JsonFace();

  // One unary call. `path` is "/<package>.<Service>/<Method>";
  // `authorization` the "Bearer <token>" the call carries.
  // `player` is the x-steward-player a game server acts for ("" none).
  HttpReply Unary(absl::string_view path, absl::string_view content_type,
                  const std::string& body, const std::string& authorization,
                  int64_t timeout_ms = 30'000, const std::string& player = "") const;

  // A server-streaming call: each response goes to `on_message` as JSON
  // until it returns false (the reader left), the stream ends, or
  // `keep_going` (asked about every `poll_ms`) returns false. Returns the
  // stream's end as a Connect error body ("" when it ended OK or the
  // reader left).
  std::string ServerStream(absl::string_view path, const std::string& body,
                           const std::string& authorization,
                           const std::function<bool(const std::string&)>& on_message,
                           const std::function<bool()>& keep_going, int64_t poll_ms = 15'000) const;

  // The Connect error body and HTTP status for a gRPC status code.
  static HttpReply Error(int grpc_code, absl::string_view message);
  // "invalid_argument" for 3, and so on.
  static absl::string_view CodeName(int grpc_code);

 private:
  struct Stub;  // grpc::GenericStub, kept out of this header
  std::unique_ptr<Stub> stub_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_CONSOLE_JSON_FACE_H_
