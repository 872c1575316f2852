// The client side of EventService.StreamEvents for batches already in the
// wire format (EventBatchEncoder's bytes): gRPC's own synchronous writer,
// carrying byte buffers where the generated stub would serialize an
// EventBatch message. The plugin's event sender and the load generator
// use it; stewardd cannot tell the difference.
#ifndef STEWARD_SERVICES_EVENT_STREAM_H_
#define STEWARD_SERVICES_EVENT_STREAM_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include <memory>
#include <string>

#include "steward/v1/events.pb.h"

namespace steward {

class RawEventStream {
 public:
  // Opens the call; `ctx` and `summary` must outlive it. The summary is
  // filled in when Finish returns OK.
  RawEventStream(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* ctx,
                 v1::IngestSummary* summary);
  RawEventStream(const RawEventStream&) = delete;
  RawEventStream& operator=(const RawEventStream&) = delete;

  // Sends one encoded batch; false once the stream is broken (see Finish).
  bool Write(const std::string& batch);
  bool WritesDone() { return writer_->WritesDone(); }
  grpc::Status Finish() { return writer_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_EVENT_STREAM_H_
