#include "services/tickets/ticket_grpc.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward {
namespace {

// One game server's ticket stream. Each read ticket goes to the desk at
// once; up to kStreamWindow may be in flight, beyond which reading pauses
// until acks drain (so a fast sender is held back by HTTP/2 flow control,
// not by server memory). Acks gather while a write is outstanding and go
// out together. The reactor finishes only when nothing is in flight, so no
// completion can outlive it.
class TicketStreamReactor final
    : public grpc::ServerBidiReactor<v1::StreamTicketsRequest, v1::StreamTicketsResponse> {
 public:
  static constexpr int kStreamWindow = 1024;

  TicketStreamReactor(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                      Tickets& desk)
      : desk_(desk) {
    auto caller = auth.Authenticate(*ctx);
    absl::Status s = caller.status();
    if (s.ok() && !caller->is_game_server()) {
      s = absl::PermissionDeniedError("StreamTickets is for game servers");
    }
    if (!s.ok()) {
      Finish(ToGrpc(s));
      return;
    }
    caller_ = *std::move(caller);
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed, or the call is broken
      Settle([](TicketStreamReactor* r) {
        r->mu_.AssertHeld();  // Settle runs changes under the lock
        r->reads_done_ = true;
      });
      return;
    }
    auto item = std::make_unique<Item>();
    item->request_id = in_.request_id();
    item->ticket.Swap(in_.mutable_ticket());
    Item* raw = item.release();
    bool read_more = false;
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
      read_more = in_flight_ < kStreamWindow;
      if (!read_more) read_paused_ = true;
    }
    desk_.SubmitForPlayer(caller_, raw->ticket, &raw->out, [this, raw](absl::Status s) {
      std::unique_ptr<Item> done(raw);
      Settle([&](TicketStreamReactor* r) {
        r->mu_.AssertHeld();
        v1::TicketAck* ack = r->pending_.add_acks();
        ack->set_request_id(done->request_id);
        ack->set_code(static_cast<int>(s.code()));
        if (s.ok()) {
          ack->set_ticket_id(done->out.ticket().id());
          ack->set_deduplicated(done->out.deduplicated());
        } else {
          ack->set_message(std::string(s.message()));
        }
        --r->in_flight_;
      });
    });
    if (read_more) StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    Settle([ok](TicketStreamReactor* r) {
      r->mu_.AssertHeld();
      r->writing_ = false;
      if (!ok) r->broken_ = true;
    });
  }

  void OnDone() override { delete this; }

 private:
  struct Item {
    uint64_t request_id = 0;
    v1::PlayerTicket ticket;
    v1::SubmitTicketResponse out;
  };

  // Applies `change` under the lock, then starts whatever the new state
  // allows (resume reading, write gathered acks, finish) outside it.
  template <typename F>
  void Settle(F change) {
    bool resume = false, write = false, finish = false;
    {
      absl::MutexLock lock(&mu_);
      change(this);
      if (broken_) pending_.Clear();
      if (read_paused_ && !reads_done_ && in_flight_ < kStreamWindow) {
        read_paused_ = false;
        resume = true;
      }
      if (!writing_ && !broken_ && pending_.acks_size() > 0) {
        out_.Swap(&pending_);
        pending_.Clear();
        writing_ = write = true;
      }
      if (reads_done_ && in_flight_ == 0 && !writing_ && pending_.acks_size() == 0 &&
          !finished_) {
        finished_ = finish = true;
      }
    }
    if (resume) StartRead(&in_);
    if (write) StartWrite(&out_);
    if (finish) Finish(grpc::Status::OK);
  }

  Tickets& desk_;
  Caller caller_;
  v1::StreamTicketsRequest in_;
  v1::StreamTicketsResponse out_;  // the write in progress
  absl::Mutex mu_;
  v1::StreamTicketsResponse pending_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// WatchTickets and WatchTicket: a read's answer, sent at once and again
// whenever it changes. One thread per stream (the console's users are
// few, and each holds one of its HTTP threads anyway) waits for the store
// to acknowledge a write, reads again at most four times a second, and
// writes the answer when it differs from the last one sent.
template <typename Req, typename Resp>
class WatchReadReactor final : public grpc::ServerWriteReactor<Resp> {
 public:
  using Read = absl::Status (Tickets::*)(const Caller&, const Req&, Resp*) const;
  WatchReadReactor(const Authenticator& auth, grpc::CallbackServerContext* ctx, const Req& req,
                   Tickets& desk, Read read)
      : auth_(auth), desk_(desk), req_(req), read_(read) {
    auto caller = auth.Authenticate(*ctx);
    Resp first;
    absl::Status s = caller.ok() ? (desk_.*read_)(*caller, req_, &first) : caller.status();
    if (!s.ok()) {
      this->Finish(ToGrpc(s));
      return;
    }
    caller_ = *std::move(caller);
    thread_ = std::thread([this, first = std::move(first)]() mutable { Run(std::move(first)); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) stop_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  void OnDone() override {
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();  // Finish ended the call at once, on the stream's own thread
      } else {
        thread_.join();
      }
    }
    delete this;
  }

 private:
  static constexpr absl::Duration kMinInterval = absl::Milliseconds(250);

