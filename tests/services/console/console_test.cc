// The console's HTTP front against a real in-process stewardd: the JSON
// face's answers and every error path, sessions (sign-in, CSRF, idle
// expiry, sign-out), and the headers that keep the page safe.
#include <httplib.h>

#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "steward/v1/reports.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/common/server_fixture.h"

namespace steward {
namespace {

namespace v1 = ::steward::v1;
using nlohmann::json;

class ConsoleTest : public FakeClockServerFixture {
 protected:
  void Configure(Config* c) override {
    assets_ = std::make_unique<test::TempDir>("assets");
    std::ofstream(assets_->str() + "/index.html") << "<!doctype html><title>console</title>";
    c->console.listen = "127.0.0.1:0";
    c->console.assets_dir = assets_->str();
    c->console.session_idle_minutes = 30;
  }
  void SetUp() override {
    FakeClockServerFixture::SetUp();
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->console_port());
  }

  // POST of `body` to the JSON face as `who` (a bearer token).
  httplib::Result Call(const std::string& method, const std::string& body, const std::string& who,
                       const std::string& type = "application/json") {
    httplib::Headers h;
    if (!who.empty()) h.emplace("Authorization", "Bearer tok-" + who);
    return http_->Post(("/steward.v1." + method).c_str(), h, body, type.c_str());
  }
  // With a session cookie instead, and its CSRF token unless "".
  httplib::Result SessionCall(const std::string& method, const std::string& body, const std::string& cookie,
                              const std::string& csrf) {
    httplib::Headers h{{"Cookie", cookie}};
    if (!csrf.empty()) h.emplace("X-Steward-CSRF", csrf);
    return http_->Post(("/steward.v1." + method).c_str(), h, body, "application/json");
  }
  // Signs in as `who`; returns the cookie ("name=value") and the CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& who) {
    auto r = http_->Post("/console/session", json{{"token", "tok-" + who}}.dump(), "application/json");
    EXPECT_EQ(r->status, 200) << r->body;
    std::string cookie = r->get_header_value("Set-Cookie");
    return {cookie.substr(0, cookie.find(';')), json::parse(r->body).at("csrf").get<std::string>()};
  }
  static std::string Code(const httplib::Result& r) { return json::parse(r->body).value("code", ""); }

  uint64_t FileTicket(const std::string& subject) {
    auto stub = v1::TicketService::NewStub(channel_);
    v1::SubmitTicketRequest req;
    req.set_idempotency_key("k-" + subject);
    req.set_category(v1::TICKET_CATEGORY_BUG);
    req.set_subject(subject);
    req.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    auto ctx = Ctx("gs-eu1", "p-7");
    EXPECT_TRUE(stub->SubmitTicket(ctx.get(), req, &resp).ok());
    return resp.ticket().id();
  }

  std::unique_ptr<test::TempDir> assets_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(ConsoleTest, JsonFaceAnswersLikeGrpc) {
  const uint64_t id = FileTicket("Stuck in the harbor wall");
  auto r = Call("TicketService/GetTicket", json{{"ticketId", std::to_string(id)}}.dump(), "agent");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json t = json::parse(r->body).at("ticket");
  EXPECT_EQ(t.at("subject"), "Stuck in the harbor wall");
  EXPECT_EQ(t.at("status"), "TICKET_STATUS_NEW");
  EXPECT_EQ(t.at("playerId"), "p-7");
  // Zero values are shown too, so a page never guesses.
  EXPECT_EQ(t.at("assignee"), "");
  // An empty body is the empty request.
  r = Call("TicketService/ListTickets", "", "agent");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body).at("tickets").size(), 1u);
  // A mutation through the face is audited as the caller.
  r = Call("TicketService/AssignTicket",
           json{{"ticketId", std::to_string(id)}, {"assignee", "agent"}, {"reason", "mine"}}.dump(), "agent");
  ASSERT_EQ(r->status, 200) << r->body;
  r = Call("AuditService/ListAuditRecords", json{{"target", "ticket/" + std::to_string(id)}}.dump(), "admin");
  ASSERT_EQ(r->status, 200) << r->body;
  bool assigned = false;
  const json audit = json::parse(r->body);
  for (const auto& rec : audit.at("records")) {
    assigned = assigned || (rec.at("action") == "ticket.assign" && rec.at("actor") == "agent");
  }
  EXPECT_TRUE(assigned) << r->body;
}

TEST_F(ConsoleTest, EveryErrorPathHasItsCodeAndStatus) {
  struct Case {
    std::string what, method, body, who, type;
    int status;
    std::string code;
  };
  const std::string big(5 << 20, ' ');
  const std::vector<Case> cases = {
      {"bad JSON", "TicketService/ListTickets", "{\"pageSize\": 3", "agent", "application/json", 400, "invalid_argument"},
      {"wrong type", "TicketService/ListTickets", "{\"pageSize\": \"many\"}", "agent", "application/json", 400,
       "invalid_argument"},
      {"unknown field", "TicketService/ListTickets", "{\"colour\": 1}", "agent", "application/json", 400,
       "invalid_argument"},
      {"unknown method", "TicketService/Nope", "{}", "agent", "application/json", 501, "unimplemented"},
      {"unknown service", "NopeService/ListTickets", "{}", "agent", "application/json", 501, "unimplemented"},
      {"a client stream", "TicketService/StreamTickets", "{}", "agent", "application/json", 501, "unimplemented"},
      {"not JSON", "TicketService/ListTickets", "{}", "agent", "text/plain", 415, "invalid_argument"},
      {"too large", "TicketService/ListTickets", big, "agent", "application/json", 429, "resource_exhausted"},
      {"no credentials", "TicketService/ListTickets", "{}", "", "application/json", 401, "unauthenticated"},
      {"unknown token", "TicketService/ListTickets", "{}", "nobody", "application/json", 401, "unauthenticated"},
      {"role too low", "AuditService/VerifyAuditChain", "{}", "agent", "application/json", 403, "permission_denied"},
      {"service validation", "TicketService/GetTicket", "{\"ticketId\": \"424242\"}", "agent", "application/json", 404,
       "not_found"},
  };
  for (const Case& c : cases) {
    auto r = Call(c.method, c.body, c.who, c.type);
    ASSERT_TRUE(r) << c.what;
    EXPECT_EQ(r->status, c.status) << c.what << ": " << r->body;
    EXPECT_EQ(Code(r), c.code) << c.what << ": " << r->body;
    EXPECT_FALSE(json::parse(r->body).value("message", "").empty()) << c.what;
  }
}

