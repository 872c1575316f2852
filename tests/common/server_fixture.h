// A real stewardd in-process: RocksDB in a temp dir, the gRPC server on an
// ephemeral port, and a real channel to it. Principals: GMs admin, sup,
// sup2 (supervisors), lead, agent, agent2; game servers gs-eu1 (realm eu1),
// gs-us1 (realm us1) and gs-eu1-s1 (realm eu1, server eu1-s1). Each token
// is "tok-<name>".
#ifndef STEWARD_TESTS_COMMON_SERVER_FIXTURE_H_
#define STEWARD_TESTS_COMMON_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/server/config.h"
#include "services/server/server.h"
#include "storage/store.h"
#include "tests/common/fixtures.h"

namespace steward {

inline PrincipalConfig Gm(std::string name, Role role) {
  return {.name = name, .kind = PrincipalKind::kGm, .role = role,
          .token_sha256 = Sha256Hex("tok-" + name)};
}
inline PrincipalConfig GameServer(std::string name, std::string realm, std::string server = "") {
  return {.name = name, .kind = PrincipalKind::kGameServer, .realm = realm, .server = server,
          .token_sha256 = Sha256Hex("tok-" + name)};
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<test::TempDir>("svc");
    StartServer();
  }
  void TearDown() override {
    StopServer();
    dir_.reset();
  }

  // Opens the store and starts the server (again), on a new port.
  void StartServer() {
    auto store = storage::Store::Open({.path = dir_->str()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    Config config;
    config.listen = "127.0.0.1:0";
    config.principals = {Gm("admin", Role::kAdmin),     Gm("sup", Role::kSupervisor),
                         Gm("sup2", Role::kSupervisor), Gm("lead", Role::kLead),
                         Gm("agent", Role::kAgent),     Gm("agent2", Role::kAgent),
                         GameServer("gs-eu1", "eu1"),   GameServer("gs-us1", "us1"),
                         GameServer("gs-eu1-s1", "eu1", "eu1-s1")};
    config.reports.custom_categories = {"griefing"};
    Configure(&config);
    auto server = StewardServer::Start(config, store_.get(), clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  // Lets a test's fixture change the config before the server starts.
  virtual void Configure(Config*) {}
  void StopServer() {
    server_.reset();
    store_.reset();
  }

  // Context authenticated as principal `who` ("" = no token), optionally
  // acting for `player`.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& who,
                                                  const std::string& player = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!who.empty()) ctx->AddMetadata("authorization", "Bearer tok-" + who);
    if (!player.empty()) ctx->AddMetadata("x-steward-player", player);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::unique_ptr<test::TempDir> dir_;
  // Where the server reads time; a fixture may point it at a FakeClock
  // in its constructor.
  const Clock* clock_ = Clock::Wall();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StewardServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// The same server with every domain reading time from a FakeClock the test
// moves: hours pass at once. Background work (the time-limit scheduler, the
// announcement scheduler) still runs on real threads that look at the clock
// about once a second, so a test waits for it with test::Eventually.
class FakeClockServerFixture : public ServerFixture {
 protected:
  FakeClockServerFixture() { clock_ = &fake_clock_; }
  FakeClock fake_clock_{1'800'000'000'000};  // 2027-01-15, 08:00 UTC
};

}  // namespace steward

#endif  // STEWARD_TESTS_COMMON_SERVER_FIXTURE_H_
