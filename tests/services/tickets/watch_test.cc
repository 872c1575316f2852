// WatchTickets over gRPC: the page at once, again when a write changes it
// (and not when nothing changed), GMs only, and a clean end on cancel.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "gtest/gtest.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;

class WatchTicketsTest : public ServerFixture {
 protected:
  void File(const std::string& key) {
    auto stub = v1::TicketService::NewStub(channel_);
    v1::SubmitTicketRequest req;
    req.set_idempotency_key(key);
    req.set_category(v1::TICKET_CATEGORY_QUESTION);
    req.set_subject("subject " + key);
    req.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    ASSERT_TRUE(stub->SubmitTicket(Ctx("gs-eu1", "p-" + key).get(), req, &resp).ok());
  }
};

TEST_F(WatchTicketsTest, ThePageArrivesAtOnceAndAgainWhenItChanges) {
  File("a");
  auto stub = v1::TicketService::NewStub(channel_);
  auto ctx = Ctx("agent");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ListTicketsRequest req;
  req.set_category(v1::TICKET_CATEGORY_QUESTION);
  auto reader = stub->WatchTickets(ctx.get(), req);
  v1::ListTicketsResponse page;
  ASSERT_TRUE(reader->Read(&page));
  EXPECT_EQ(page.tickets_size(), 1);
  File("b");
  ASSERT_TRUE(reader->Read(&page));
  EXPECT_EQ(page.tickets_size(), 2) << "the new ticket did not arrive";
  EXPECT_EQ(page.tickets(0).subject(), "subject b");  // newest first
  // A write outside the page sends nothing; the next change to it does.
  {
    auto other = v1::TicketService::NewStub(channel_);
    v1::SubmitTicketRequest bug;
    bug.set_idempotency_key("c");
    bug.set_category(v1::TICKET_CATEGORY_BUG);
    bug.set_subject("a bug");
    bug.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse r;
    ASSERT_TRUE(other->SubmitTicket(Ctx("gs-eu1", "p-c").get(), bug, &r).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  File("d");
  ASSERT_TRUE(reader->Read(&page));
  EXPECT_EQ(page.tickets_size(), 3) << "a page was sent for a change outside it";
  ctx->TryCancel();
  while (reader->Read(&page)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(WatchTicketsTest, OnlyGmsMayWatch) {
  auto stub = v1::TicketService::NewStub(channel_);
  auto ctx = Ctx("gs-eu1");
  auto reader = stub->WatchTickets(ctx.get(), v1::ListTicketsRequest());
  v1::ListTicketsResponse page;
  EXPECT_FALSE(reader->Read(&page));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace steward
