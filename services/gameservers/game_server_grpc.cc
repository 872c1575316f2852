#include "services/gameservers/gameservers_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/gameserver.grpc.pb.h"

namespace steward {
namespace {

// One game server's directive stream, in the manner of the health
// service's watch reactor: it holds a cursor into the stored directive
// log and, whenever it is idle and the log has grown, writes the next
// matching directives. Backlog and live traffic are the same path.
// Directives carry GMs' replies to players' tickets, so a stream whose
// token was revoked (SIGHUP) ends UNAUTHENTICATED before it would send
// another; the game server reconnects with its new token and resumes
// from its last acknowledged directive.
class WatchReactor final : public grpc::ServerWriteReactor<v1::DirectiveBatch>,
                           public DirectiveWatcher {
 public:
  static constexpr size_t kMaxPerMessage = 256;

  WatchReactor(const Authenticator& auth, grpc::CallbackServerContext* ctx,
               const v1::WatchDirectivesRequest& req, GameServers& servers, DirectiveHub& hub)
      : auth_(auth), hub_(hub) {
    absl::Status s = Begin(auth, ctx, req, servers);
    if (!s.ok()) {
      FinishOnce(ToGrpc(s));
      return;
    }
    if (!hub_.Watch(this)) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return;
    }
    watching_ = true;
    // Tells the client at once that its watch is in place (before any
    // directive exists to carry that news).
    ctx->AddInitialMetadata("x-steward-watch", "ok");
    StartSendInitialMetadata();
    Pump();
  }

  void OnPublished(std::shared_ptr<const PublishedRange> range) override {
    {
      absl::MutexLock lock(&mu_);
      shared_ = std::move(range);
    }
    Pump();
  }
  void OnClose() override {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is shutting down; reconnect with from_last_ack"));
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) failed_ = true;
    }
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    Pump();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (watching_) hub_.Unwatch(this);
    delete this;
  }

 private:
  absl::Status Begin(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                     const v1::WatchDirectivesRequest& req, GameServers& servers) {
    auto caller = auth.Authenticate(*ctx);
    if (!caller.ok()) return caller.status();
    caller_ = *caller;
    auto info = servers.Owned(*caller, req.server_id());
    if (!info.ok()) return info.status();
    realm_ = info->realm_id();
    server_ = info->server_id();
    const uint64_t cursor = req.from_last_ack() ? info->acked_seq() : req.after_seq();
    {
      absl::MutexLock lock(&mu_);  // not shared yet; the lock keeps the analysis whole
      cursor_ = cursor;
    }
    if (cursor > hub_.latest_seq()) {
      return absl::OutOfRangeError(absl::StrCat("after_seq ", cursor,
                                                " is beyond the newest directive (",
                                                hub_.latest_seq(), ")"));
    }
    return absl::OkStatus();
  }

  // Writes the next batch when idle and there is something to send. The
  // write starts under the lock so it can never follow Finish.
  void Pump() {
    grpc::Status error;  // read after the lock: a local, not a member two Pumps share
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_ || failed_) return;
      absl::Status s = auth_.Recheck(caller_);
      while (s.ok()) {
        out_.Clear();
        uint64_t cursor = cursor_;
        s = hub_.Read(cursor_, realm_, server_, kMaxPerMessage, &out_, &cursor, shared_.get());
        if (!s.ok()) break;
        bool advanced = cursor != cursor_;
        cursor_ = cursor;
        if (out_.directives_size() > 0 || out_.missed_through() > 0) {
          writing_ = true;
          StartWrite(&out_);
          return;
        }
        if (!advanced) return;  // nothing new
        // Only other servers' directives so far: keep reading.
      }
      error = ToGrpc(s);
    }
    FinishOnce(error);
  }

  void FinishOnce(const grpc::Status& s) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(s);
  }

  const Authenticator& auth_;
  DirectiveHub& hub_;
  Caller caller_;
  bool watching_ = false;
  std::string realm_, server_;
  absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  // The newest stretch the hub read for every watcher.
  std::shared_ptr<const PublishedRange> shared_ ABSL_GUARDED_BY(mu_);
  v1::DirectiveBatch out_;  // guarded by writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class GameServerServiceImpl final : public v1::GameServerService::CallbackService {
 public:
  GameServerServiceImpl(const Authenticator* auth, GameServers* servers, DirectiveHub* hub)
      : auth_(*auth), servers_(*servers), hub_(*hub) {}

  grpc::ServerUnaryReactor* RegisterServer(grpc::CallbackServerContext* ctx,
                                           const v1::RegisterServerRequest* req,
                                           v1::RegisterServerResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &GameServers::Register, servers_);
  }
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override {
    return UnaryInline(auth_, ctx, req, resp, &GameServers::Heartbeat, servers_);
  }
  grpc::ServerWriteReactor<v1::DirectiveBatch>* WatchDirectives(
      grpc::CallbackServerContext* ctx, const v1::WatchDirectivesRequest* req) override {
    return new WatchReactor(auth_, ctx, *req, servers_, hub_);
  }
  grpc::ServerUnaryReactor* AckDirectives(grpc::CallbackServerContext* ctx,
                                          const v1::AckDirectivesRequest* req,
                                          v1::AckDirectivesResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &GameServers::Ack, servers_);
  }
  grpc::ServerUnaryReactor* ListServers(grpc::CallbackServerContext* ctx,
                                        const v1::ListServersRequest* req,
                                        v1::ListServersResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &GameServers::List, servers_);
  }

 private:
  const Authenticator& auth_;
  GameServers& servers_;
  DirectiveHub& hub_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeGameServerService(const Authenticator* auth,
                                                     GameServers* servers, DirectiveHub* hub) {
  return std::make_unique<GameServerServiceImpl>(auth, servers, hub);
}

}  // namespace steward
