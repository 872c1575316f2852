#include "services/monitoring/monitoring_grpc.h"

#include <deque>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/events.grpc.pb.h"

namespace steward {
namespace {

// Both event methods take the request's bytes and parse them here
// (EventBatchView::Parse). Left to gRPC, a request protobuf cannot parse (a
// string that is not UTF-8, bytes that are not a message) is answered with
// a bare UNIMPLEMENTED, and on a stream it looks like the client closing
// its side: the batch would be gone without a word. The bytes are read in
// place (the one slice gRPC received them in, or a copy in one piece when
// they came in several), and the batch keeps them alive.
absl::StatusOr<std::shared_ptr<const EventBatchView>> ParseBatch(
    grpc::ByteBuffer* bytes, bool publish_request, const EventBatchView::Limits& limits) {
  std::vector<grpc::Slice> slices;
  if (!bytes->Dump(&slices).ok()) {
    return absl::InvalidArgumentError(
        UnparsableRequest(publish_request ? "PublishEventsRequest" : "EventBatch"));
  }
  if (slices.size() == 1) {
    auto slice = std::make_shared<grpc::Slice>(std::move(slices[0]));
    absl::string_view view(reinterpret_cast<const char*>(slice->begin()), slice->size());
    return EventBatchView::Parse(view, std::move(slice), publish_request, limits);
  }
  auto joined = std::make_shared<std::string>();
  joined->reserve(bytes->Length());
  for (const grpc::Slice& s : slices) joined->append(reinterpret_cast<const char*>(s.begin()), s.size());
  absl::string_view view(*joined);
  return EventBatchView::Parse(view, std::move(joined), publish_request, limits);
}

void SerializeTo(const google::protobuf::Message& msg, grpc::ByteBuffer* out) {
  bool own = false;
  grpc::ByteBuffer bb;
  if (grpc::SerializationTraits<google::protobuf::Message>::Serialize(msg, &bb, &own).ok()) out->Swap(&bb);
}

void AddResult(v1::IngestSummary* s, const IngestResult& r) {
  s->set_accepted(s->accepted() + r.accepted);
  s->set_shed(s->shed() + r.shed);
  s->set_late(s->late() + r.late);
  if (!r.detail.empty()) s->set_detail(r.detail);  // the latest reason
}

// One game server's event stream. Reads one batch at a time: the next read
// starts only once the pipeline took the batch, so a full pipeline stops
// the reading and HTTP/2 flow control pushes back on the sender.
class EventStreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  EventStreamReactor(const Authenticator& auth, Monitoring& m, grpc::CallbackServerContext* ctx,
                     grpc::ByteBuffer* response)
      : auth_(auth), m_(m), response_(response) {
    auto caller = auth.Authenticate(*ctx);
    if (!caller.ok()) {
      Finish(ToGrpc(caller.status()));
      return;
    }
    caller_ = *caller;
    if (!caller_.is_game_server()) {
      Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "events come from game servers"));
      return;
    }
    Next();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side (or the call broke)
      SerializeTo(summary_, response_);
      Finish(grpc::Status::OK);
      return;
    }
    if (absl::Status still = auth_.Recheck(caller_); !still.ok()) {
      Finish(ToGrpc(absl::Status(still.code(), absl::StrCat(still.message(), " (", summary_.accepted(),
                                                            " events accepted before)"))));
      return;
    }
    const size_t bytes = bytes_.Length();
    auto batch = ParseBatch(&bytes_, /*publish_request=*/false, m_.BatchLimits());
    absl::Status s = batch.status();
    if (s.ok()) s = m_.ValidateBatch(caller_, **batch, bytes, &vip_events_);
    if (!s.ok()) {
      m_.CountRejected();
      Finish(ToGrpc(absl::Status(
          s.code(), absl::StrCat(s.message(), " (batch ", batches_ + 1, " of the stream; ",
                                 summary_.accepted(), " events accepted before it)"))));
      return;
    }
    ++batches_;
    m_.ForwardVipEvents(caller_, **batch, vip_events_);
    m_.Ingest(*std::move(batch), [this](IngestResult r) {
      AddResult(&summary_, r);
      Next();
    });
  }

  void OnDone() override { delete this; }

 private:
  void Next() {
    bytes_.Clear();
    StartRead(&bytes_);
  }

  const Authenticator& auth_;
  Monitoring& m_;
  grpc::ByteBuffer* response_;
  v1::IngestSummary summary_;
  Caller caller_;
  grpc::ByteBuffer bytes_;  // the batch being read
  uint64_t batches_ = 0;
  std::vector<int> vip_events_;  // reused from batch to batch
};

using RawEventService = v1::EventService::WithRawCallbackMethod_StreamEvents<
    v1::EventService::WithRawCallbackMethod_PublishEvents<v1::EventService::Service>>;

class EventServiceImpl final : public RawEventService {
 public:
  EventServiceImpl(const Authenticator* auth, Monitoring* m) : auth_(*auth), m_(*m) {}

  grpc::ServerReadReactor<grpc::ByteBuffer>* StreamEvents(grpc::CallbackServerContext* ctx,
                                                          grpc::ByteBuffer* response) override {
    return new EventStreamReactor(auth_, m_, ctx, response);
  }

