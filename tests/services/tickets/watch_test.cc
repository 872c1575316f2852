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

// One ticket, watched: a GM's reply arrives on the stream.
TEST_F(WatchTicketsTest, AWatchedTicketArrivesAgainWithEachMessage) {
  File("w");
  auto stub = v1::TicketService::NewStub(channel_);
  auto ctx = Ctx("agent");
  v1::GetTicketRequest req;
  req.set_ticket_id(1);
  auto reader = stub->WatchTicket(ctx.get(), req);
  v1::GetTicketResponse got;
  ASSERT_TRUE(reader->Read(&got));
  EXPECT_EQ(got.messages_size(), 0);
  v1::AddMessageRequest msg;
  msg.set_ticket_id(1);
  msg.set_body("We are looking into it.");
  msg.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
  v1::AddMessageResponse added;
  ASSERT_TRUE(stub->AddMessage(Ctx("agent").get(), msg, &added).ok());
  ASSERT_TRUE(reader->Read(&got));
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).body(), "We are looking into it.");
  ctx->TryCancel();
  while (reader->Read(&got)) {
  }
  reader->Finish();
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
