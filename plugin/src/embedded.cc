#include "src/embedded.h"

#include <grpcpp/grpcpp.h>

#include "services/server/config.h"
#include "services/server/server.h"
#include "storage/store.h"

namespace steward {
namespace {

class ServerHost final : public EmbeddedHost {
 public:
  ServerHost(std::unique_ptr<storage::Store> store, std::unique_ptr<StewardServer> server)
      : store_(std::move(store)), server_(std::move(server)) {}
  ~ServerHost() override {
    server_->Shutdown(absl::Seconds(2));
    server_.reset();
    store_.reset();
  }
  std::shared_ptr<grpc::Channel> channel() override { return server_->InProcessChannel(); }
  int port() const override { return server_->port(); }

 private:
  std::unique_ptr<storage::Store> store_;  // outlives the server
  std::unique_ptr<StewardServer> server_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedHost>> StartEmbedded(const Options& o, const std::string& token) {
  Config config;
  if (!o.config_file.empty()) {
    auto c = LoadConfigFile(o.config_file);
    if (!c.ok()) return c.status();
    config = *std::move(c);
  }
  config.listen = o.listen;
  config.data_dir = o.data_dir;
  PrincipalConfig self;
  self.name = "plugin-" + o.server_id;
  self.kind = PrincipalKind::kGameServer;
  self.realm = o.realm_id;
  self.server = o.server_id;
  self.token_sha256 = Sha256Hex(token);
  config.principals.push_back(self);
  auto store = storage::Store::Open({.path = o.data_dir});
  if (!store.ok()) return store.status();
  auto server = StewardServer::Start(config, store->get());
  if (!server.ok()) return server.status();
  return std::make_unique<ServerHost>(*std::move(store), *std::move(server));
}

}  // namespace steward
