// The thin gRPC layer shared by every unary service: authenticate, hand to
// the domain, map the status. Reads answer inline (RocksDB point reads,
// short scans, memory); writes finish from the store's commit completion,
// so no reaction waits on an fsync.
#ifndef STEWARD_SERVICES_TRANSPORT_REACTORS_H_
#define STEWARD_SERVICES_TRANSPORT_REACTORS_H_

#include <grpcpp/grpcpp.h>

#include "services/transport/auth.h"
#include "services/transport/grpc_status.h"
#include "services/common/slow_lane.h"
#include "storage/store.h"

namespace steward {

template <typename Domain, typename Req, typename Resp>
grpc::ServerUnaryReactor* UnaryRead(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                                    const Req* req, Resp* resp,
                                    absl::Status (Domain::*fn)(const Caller&, const Req&, Resp*)
                                        const,
                                    const Domain& domain) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  absl::Status s = caller.ok() ? (domain.*fn)(*caller, *req, resp) : caller.status();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

// For reads that may scan a lot (reports over long ranges): the same, run
// on `lane` instead of a gRPC thread; RESOURCE_EXHAUSTED when the lane's
// queue is full.
template <typename Domain, typename Req, typename Resp>
grpc::ServerUnaryReactor* UnaryReadSlow(SlowLane& lane, const Authenticator& auth,
                                        grpc::CallbackServerContext* ctx, const Req* req, Resp* resp,
                                        absl::Status (Domain::*fn)(const Caller&, const Req&, Resp*)
                                            const,
                                        const Domain& domain) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  if (!lane.Submit([reactor, c = *std::move(caller), req, resp, fn, &domain] {
        reactor->Finish(ToGrpc((domain.*fn)(c, *req, resp)));
      })) {
    reactor->Finish(ToGrpc(BusyLane()));
  }
  return reactor;
}

// For reads that update in-memory state (heartbeats).
template <typename Domain, typename Req, typename Resp>
grpc::ServerUnaryReactor* UnaryInline(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                                      const Req* req, Resp* resp,
                                      absl::Status (Domain::*fn)(const Caller&, const Req&, Resp*),
                                      Domain& domain) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  absl::Status s = caller.ok() ? (domain.*fn)(*caller, *req, resp) : caller.status();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

template <typename Domain, typename Req, typename Resp>
grpc::ServerUnaryReactor* UnaryWrite(const Authenticator& auth, grpc::CallbackServerContext* ctx,
                                     const Req* req, Resp* resp,
                                     void (Domain::*fn)(const Caller&, const Req&, Resp*,
                                                        storage::DoneFn),
                                     Domain& domain) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  (domain.*fn)(*caller, *req, resp, [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_REACTORS_H_
