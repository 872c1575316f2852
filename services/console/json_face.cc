#include "services/console/json_face.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace steward {
namespace {

namespace pb = ::google::protobuf;

constexpr absl::string_view kPackage = "steward.v1.";

// The method `path` names, or an error reply.
const pb::MethodDescriptor* FindMethod(absl::string_view path, HttpReply* error) {
  absl::string_view p = path;
  absl::ConsumePrefix(&p, "/");
  const size_t slash = p.find('/');
  const pb::MethodDescriptor* m = nullptr;
  if (slash != absl::string_view::npos && absl::StartsWith(p, kPackage)) {
    const pb::ServiceDescriptor* s =
        pb::DescriptorPool::generated_pool()->FindServiceByName(std::string(p.substr(0, slash)));
    if (s != nullptr) m = s->FindMethodByName(std::string(p.substr(slash + 1)));
  }
  if (m == nullptr) {
    *error = JsonFace::Error(12, absl::StrCat("no method ", path,
                                              ": expected /steward.v1.<Service>/<Method> as in proto/"));
  }
  return m;
}

std::unique_ptr<pb::Message> NewMessage(const pb::Descriptor* d) {
  const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(d);
  return std::unique_ptr<pb::Message>(proto->New());
}

// Parses `json` as the method's request and serializes it for the call.
bool RequestBytes(const pb::MethodDescriptor* m, const std::string& json, grpc::ByteBuffer* out,
                  HttpReply* error) {
  if (json.size() > JsonFace::kMaxRequestBytes) {
    *error = JsonFace::Error(8, absl::StrCat("the request body is ", json.size(), " bytes; the limit is ",
                                             JsonFace::kMaxRequestBytes));
    return false;
  }
  auto req = NewMessage(m->input_type());
  // An empty body is the empty request, as Connect clients send it.
  absl::string_view body = absl::StripAsciiWhitespace(json);
  if (!body.empty()) {
    pb::util::JsonParseOptions opt;
    opt.ignore_unknown_fields = false;
    auto st = pb::util::JsonStringToMessage(pb::StringPiece(body.data(), body.size()), req.get(), opt);
    if (!st.ok()) {
      *error = JsonFace::Error(3, absl::StrCat("the body is not a ", m->input_type()->full_name(),
                                               " in protobuf's JSON form: ", st.message().as_string()));
      return false;
    }
  }
  std::string bytes = req->SerializeAsString();
  grpc::Slice slice(bytes);
  *out = grpc::ByteBuffer(&slice, 1);
  return true;
}

// The response bytes as JSON, every field shown (zeros too), so a page
// never has to guess what a missing field means.
bool ResponseJson(const pb::MethodDescriptor* m, const grpc::ByteBuffer& buf, std::string* json) {
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  auto resp = NewMessage(m->output_type());
  if (!resp->ParseFromString(bytes)) return false;
  pb::util::JsonPrintOptions opt;
  opt.always_print_primitive_fields = true;
  return pb::util::MessageToJsonString(*resp, json, opt).ok();
}

void StartContext(grpc::ClientContext* ctx, const std::string& authorization, int64_t timeout_ms) {
  if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  if (timeout_ms > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  }
}

}  // namespace

struct JsonFace::Stub {
  explicit Stub(std::shared_ptr<grpc::Channel> channel) : generic(std::move(channel)) {}
  grpc::GenericStub generic;
};

JsonFace::JsonFace(std::shared_ptr<grpc::Channel> channel)
    : stub_(std::make_unique<Stub>(std::move(channel))) {}

JsonFace::~JsonFace() = default;

absl::string_view JsonFace::CodeName(int code) {
  static constexpr absl::string_view kNames[] = {
      "ok",        "canceled",           "unknown",  "invalid_argument", "deadline_exceeded",
      "not_found", "already_exists",     "permission_denied", "resource_exhausted",
      "failed_precondition", "aborted",  "out_of_range", "unimplemented", "internal",
      "unavailable", "data_loss",        "unauthenticated"};
  return code >= 0 && code <= 16 ? kNames[code] : "unknown";
}

