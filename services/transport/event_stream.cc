#include "services/transport/event_stream.h"

#include <vector>

namespace steward {

namespace {
// The full method name, as the generated EventService stub has it.
constexpr char kStreamEvents[] = "/steward.v1.EventService/StreamEvents";
// Operations run one at a time, so one tag serves them all.
void* const kTag = reinterpret_cast<void*>(1);
}  // namespace

RawEventStream::RawEventStream(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* ctx,
                               v1::IngestSummary* summary)
    : ctx_(ctx), summary_(summary) {
  grpc::GenericStub stub(channel);
  call_ = stub.PrepareCall(ctx, kStreamEvents, &cq_);
  call_->StartCall(kTag);
  broken_ = !Wait();
}

RawEventStream::~RawEventStream() {
  if (!finished_) {
    ctx_->TryCancel();
    Finish();
  }
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

bool RawEventStream::Wait() {
  void* tag = nullptr;
  bool ok = false;
  return cq_.Next(&tag, &ok) && ok;
}

bool RawEventStream::Write(const std::string& batch) {
  if (broken_ || half_closed_) return false;
  grpc::Slice slice(batch);
  grpc::ByteBuffer buffer(&slice, 1);
  call_->Write(buffer, kTag);
  broken_ = !Wait();
  return !broken_;
}

bool RawEventStream::WritesDone() {
  if (broken_) return false;
  if (!half_closed_) {
    half_closed_ = true;
    call_->WritesDone(kTag);
    broken_ = !Wait();
  }
  return !broken_;
}

grpc::Status RawEventStream::Finish() {
  if (finished_) return status_;
  finished_ = true;
  if (!broken_) WritesDone();
  // The one reply (the summary), then the status; a broken call has no reply.
  grpc::ByteBuffer reply;
  call_->Read(&reply, kTag);
  const bool got_reply = Wait();
  call_->Finish(&status_, kTag);
  Wait();
  if (status_.ok()) {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (got_reply && reply.Dump(&slices).ok()) {
      for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    if (!got_reply || !summary_->ParseFromString(bytes)) {
      status_ = grpc::Status(grpc::StatusCode::INTERNAL, "StreamEvents ended without a readable summary");
    }
  }
  return status_;
}

}  // namespace steward
