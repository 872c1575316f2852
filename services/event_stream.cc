#include "services/event_stream.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>

namespace steward {

namespace {
// The full method name, as the generated EventService stub has it.
constexpr char kStreamEvents[] = "/steward.v1.EventService/StreamEvents";
}  // namespace

RawEventStream::RawEventStream(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* ctx,
                               v1::IngestSummary* summary) {
  // What the generated stub does for StreamEvents, with ByteBuffer as the
  // message type (gRPC passes a ByteBuffer through unserialized).
  const grpc::internal::RpcMethod method(kStreamEvents, grpc::internal::RpcMethod::CLIENT_STREAMING, channel);
  writer_.reset(grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel.get(), method, ctx, summary));
}

bool RawEventStream::Write(const std::string& batch) {
  grpc::Slice slice(batch);
  grpc::ByteBuffer buffer(&slice, 1);
  return writer_->Write(buffer);
}

}  // namespace steward
