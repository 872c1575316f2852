#include "services/audit/audit_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/audit.grpc.pb.h"

namespace steward {
namespace {

class AuditServiceImpl final : public v1::AuditService::CallbackService {
 public:
  AuditServiceImpl(const Authenticator* auth, const storage::Store* store, SlowLane* slow)
      : auth_(*auth), store_(*store), slow_(*slow) {}

  grpc::ServerUnaryReactor* ListAuditRecords(grpc::CallbackServerContext* ctx,
                                      const v1::ListAuditRequest* req,
                                      v1::ListAuditResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    auto caller = auth_.Authenticate(*ctx);
    absl::Status s = caller.ok() ? steward::ListAuditRecords(store_, *caller, *req, resp)
                                 : caller.status();
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  // A full verification reads every record ever written (minutes on a
  // large trail), so it runs on the slow lane and stops when its caller
  // goes away or the server shuts down.
  grpc::ServerUnaryReactor* VerifyAuditChain(grpc::CallbackServerContext* ctx,
                                             const v1::VerifyAuditChainRequest*,
                                             v1::VerifyAuditChainResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    auto caller = auth_.Authenticate(*ctx);
    if (!caller.ok()) {
      reactor->Finish(ToGrpc(caller.status()));
      return reactor;
    }
    if (!slow_.Submit([this, ctx, reactor, c = *std::move(caller), resp] {
          absl::Status s = steward::VerifyAuditChain(store_, c, resp, [this, ctx] {
            return ctx->IsCancelled() || slow_.stopping();
          });
          reactor->Finish(ToGrpc(s));
        })) {
      reactor->Finish(ToGrpc(BusyLane()));
    }
    return reactor;
  }

 private:
  const Authenticator& auth_;
  const storage::Store& store_;
  SlowLane& slow_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuditService(const Authenticator* auth,
                                               const storage::Store* store, SlowLane* slow) {
  return std::make_unique<AuditServiceImpl>(auth, store, slow);
}

}  // namespace steward
