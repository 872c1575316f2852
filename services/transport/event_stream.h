// The client side of EventService.StreamEvents for batches already in the
// wire format (EventBatchEncoder's bytes), through gRPC's public generic
// stub: the call carries byte buffers where the generated stub would
// serialize an EventBatch message. The plugin's event sender and the load
// generator use it; stewardd cannot tell the difference. Blocking, for one
// thread at a time, like the generated synchronous writer; another thread
// may end it with the context's TryCancel.
#ifndef STEWARD_SERVICES_TRANSPORT_EVENT_STREAM_H_
#define STEWARD_SERVICES_TRANSPORT_EVENT_STREAM_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>

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
  // Cancels the call if it was not finished.
  ~RawEventStream();

  // Sends one encoded batch; false once the stream is broken (see Finish).
  bool Write(const std::string& batch);
  // No more batches; false when the stream is broken.
  bool WritesDone();
  // The call's outcome (half-closing first if WritesDone was not called).
  grpc::Status Finish();

 private:
  // Waits for the one operation in flight; its success.
  bool Wait();

  grpc::ClientContext* ctx_;
  v1::IngestSummary* summary_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool broken_ = false, half_closed_ = false, finished_ = false;
  grpc::Status status_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_EVENT_STREAM_H_