  grpc::ServerUnaryReactor* PublishEvents(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override {
    auto* reactor = ctx->DefaultReactor();
    auto caller = auth_.Authenticate(*ctx);
    absl::Status s = caller.status();
    grpc::ByteBuffer bytes(*request);  // shares the slices
    const size_t wire = bytes.Length();  // the request's: the batch plus a few bytes
    absl::StatusOr<std::shared_ptr<const EventBatchView>> batch;
    if (s.ok()) {
      batch = ParseBatch(&bytes, /*publish_request=*/true, m_.BatchLimits());
      s = batch.status();
    }
    std::vector<int> vip_events;
    if (s.ok()) s = m_.ValidateBatch(*caller, **batch, wire, &vip_events);
    if (!s.ok()) {
      if (caller.ok()) m_.CountRejected();
      reactor->Finish(ToGrpc(s));
      return reactor;
    }
    m_.ForwardVipEvents(*caller, **batch, vip_events);
    m_.Ingest(*std::move(batch), [reactor, response](IngestResult r) {
      v1::PublishEventsResponse resp;
      AddResult(resp.mutable_summary(), r);
      SerializeTo(resp, response);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  const Authenticator& auth_;
  Monitoring& m_;
};

// A GM's live alert feed. Alerts queue in memory, at most kMaxQueued; a
// watcher that falls further behind is ended (RESOURCE_EXHAUSTED) so it
// reconnects and lists what it missed, rather than growing without bound.
class AlertWatchReactor final : public grpc::ServerWriteReactor<v1::Alert> {
 public:
  static constexpr size_t kMaxQueued = 10'000;

  AlertWatchReactor(const Authenticator& auth, Monitoring& m, grpc::CallbackServerContext* ctx,
                    const v1::WatchAlertsRequest& req)
      : auth_(auth), m_(m), min_severity_(req.min_severity()) {
    auto caller = auth.Authenticate(*ctx);
    absl::Status s = caller.status();
    if (s.ok()) s = RequireGm(*caller, Role::kAgent, "WatchAlerts");
    if (!s.ok()) {
      FinishOnce(ToGrpc(s));
      return;
    }
    caller_ = *std::move(caller);
    // Not under mu_: the monitor calls OnAlert holding its own lock.
    uint64_t id = m_.Watch([this](const v1::Alert& a) { OnAlert(a); });
    absl::MutexLock l(&mu_);
    if (id == 0) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return;
    }
    watch_id_ = id;  // (Unwatch of an id the monitor already dropped is harmless)
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock l(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    PumpLocked();
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    uint64_t id;
    {
      absl::MutexLock l(&mu_);
      id = watch_id_;
    }
    if (id != 0) m_.Unwatch(id);
    delete this;
  }

 private:
  void OnAlert(const v1::Alert& a) {
    absl::MutexLock l(&mu_);
    if (a.id() == 0) {  // the monitor is closing and has dropped us
      watch_id_ = 0;
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return;
    }
    if (a.severity() < min_severity_) return;
    // A GM whose token was revoked sees no further alert.
    if (absl::Status still = auth_.Recheck(caller_); !still.ok()) {
      FinishLocked(ToGrpc(still));
      return;
    }
    if (queue_.size() >= kMaxQueued) {
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "this watcher fell too far behind; reconnect and ListAlerts"));
      return;
    }
    queue_.push_back(a);
    PumpLocked();
  }

  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || queue_.empty()) return;
    out_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(&out_);
  }

  void FinishOnce(grpc::Status s) {
    absl::MutexLock l(&mu_);
    FinishLocked(std::move(s));
  }
  void FinishLocked(grpc::Status s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(s));
  }

  const Authenticator& auth_;
  Monitoring& m_;
  const int min_severity_;
  Caller caller_;
  absl::Mutex mu_;
  uint64_t watch_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<v1::Alert> queue_ ABSL_GUARDED_BY(mu_);
  v1::Alert out_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class MonitoringServiceImpl final : public v1::MonitoringService::CallbackService {
 public:
  MonitoringServiceImpl(const Authenticator* auth, Monitoring* m) : auth_(*auth), m_(*m) {}

  grpc::ServerUnaryReactor* SaveRule(grpc::CallbackServerContext* ctx, const v1::SaveRuleRequest* req,
                                     v1::SaveRuleResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Monitoring::SaveRule, m_);
  }
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* ctx, const v1::ListRulesRequest* req,
                                      v1::ListRulesResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Monitoring::ListRules, m_);
  }
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* ctx, const v1::DeleteRuleRequest* req,
                                       v1::DeleteRuleResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Monitoring::DeleteRule, m_);
  }
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* ctx, const v1::ListAlertsRequest* req,
                                       v1::ListAlertsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Monitoring::ListAlerts, m_);
  }
  grpc::ServerUnaryReactor* AcknowledgeAlert(grpc::CallbackServerContext* ctx,
                                             const v1::AcknowledgeAlertRequest* req,
                                             v1::AcknowledgeAlertResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Monitoring::AcknowledgeAlert, m_);
  }
  grpc::ServerWriteReactor<v1::Alert>* WatchAlerts(grpc::CallbackServerContext* ctx,
                                                   const v1::WatchAlertsRequest* req) override {
    return new AlertWatchReactor(auth_, m_, ctx, *req);
  }
  grpc::ServerUnaryReactor* QueryMetrics(grpc::CallbackServerContext* ctx,
                                         const v1::QueryMetricsRequest* req,
                                         v1::QueryMetricsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Monitoring::QueryMetrics, m_);
  }
  grpc::ServerUnaryReactor* GetPipelineStats(grpc::CallbackServerContext* ctx,
                                             const v1::PipelineStatsRequest* req,
                                             v1::PipelineStats* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Monitoring::Stats, m_);
  }

 private:
  const Authenticator& auth_;
  Monitoring& m_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeEventService(const Authenticator* auth, Monitoring* m) {
  return std::make_unique<EventServiceImpl>(auth, m);
}
std::unique_ptr<grpc::Service> MakeMonitoringService(const Authenticator* auth, Monitoring* m) {
  return std::make_unique<MonitoringServiceImpl>(auth, m);
}

}  // namespace steward
