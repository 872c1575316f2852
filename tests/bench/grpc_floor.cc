// grpc_floor: a gRPC server that answers CheckPlayer at once with a fixed
// status and does nothing else, served with stewardd's transport settings
// and threading (the callback API). `make bench` drives it with the same
// moderation_load run as stewardd, so the figures show how much of
// CheckPlayer's latency is the gRPC stack and the machine, and how much is
// Steward's own work (authentication, index lookup).
//
//   grpc_floor --listen 127.0.0.1:0   prints "listening on PORT", serves
//                                     until SIGTERM or SIGINT
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "services/server/server.h"
#include "steward/v1/moderation.grpc.pb.h"

namespace v1 = steward::v1;

namespace {

class FloorModeration final : public v1::ModerationService::CallbackService {
 public:
  grpc::ServerUnaryReactor* CheckPlayer(grpc::CallbackServerContext* ctx,
                                        const v1::CheckPlayerRequest*,
                                        v1::PlayerStatus* resp) override {
    resp->set_can_login(true);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  // moderation_load seeds its banned players first; nothing to keep here.
  grpc::ServerUnaryReactor* BulkIssueSanctions(grpc::CallbackServerContext* ctx,
                                               const v1::BulkIssueSanctionsRequest*,
                                               v1::BulkIssueSanctionsResponse*) override {
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gRPC server that does no work, for calibrating moderation_load"};
  std::string listen = "127.0.0.1:0";
  app.add_option("--listen", listen, "address to serve");
  CLI11_PARSE(app, argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as stewardd does

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before gRPC starts its threads

  FloorModeration service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  steward::ApplyTransportSettings(&builder);
  auto server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "grpc_floor: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown();
  return 0;
}
