#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/audit.h"
#include "services/auth.h"
#include "services/grpc_status.h"
#include "services/tickets.h"
#include "services/validation.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward {
namespace {

// The thin gRPC layer: authenticate, hand to the domain, map the status.
// Reads answer inline (RocksDB point reads and short scans); writes finish
// from the store's commit completion, so no reaction waits on an fsync.
template <typename Req, typename Resp>
grpc::ServerUnaryReactor* Read(
    const Authenticator& auth, grpc::CallbackServerContext* ctx,
    const Req* req, Resp* resp,
    absl::Status (TicketDesk::*fn)(const Caller&, const Req&, Resp*) const,
    const TicketDesk& desk) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  absl::Status s = caller.ok() ? (desk.*fn)(*caller, *req, resp) : caller.status();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* Write(
    const Authenticator& auth, grpc::CallbackServerContext* ctx,
    const Req* req, Resp* resp,
    void (TicketDesk::*fn)(const Caller&, const Req&, Resp*, storage::DoneFn),
    TicketDesk& desk) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = auth.Authenticate(*ctx);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  (desk.*fn)(*caller, *req, resp,
             [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

class TicketServiceImpl final : public v1::TicketService::CallbackService {
 public:
  TicketServiceImpl(const Authenticator* auth, TicketDesk* desk)
      : auth_(*auth), desk_(*desk) {}

  grpc::ServerUnaryReactor* SubmitTicket(grpc::CallbackServerContext* ctx,
                                         const v1::SubmitTicketRequest* req,
                                         v1::SubmitTicketResponse* resp) override {
    return Write(auth_, ctx, req, resp, &TicketDesk::Submit, desk_);
  }
  grpc::ServerUnaryReactor* SubmitTickets(grpc::CallbackServerContext* ctx,
                                          const v1::SubmitTicketsRequest* req,
                                          v1::SubmitTicketsResponse* resp) override {
    return Write(auth_, ctx, req, resp, &TicketDesk::SubmitBatch, desk_);
  }
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx,
                                      const v1::GetTicketRequest* req,
                                      v1::GetTicketResponse* resp) override {
    return Read(auth_, ctx, req, resp, &TicketDesk::Get, desk_);
  }
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const v1::ListTicketsRequest* req,
                                        v1::ListTicketsResponse* resp) override {
    return Read(auth_, ctx, req, resp, &TicketDesk::List, desk_);
  }
  grpc::ServerUnaryReactor* ListPlayerTickets(grpc::CallbackServerContext* ctx,
                                              const v1::ListPlayerTicketsRequest* req,
                                              v1::ListTicketsResponse* resp) override {
    return Read(auth_, ctx, req, resp, &TicketDesk::ListForPlayer, desk_);
  }
  grpc::ServerUnaryReactor* AssignTicket(grpc::CallbackServerContext* ctx,
                                         const v1::AssignTicketRequest* req,
                                         v1::AssignTicketResponse* resp) override {
    return Write(auth_, ctx, req, resp, &TicketDesk::Assign, desk_);
  }
  grpc::ServerUnaryReactor* AddMessage(grpc::CallbackServerContext* ctx,
                                       const v1::AddMessageRequest* req,
                                       v1::AddMessageResponse* resp) override {
    return Write(auth_, ctx, req, resp, &TicketDesk::AddMessage, desk_);
  }
  grpc::ServerUnaryReactor* UpdateTicketStatus(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateTicketStatusRequest* req,
                                               v1::UpdateTicketStatusResponse* resp) override {
    return Write(auth_, ctx, req, resp, &TicketDesk::UpdateStatus, desk_);
  }

 private:
  const Authenticator& auth_;
  TicketDesk& desk_;
};

class AuditServiceImpl final : public v1::AuditService::CallbackService {
 public:
  AuditServiceImpl(const Authenticator* auth, const storage::Store* store)
      : auth_(*auth), store_(*store) {}

  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* ctx,
                                      const v1::ListAuditRequest* req,
                                      v1::ListAuditResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    auto caller = auth_.Authenticate(*ctx);
    absl::Status s = caller.ok() ? steward::ListAudit(store_, *caller, *req, resp)
                                 : caller.status();
    reactor->Finish(ToGrpc(s));
    return reactor;
  }

 private:
  const Authenticator& auth_;
  const storage::Store& store_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, " ", path, " cannot be read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const TlsConfig& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError("tls.client_ca_file needs tls.cert_file and tls.key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both tls.cert_file and tls.key_file");
  }
  grpc::SslServerCredentialsOptions opts;
  auto cert = ReadFile(tls.cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(tls.key_file, "TLS key");
  if (!key.ok()) return key.status();
  opts.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca_file.empty()) {
    auto ca = ReadFile(tls.client_ca_file, "TLS client CA");
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = *ca;
    opts.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(opts);
}

}  // namespace

struct StewardServer::Rep {
  Authenticator auth;
  TicketDesk desk;
  TicketServiceImpl tickets;
  AuditServiceImpl audit;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool stopped = false;

  Rep(const Config& config, storage::Store* store)
      : auth(config.principals),
        desk(store, &auth),
        tickets(&auth, &desk),
        audit(&auth, store) {}
};

absl::StatusOr<std::unique_ptr<StewardServer>> StewardServer::Start(
    const Config& config, storage::Store* store) {
  auto creds = MakeCredentials(config.tls);
  if (!creds.ok()) return creds.status();
  auto rep = std::make_unique<Rep>(config, store);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, *creds, &rep->port);
  builder.RegisterService(&rep->tickets);
  builder.RegisterService(&rep->audit);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  // Responses carry at most a page of tickets (500 x ~20 KiB worst case).
  builder.SetMaxSendMessageSize(16 << 20);
  rep->server = builder.BuildAndStart();
  if (rep->server == nullptr || rep->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen,
                                               " (address in use or invalid?)"));
  }
  rep->server->GetHealthCheckService()->SetServingStatus(true);
  return std::unique_ptr<StewardServer>(new StewardServer(std::move(rep)));
}

StewardServer::StewardServer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StewardServer::~StewardServer() { Shutdown(absl::ZeroDuration()); }

int StewardServer::port() const { return rep_->port; }

void StewardServer::Shutdown(absl::Duration grace) {
  if (rep_->stopped) return;
  rep_->stopped = true;
  rep_->server->GetHealthCheckService()->Shutdown();
  rep_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  rep_->server->Wait();
}

}  // namespace steward