  bool Stopped() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }

  void Run(Resp page) {
    std::string last;
    uint64_t seen = desk_.Changes();
    grpc::Status end = grpc::Status::OK;
    while (true) {
      std::string bytes = page.SerializeAsString();
      if (bytes != last) {
        absl::MutexLock lock(&mu_);
        if (stop_) break;
        writing_ = true;
        out_.Swap(&page);
        this->StartWrite(&out_);
        auto written = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || stop_; };
        mu_.Await(absl::Condition(&written));
        if (stop_) break;
        last = std::move(bytes);
      }
      const absl::Time listed = absl::Now();
      while (!Stopped()) {
        uint64_t now = desk_.WaitForChange(seen, kMinInterval);
        if (now != seen) {
          seen = now;
          break;
        }
      }
      if (Stopped()) break;
      // A burst of writes is one re-read, not one per write.
      if (absl::Duration wait = kMinInterval - (absl::Now() - listed); wait > absl::ZeroDuration()) {
        absl::SleepFor(wait);
      }
      if (absl::Status s = auth_.Recheck(caller_); !s.ok()) {
        end = ToGrpc(s);
        break;
      }
      page.Clear();
      if (absl::Status s = (desk_.*read_)(caller_, req_, &page); !s.ok()) {
        end = ToGrpc(s);
        break;
      }
    }
    {
      // A write still in flight completes (cancelled) before the end.
      absl::MutexLock lock(&mu_);
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
      mu_.Await(absl::Condition(&idle));
    }
    this->Finish(end);
  }

  const Authenticator& auth_;
  Tickets& desk_;
  const Req req_;
  const Read read_;
  Caller caller_;
  std::thread thread_;
  Resp out_;  // guarded by writing_
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

class TicketServiceImpl final : public v1::TicketService::CallbackService {
 public:
  TicketServiceImpl(const Authenticator* auth, Tickets* desk)
      : auth_(*auth), desk_(*desk) {}

  grpc::ServerUnaryReactor* SubmitTicket(grpc::CallbackServerContext* ctx,
                                         const v1::SubmitTicketRequest* req,
                                         v1::SubmitTicketResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::Submit, desk_);
  }
  grpc::ServerUnaryReactor* SubmitTickets(grpc::CallbackServerContext* ctx,
                                          const v1::SubmitTicketsRequest* req,
                                          v1::SubmitTicketsResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::SubmitBatch, desk_);
  }
  grpc::ServerBidiReactor<v1::StreamTicketsRequest, v1::StreamTicketsResponse>* StreamTickets(
      grpc::CallbackServerContext* ctx) override {
    return new TicketStreamReactor(auth_, ctx, desk_);
  }
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx,
                                      const v1::GetTicketRequest* req,
                                      v1::GetTicketResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Tickets::Get, desk_);
  }
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const v1::ListTicketsRequest* req,
                                        v1::ListTicketsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Tickets::List, desk_);
  }
  grpc::ServerWriteReactor<v1::ListTicketsResponse>* WatchTickets(grpc::CallbackServerContext* ctx,
                                                                  const v1::ListTicketsRequest* req) override {
    return new WatchReadReactor<v1::ListTicketsRequest, v1::ListTicketsResponse>(auth_, ctx, *req, desk_,
                                                                                 &Tickets::List);
  }
  grpc::ServerWriteReactor<v1::GetTicketResponse>* WatchTicket(grpc::CallbackServerContext* ctx,
                                                               const v1::GetTicketRequest* req) override {
    return new WatchReadReactor<v1::GetTicketRequest, v1::GetTicketResponse>(auth_, ctx, *req, desk_, &Tickets::Get);
  }
  grpc::ServerUnaryReactor* ListPlayerTickets(grpc::CallbackServerContext* ctx,
                                              const v1::ListPlayerTicketsRequest* req,
                                              v1::ListTicketsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Tickets::ListForPlayer, desk_);
  }
  grpc::ServerUnaryReactor* AssignTicket(grpc::CallbackServerContext* ctx,
                                         const v1::AssignTicketRequest* req,
                                         v1::AssignTicketResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::Assign, desk_);
  }
  grpc::ServerUnaryReactor* AddMessage(grpc::CallbackServerContext* ctx,
                                       const v1::AddMessageRequest* req,
                                       v1::AddMessageResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::AddMessage, desk_);
  }
  grpc::ServerUnaryReactor* PullNextTicket(grpc::CallbackServerContext* ctx,
                                           const v1::PullNextTicketRequest* req,
                                           v1::PullNextTicketResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::PullNext, desk_);
  }
  grpc::ServerUnaryReactor* EscalateTicket(grpc::CallbackServerContext* ctx,
                                           const v1::EscalateTicketRequest* req,
                                           v1::EscalateTicketResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::Escalate, desk_);
  }

  grpc::ServerUnaryReactor* MarkTicketRead(grpc::CallbackServerContext* ctx,
                                           const v1::MarkTicketReadRequest* req,
                                           v1::MarkTicketReadResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::MarkRead, desk_);
  }
  grpc::ServerUnaryReactor* RateTicket(grpc::CallbackServerContext* ctx,
                                       const v1::RateTicketRequest* req,
                                       v1::RateTicketResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::Rate, desk_);
  }
  grpc::ServerUnaryReactor* UpdateTicketStatus(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateTicketStatusRequest* req,
                                               v1::UpdateTicketStatusResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Tickets::UpdateStatus, desk_);
  }

 private:
  const Authenticator& auth_;
  Tickets& desk_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeTicketService(const Authenticator* auth, Tickets* desk) {
  return std::make_unique<TicketServiceImpl>(auth, desk);
}

}  // namespace steward