TEST_F(ConsoleTest, SessionsNeedCsrfExpireWhenIdleAndEndAtSignOut) {
  // Only GM tokens open a session; the page never gets the token back.
  auto r = http_->Post("/console/session", json{{"token", "tok-gs-eu1"}}.dump(), "application/json");
  EXPECT_EQ(r->status, 401);
  r = http_->Post("/console/session", "not json", "application/json");
  EXPECT_EQ(r->status, 400);
  r = http_->Post("/console/session", json{{"token", "tok-agent"}}.dump(), "application/json");
  ASSERT_EQ(r->status, 200);
  const std::string set_cookie = r->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(r->body.find("tok-agent"), std::string::npos);
  EXPECT_EQ(json::parse(r->body).at("role"), "agent");
  auto [cookie, csrf] = SignIn("agent");

  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, "")->status, 403);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, "0000")->status, 403);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, csrf)->status, 200);
  // The session carries the agent's role, no more.
  auto denied = SessionCall("AuditService/ListAuditRecords", "{}", cookie, csrf);
  EXPECT_EQ(denied->status, 403) << denied->body;

  // Use keeps it alive; 30 idle minutes end it.
  fake_clock_.AdvanceMs(25 * 60'000);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, csrf)->status, 200);
  fake_clock_.AdvanceMs(25 * 60'000);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, csrf)->status, 200);
  fake_clock_.AdvanceMs(31 * 60'000);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie, csrf)->status, 401);

  // Sign-out needs the CSRF token, then the session is gone.
  auto [cookie2, csrf2] = SignIn("lead");
  EXPECT_EQ(http_->Delete("/console/session", {{"Cookie", cookie2}})->status, 403);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie2, csrf2)->status, 200);
  auto out = http_->Delete("/console/session", {{"Cookie", cookie2}, {"X-Steward-CSRF", csrf2}});
  EXPECT_EQ(out->status, 200);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(SessionCall("TicketService/ListTickets", "{}", cookie2, csrf2)->status, 401);
  EXPECT_EQ(http_->Get("/console/session", {{"Cookie", cookie2}})->status, 401);
}

TEST_F(ConsoleTest, FailedSignInsFromOneAddressAreLimited) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(http_->Post("/console/session", json{{"token", "guess"}}.dump(), "application/json")->status, 401);
  }
  auto r = http_->Post("/console/session", json{{"token", "tok-agent"}}.dump(), "application/json");
  EXPECT_EQ(r->status, 429) << r->body;
  fake_clock_.AdvanceMs(61'000);
  EXPECT_EQ(http_->Post("/console/session", json{{"token", "tok-agent"}}.dump(), "application/json")->status, 200);
}

TEST_F(ConsoleTest, EveryResponseCarriesTheSafetyHeaders) {
  std::vector<httplib::Result> replies;
  replies.push_back(http_->Get("/"));
  replies.push_back(Call("TicketService/ListTickets", "{}", "agent"));
  replies.push_back(Call("TicketService/Nope", "{}", "agent"));
  for (const auto& r : replies) {
    ASSERT_TRUE(r);
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY");
  }
  auto index = http_->Get("/");
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("<title>console</title>"), std::string::npos);
}

// A player's upload is served as a download with its stored type, in a
// sandbox, never inline; the caller's role is checked as for GetAttachment.
TEST_F(ConsoleTest, AttachmentsAreDownloadsNeverPages) {
  auto stub = v1::ReportService::NewStub(channel_);
  v1::SubmitBugRequest b;
  b.set_idempotency_key("bug-1");
  b.set_title("Map tiles flicker");
  b.set_severity(v1::BUG_SEVERITY_S3);
  b.set_realm_id("eu1");
  b.set_build("1.4.2");
  b.set_platform("windows");
  b.set_repro_steps("Open the map");
  auto* a = b.add_attachments();
  a->set_name("client <log>.txt");
  a->set_content_type("text/plain");
  a->set_data("line 1\n<script>alert(1)</script>\n");
  v1::SubmitBugResponse resp;
  auto ctx = Ctx("gs-eu1", "p-7");
  ASSERT_TRUE(stub->SubmitBug(ctx.get(), b, &resp).ok());
  const std::string path = "/console/attachment/" + std::to_string(resp.report().id()) + "/0";
  auto r = http_->Get(path.c_str(), {{"Authorization", "Bearer tok-agent"}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, a->data());
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"client__log_.txt\"");
  EXPECT_EQ(r->get_header_value("Content-Security-Policy").rfind("sandbox", 0), 0u);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(http_->Get(path.c_str())->status, 401);
  EXPECT_EQ(http_->Get(("/console/attachment/" + std::to_string(resp.report().id()) + "/7").c_str(),
                       {{"Authorization", "Bearer tok-agent"}})->status, 404);
}

}  // namespace
}  // namespace steward