HttpReply JsonFace::Error(int code, absl::string_view message) {
  // HTTP statuses as the Connect protocol assigns them to codes.
  static constexpr int kHttp[] = {200, 499, 500, 400, 504, 404, 409, 403, 429,
                                  400, 409, 400, 501, 500, 503, 500, 401};
  HttpReply r;
  r.status = code >= 0 && code <= 16 ? kHttp[code] : 500;
  pb::util::JsonPrintOptions opt;
  std::string quoted;
  // A JSON string of the message via a well-known wrapper type.
  pb::Value v;
  v.set_string_value(std::string(message));
  (void)pb::util::MessageToJsonString(v, &quoted, opt);
  r.body = absl::StrCat("{\"code\":\"", CodeName(code), "\",\"message\":", quoted, "}");
  return r;
}

HttpReply JsonFace::Unary(absl::string_view path, absl::string_view content_type,
                          const std::string& body, const std::string& authorization,
                          int64_t timeout_ms, const std::string& player) const {
  HttpReply error;
  const pb::MethodDescriptor* m = FindMethod(path, &error);
  if (m == nullptr) return error;
  if (m->client_streaming() || m->server_streaming()) {
    return Error(12, absl::StrCat(m->full_name(),
                                  " streams; the JSON face serves it as server-sent events only when "
                                  "it streams from the server alone (GET /console/stream/...)"));
  }
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(type), "application/json")) {
    HttpReply r = Error(3, absl::StrCat("Content-Type is \"", content_type,
                                        "\"; send the request as application/json"));
    r.status = 415;
    return r;
  }
  grpc::ByteBuffer req, resp;
  if (!RequestBytes(m, body, &req, &error)) return error;
  grpc::ClientContext ctx;
  StartContext(&ctx, authorization, timeout_ms);
  if (!player.empty()) ctx.AddMetadata("x-steward-player", player);
  std::promise<grpc::Status> done;
  const std::string method = absl::StrCat("/", m->service()->full_name(), "/", m->name());
  stub_->generic.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status s = done.get_future().get();
  if (!s.ok()) return Error(s.error_code(), s.error_message());
  HttpReply ok;
  if (!ResponseJson(m, resp, &ok.body)) return Error(13, "the response could not be turned into JSON");
  return ok;
}

std::string JsonFace::ServerStream(absl::string_view path, const std::string& body,
                                   const std::string& authorization,
                                   const std::function<bool(const std::string&)>& on_message,
                                   const std::function<bool()>& keep_going, int64_t poll_ms) const {
  HttpReply error;
  const pb::MethodDescriptor* m = FindMethod(path, &error);
  if (m == nullptr) return error.body;
  if (m->client_streaming() || !m->server_streaming()) {
    return Error(12, absl::StrCat(m->full_name(), " is not a server stream")).body;
  }
  grpc::ByteBuffer req;
  if (!RequestBytes(m, body, &req, &error)) return error.body;
  grpc::ClientContext ctx;
  StartContext(&ctx, authorization, 0);
  grpc::CompletionQueue cq;
  const std::string method = absl::StrCat("/", m->service()->full_name(), "/", m->name());
  auto call = stub_->generic.PrepareCall(&ctx, method, &cq);
  bool cancelled = false;
  // One operation at a time: waits for it, asking keep_going meanwhile.
  auto wait = [&]() {
    while (true) {
      void* tag = nullptr;
      bool ok = false;
      auto r = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(poll_ms));
      if (r == grpc::CompletionQueue::GOT_EVENT) return ok;
      if (r == grpc::CompletionQueue::SHUTDOWN) return false;
      if (!cancelled && !keep_going()) {
        cancelled = true;
        ctx.TryCancel();
      }
    }
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = wait();
  if (ok) {
    call->Write(req, reinterpret_cast<void*>(2));
    ok = wait();
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    ok = wait();
  }
  while (ok) {
    grpc::ByteBuffer buf;
    call->Read(&buf, reinterpret_cast<void*>(4));
    if (!wait()) break;
    std::string json;
    if (!ResponseJson(m, buf, &json) || !on_message(json)) {
      cancelled = true;
      ctx.TryCancel();
      // The cancelled call still ends through Finish below.
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  cq.Shutdown();
  void* tag;
  bool drained;
  while (cq.Next(&tag, &drained)) {
  }
  if (status.ok() || cancelled) return "";
  return Error(status.error_code(), status.error_message()).body;
}

}  // namespace steward
