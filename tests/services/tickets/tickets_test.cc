// The tickets domain on a real store with a FakeClock: ratings and callbacks,
// time limits across restarts, and the queue.
#include <filesystem>
#include <future>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/gameservers/directives.h"
#include "services/tickets/tickets.h"
#include "services/transport/auth.h"
#include "services/vip/vip.h"
#include "storage/store.h"
#include "tests/common/fixtures.h"
#include "tests/common/server_fixture.h"


namespace steward {
namespace {

namespace v1 = ::steward::v1;

// CSAT and callbacks on the domain with a test clock: the rating window,
// one rating, a rejected solution going to another GM, and the callback a
// resolved complaint leaves.
TEST(TicketRatingTest, WindowOneRatingRejectionAndComplaintCallback) {
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto store = *storage::Store::Open({.path = dir.string()});
  Authenticator auth({GameServer("gs", "eu1"), Gm("ann", Role::kAgent), Gm("bob", Role::kAgent),
                      Gm("lead", Role::kLead)});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  FakeClock clock{1'800'000'000'000};
  Tickets desk(store.get(), &auth, &hub, {.clock = &clock});
  VipOptions vip_options;
  vip_options.clock = &clock;
  VipCare vip(store.get(), &auth, vip_options);
  desk.set_vip(&vip, vip.TierLimits());
  Caller gs = *auth.Authenticate("Bearer tok-gs", "p-1");
  Caller ann = *auth.Authenticate("Bearer tok-ann", "");
  Caller bob = *auth.Authenticate("Bearer tok-bob", "");
  auto wait = [](auto fn) {
    std::promise<absl::Status> p;
    fn([&p](absl::Status s) { p.set_value(s); });
    return p.get_future().get();
  };
  auto file = [&](const std::string& key) {
    v1::SubmitTicketRequest r;
    r.set_idempotency_key(key);
    r.set_category(v1::TICKET_CATEGORY_COMPLAINT);
    r.set_subject("Lost my sword");
    r.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    EXPECT_TRUE(wait([&](auto d) { desk.Submit(gs, r, &resp, std::move(d)); }).ok());
    v1::AssignTicketRequest a;
    a.set_ticket_id(resp.ticket().id());
    a.set_assignee("ann");
    v1::AssignTicketResponse ar;
    EXPECT_TRUE(wait([&](auto d) { desk.Assign(ann, a, &ar, std::move(d)); }).ok());
    v1::UpdateTicketStatusRequest u;
    u.set_ticket_id(resp.ticket().id());
    u.set_status(v1::TICKET_STATUS_RESOLVED);
    v1::UpdateTicketStatusResponse ur;
    EXPECT_TRUE(wait([&](auto d) { desk.UpdateStatus(ann, u, &ur, std::move(d)); }).ok());
    return resp.ticket().id();
  };
  auto rate = [&](uint64_t id, uint32_t score, bool reject, v1::RateTicketResponse* out) {
    v1::RateTicketRequest r;
    r.set_ticket_id(id);
    r.set_score(score);
    r.set_reject(reject);
    return wait([&](auto d) { desk.Rate(gs, r, out, std::move(d)); });
  };

  uint64_t happy = file("t1");
  // A resolved complaint leaves its resolver a callback, due within 72 h.
  v1::ListCareTasksRequest lr;
  lr.set_open_only(true);
  lr.set_owner("ann");
  v1::ListCareTasksResponse callbacks;
  ASSERT_TRUE(vip.ListTasks(ann, lr, &callbacks).ok());
  ASSERT_EQ(callbacks.tasks_size(), 1);
  EXPECT_EQ(callbacks.tasks(0).kind(), v1::CARE_TASK_KIND_CALLBACK);
  EXPECT_EQ(callbacks.tasks(0).ticket_id(), happy);
  EXPECT_EQ(callbacks.tasks(0).due_at_ms(), clock.NowMs() + 72LL * 3600 * 1000);
  v1::RateTicketResponse out;
  EXPECT_EQ(rate(happy, 6, false, &out).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(rate(happy, 5, false, &out).ok());
  EXPECT_FALSE(out.reopened());
  EXPECT_EQ(out.ticket().satisfaction().rated_assignee(), "ann");
  EXPECT_EQ(rate(happy, 4, false, &out).code(), absl::StatusCode::kAlreadyExists);

  uint64_t late = file("t2");
  clock.AdvanceMs(28LL * 24 * 3600 * 1000 + 1);  // one millisecond past the window
  EXPECT_EQ(rate(late, 5, false, &out).code(), absl::StatusCode::kFailedPrecondition);

  uint64_t unhappy = file("t3");
  ASSERT_TRUE(rate(unhappy, 2, false, &out).ok());
  EXPECT_TRUE(out.reopened());
  EXPECT_EQ(out.ticket().status(), v1::TICKET_STATUS_NEW);
  EXPECT_TRUE(out.ticket().assignee().empty());
  v1::AssignTicketRequest again;
  again.set_ticket_id(unhappy);
  again.set_assignee("ann");
  v1::AssignTicketResponse ar;
  EXPECT_EQ(wait([&](auto d) { desk.Assign(ann, again, &ar, std::move(d)); }).code(),
            absl::StatusCode::kFailedPrecondition);
  again.set_assignee("bob");
  EXPECT_TRUE(wait([&](auto d) { desk.Assign(bob, again, &ar, std::move(d)); }).ok());
  store.reset();
  std::filesystem::remove_all(dir);
}

// Time limits with a test clock: pause/resume arithmetic, breaches found
// after a restart from stored deadlines, and the escalation chain.
TEST(SlaTest, PauseResumeBreachAfterRestartAndEscalationOrder) {
  constexpr int64_t kMin = 60 * 1000, kHour = 60 * kMin, kDay = 24 * kHour;
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  Authenticator auth({GameServer("gs", "eu1"), Gm("ann", Role::kAgent), Gm("lead", Role::kLead)});
  Caller gs = *auth.Authenticate("Bearer tok-gs", "p-1");
  Caller ann = *auth.Authenticate("Bearer tok-ann", "");
  FakeClock clock{1'800'000'000'000};
  const int64_t t0 = clock.NowMs();
  auto wait = [](auto fn) {
    std::promise<absl::Status> p;
    fn([&p](absl::Status s) { p.set_value(s); });
    return p.get_future().get();
  };
  uint64_t complaint = 0, question = 0;
  {
    auto store = *storage::Store::Open({.path = dir.string()});
    DirectiveHub hub(store.get());
    ASSERT_TRUE(hub.Init().ok());
    Tickets desk(store.get(), &auth, &hub, {.clock = &clock});
    auto file = [&](const std::string& key, v1::TicketCategory cat) {
      v1::SubmitTicketRequest r;
      r.set_idempotency_key(key);
      r.set_category(cat);
      r.set_subject("Trade went wrong");
      r.mutable_context()->set_realm_id("eu1");
      v1::SubmitTicketResponse resp;
      EXPECT_TRUE(wait([&](auto d) { desk.Submit(gs, r, &resp, std::move(d)); }).ok());
      return resp.ticket();
    };
    v1::Ticket c = file("c", v1::TICKET_CATEGORY_COMPLAINT);
    complaint = c.id();
    EXPECT_EQ(c.sla().dispatch_due_ms(), t0 + 60 * kMin);
    EXPECT_EQ(c.sla().answer_due_ms(), t0 + 3 * kDay);
    question = file("q", v1::TICKET_CATEGORY_QUESTION).id();

    // The complaint is taken in time, answered with a question to the
    // player (the clock pauses), and the player answers two days later.
    clock.SetMs(t0 + 10 * kMin);
    v1::AssignTicketRequest a;
    a.set_ticket_id(complaint);
    a.set_assignee("ann");
    v1::AssignTicketResponse ar;
    ASSERT_TRUE(wait([&](auto d) { desk.Assign(ann, a, &ar, std::move(d)); }).ok());
    EXPECT_EQ(ar.ticket().sla().dispatched_at_ms(), clock.NowMs());
    clock.SetMs(t0 + kHour);
    v1::AddMessageRequest ask;
    ask.set_ticket_id(complaint);
    ask.set_body("Which item did you trade?");
    ask.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
    ask.set_await_player(true);
    v1::AddMessageResponse mr;
    ASSERT_TRUE(wait([&](auto d) { desk.AddMessage(ann, ask, &mr, std::move(d)); }).ok());
    EXPECT_EQ(mr.ticket().sla().paused_since_ms(), clock.NowMs());
    clock.SetMs(t0 + kHour + 2 * kDay);
    v1::AddMessageRequest answer;
    answer.set_ticket_id(complaint);
    answer.set_body("The dragon sword");
    ASSERT_TRUE(wait([&](auto d) { desk.AddMessage(gs, answer, &mr, std::move(d)); }).ok());
    EXPECT_EQ(mr.ticket().sla().paused_since_ms(), 0);
    EXPECT_EQ(mr.ticket().sla().paused_total_ms(), 2 * kDay);
    EXPECT_EQ(mr.ticket().sla().answer_due_ms(), t0 + 5 * kDay);  // moved by the pause

    // By t0 + 4h the question has had no owner for longer than 4 hours.
    clock.SetMs(t0 + 2 * kDay);
    auto breaches = desk.RunSlaOnce();
    ASSERT_TRUE(breaches.ok());
    // (the question: dispatch breached at t0+4h; the complaint: fine)
    EXPECT_EQ(*breaches, 1);
  }
  // Restart: the deadlines come back from the store.
  auto store = *storage::Store::Open({.path = dir.string()});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  Tickets desk(store.get(), &auth, &hub, {.clock = &clock});
  auto get = [&](uint64_t id) {
    v1::GetTicketRequest g;
    g.set_ticket_id(id);
    v1::GetTicketResponse r;
    EXPECT_TRUE(desk.Get(ann, g, &r).ok());
    return r.ticket();
  };
  clock.SetMs(t0 + 5 * kDay - 1);  // one millisecond before the moved due time
  ASSERT_EQ(*desk.RunSlaOnce(), 1);  // only the question's 3-day answer limit
  EXPECT_FALSE(get(complaint).sla().answer_breached());
  clock.SetMs(t0 + 5 * kDay);
  ASSERT_EQ(*desk.RunSlaOnce(), 1);
  v1::Ticket c = get(complaint);
  EXPECT_TRUE(c.sla().answer_breached());
  EXPECT_EQ(c.escalation_level(), 1);
  ASSERT_EQ(c.escalations_size(), 1);
  EXPECT_EQ(c.escalations(0).by(), "steward");
  ASSERT_EQ(*desk.RunSlaOnce(), 0);  // a breach is counted once

  // The question breached twice: lead, then supervisor, in order.
  v1::Ticket q = get(question);
  EXPECT_EQ(q.escalation_level(), 2);
  ASSERT_EQ(q.escalations_size(), 2);
  EXPECT_EQ(q.escalations(0).level(), 1);
  EXPECT_EQ(q.escalations(1).level(), 2);

  // A manual jump to the manager records the skipped supervisor level.
  v1::EscalateTicketRequest e;
  e.set_ticket_id(complaint);
  e.set_level(3);
  e.set_reason("the player threatens legal action");
  v1::EscalateTicketResponse er;
  ASSERT_TRUE(wait([&](auto d) { desk.Escalate(ann, e, &er, std::move(d)); }).ok());
  ASSERT_EQ(er.ticket().escalations_size(), 3);
  EXPECT_TRUE(er.ticket().escalations(1).skipped());
  EXPECT_EQ(er.ticket().escalations(1).level(), 2);
  EXPECT_FALSE(er.ticket().escalations(2).skipped());
  EXPECT_EQ(er.ticket().escalation_level(), 3);
  e.set_level(0);
  EXPECT_EQ(wait([&](auto d) { desk.Escalate(ann, e, &er, std::move(d)); }).code(),
            absl::StatusCode::kFailedPrecondition);
  store.reset();
  std::filesystem::remove_all(dir);
}

// Queues: a GM pulls the unowned ticket closest to its dispatch limit that
// fits the filters; a pulled ticket leaves the queue.
TEST(QueueTest, PullTakesTheSoonestDispatchDeadlineThatFits) {
  constexpr int64_t kMin = 60 * 1000;
  test::TempDir dir_tmp;
  const std::filesystem::path dir = dir_tmp.path();
  auto store = *storage::Store::Open({.path = dir.string()});
  Authenticator auth({GameServer("gs", "eu1"), GameServer("gs-us", "us1"), Gm("ann", Role::kAgent),
                      Gm("bob", Role::kAgent)});
  DirectiveHub hub(store.get());
  ASSERT_TRUE(hub.Init().ok());
  FakeClock clock{1'800'000'000'000};
  Tickets desk(store.get(), &auth, &hub, {.clock = &clock});
  Caller ann = *auth.Authenticate("Bearer tok-ann", "");
  Caller bob = *auth.Authenticate("Bearer tok-bob", "");
  auto wait = [](auto fn) {
    std::promise<absl::Status> p;
    fn([&p](absl::Status s) { p.set_value(s); });
    return p.get_future().get();
  };
  auto file = [&](const char* server, const char* player, v1::TicketCategory cat, const char* lang) {
    Caller gs = *auth.Authenticate(absl::StrCat("Bearer tok-", server), player);
    const char* realm = std::string(server) == "gs" ? "eu1" : "us1";
    v1::SubmitTicketRequest r;
    r.set_idempotency_key(absl::StrCat(player, clock.NowMs()));
    r.set_category(cat);
    r.set_subject("Help");
    r.mutable_context()->set_realm_id(realm);
    r.mutable_context()->set_language(lang);
    v1::SubmitTicketResponse resp;
    EXPECT_TRUE(wait([&](auto d) { desk.Submit(gs, r, &resp, std::move(d)); }).ok());
    return resp.ticket().id();
  };
  auto pull = [&](const Caller& gm, const char* realm, const char* lang, uint64_t* id) {
    v1::PullNextTicketRequest r;
    r.set_realm_id(realm);
    r.set_language(lang);
    v1::PullNextTicketResponse resp;
    absl::Status s = wait([&](auto d) { desk.PullNext(gm, r, &resp, std::move(d)); });
    *id = resp.ticket().id();
    if (s.ok()) EXPECT_EQ(resp.ticket().assignee(), gm.name());
    return s;
  };
  // A question filed first (4 h to dispatch) ranks behind a complaint filed
  // ten minutes later (60 min to dispatch).
  uint64_t question = file("gs", "p-1", v1::TICKET_CATEGORY_QUESTION, "de");
  clock.AdvanceMs(10 * kMin);
  uint64_t complaint = file("gs", "p-2", v1::TICKET_CATEGORY_COMPLAINT, "de");
  uint64_t english = file("gs", "p-3", v1::TICKET_CATEGORY_COMPLAINT, "en");
  uint64_t us = file("gs-us", "p-4", v1::TICKET_CATEGORY_COMPLAINT, "de");

  uint64_t got = 0;
  ASSERT_TRUE(pull(ann, "eu1", "de", &got).ok());
  EXPECT_EQ(got, complaint);
  ASSERT_TRUE(pull(bob, "eu1", "de", &got).ok());
  EXPECT_EQ(got, question);
  EXPECT_EQ(pull(ann, "eu1", "de", &got).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(pull(ann, "", "", &got).ok());
  EXPECT_EQ(got, english);
  ASSERT_TRUE(pull(ann, "", "", &got).ok());
  EXPECT_EQ(got, us);
  EXPECT_EQ(pull(bob, "", "", &got).code(), absl::StatusCode::kNotFound);

  // Bad filters and the wrong caller are refused.
  EXPECT_EQ(pull(ann, "eu 1", "", &got).code(), absl::StatusCode::kInvalidArgument);
  Caller gs = *auth.Authenticate("Bearer tok-gs", "p-1");
  EXPECT_EQ(pull(gs, "", "", &got).code(), absl::StatusCode::kPermissionDenied);
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace steward
