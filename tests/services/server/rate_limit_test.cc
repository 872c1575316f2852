// Per-principal call rates: a principal past its calls a second is refused
// with RESOURCE_EXHAUSTED and a message saying so; others are not slowed;
// the allowance refills with time. And [limits] in the config reaches each
// principal by role.
#include <thread>

#include "gtest/gtest.h"
#include "services/server/config.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;

class RateLimitTest : public ServerFixture {
 protected:
  void Configure(Config* c) override {
    for (auto& p : c->principals) {
      if (p.name == "agent") p.calls_per_second = 5;  // bursts of 10
    }
  }
  grpc::Status List(const std::string& who) {
    auto stub = v1::TicketService::NewStub(channel_);
    v1::ListTicketsRequest req;
    v1::ListTicketsResponse resp;
    return stub->ListTickets(Ctx(who).get(), req, &resp);
  }
};

TEST_F(RateLimitTest, APrincipalPastItsRateIsRefusedAndOthersAreNot) {
  int ok = 0;
  grpc::Status refused;
  for (int i = 0; i < 30; ++i) {
    grpc::Status s = List("agent");
    if (s.ok()) {
      ++ok;
    } else {
      refused = s;
    }
  }
  EXPECT_GE(ok, 10);
  EXPECT_LT(ok, 30) << "30 calls at once passed a limit of 5 a second";
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("agent is over its limit of 5 calls a second"), std::string::npos)
      << refused.error_message();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(List("agent2").ok()) << "another principal was slowed";
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_TRUE(List("agent").ok()) << "the allowance did not refill";
}

TEST(LimitsConfigTest, RolesTakeTheirLimitAndAPrincipalsOwnWins) {
  auto c = ParseConfig(R"(
[limits]
agent = 7
admin = 0
game_server = 900
[[principals]]
name = "ann"
kind = "gm"
role = "agent"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000001"
[[principals]]
name = "root"
kind = "gm"
role = "admin"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000002"
[[principals]]
name = "gs"
kind = "game_server"
realm = "eu1"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000003"
[[principals]]
name = "bot"
kind = "gm"
role = "agent"
calls_per_second = 2
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000004"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->principals[0].calls_per_second, 7);
  EXPECT_EQ(c->principals[1].calls_per_second, 0);
  EXPECT_EQ(c->principals[2].calls_per_second, 900);
  EXPECT_EQ(c->principals[3].calls_per_second, 2);
  EXPECT_FALSE(ParseConfig("[limits]\nagent = -1\n").ok());
}

}  // namespace
}  // namespace steward
