// Requests from the network under arbitrary bytes, through the real
// domain objects on a real RocksDB: the first byte picks the request and
// the caller, the rest is parsed as that request's protobuf. Whatever
// comes in, the call answers with a status (never a crash, a hang or a
// sanitizer report), and the store stays consistent enough to keep
// serving.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "tests/common/fixtures.h"
#include "services/gameservers/announcements.h"
#include "services/transport/auth.h"
#include "services/gameservers/directives.h"
#include "services/common/event_batch.h"
#include "services/gameservers/game_servers.h"
#include "services/moderation/moderation.h"
#include "services/monitoring/monitoring.h"
#include "services/reports/reports.h"
#include "services/tickets/tickets.h"
#include "services/vip/vip.h"
#include "storage/store.h"

namespace steward {
namespace {

PrincipalConfig Principal(std::string name, PrincipalKind kind, Role role, std::string realm) {
  return {.name = name, .kind = kind, .role = role, .realm = realm,
          .token_sha256 = Sha256Hex("tok-" + name)};
}

struct World {
  test::TempDir dir{"fuzz_requests"};  // first member: outlives the store
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<DirectiveHub> hub;
  std::unique_ptr<Tickets> desk;
  std::unique_ptr<Moderation> moderation;
  std::unique_ptr<GameServers> servers;
  std::unique_ptr<Announcements> announcements;
  std::unique_ptr<Reports> reports;
  std::unique_ptr<VipCare> vip;
  std::unique_ptr<Monitoring> monitoring;
  Caller gs, lead, admin;

  World() {
    store = *storage::Store::Open({.path = dir.str(), .sync = false});
    auth = std::make_unique<Authenticator>(std::vector<PrincipalConfig>{
        Principal("gs", PrincipalKind::kGameServer, Role::kAgent, "eu1"),
        Principal("lead", PrincipalKind::kGm, Role::kLead, ""),
        Principal("admin", PrincipalKind::kGm, Role::kAdmin, "")});
    hub = std::make_unique<DirectiveHub>(store.get());
    if (!hub->Init().ok()) std::abort();
    desk = std::make_unique<Tickets>(store.get(), auth.get(), hub.get());
    moderation = std::make_unique<Moderation>(store.get(), hub.get());
    if (!moderation->Init().ok()) std::abort();
    servers = std::make_unique<GameServers>(store.get(), hub.get());
    announcements = std::make_unique<Announcements>(store.get(), hub.get(), servers.get());
    if (!announcements->Start().ok()) std::abort();
    reports = std::make_unique<Reports>(store.get(), hub.get());
    vip = std::make_unique<VipCare>(store.get(), auth.get());
    desk->set_vip(vip.get(), vip->TierLimits());
    monitoring = std::make_unique<Monitoring>(store.get(), moderation.get(), reports.get(), MonitoringOptions{});
    if (!monitoring->Init().ok()) std::abort();
    gs = *auth->Authenticate("Bearer tok-gs", "p-1");
    lead = *auth->Authenticate("Bearer tok-lead", "");
    admin = *auth->Authenticate("Bearer tok-admin", "");
  }
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

// Runs a write and waits for its outcome.
template <typename Fn>
absl::Status Wait(Fn fn) {
  std::promise<absl::Status> p;
  fn([&p](absl::Status s) { p.set_value(s); });
  return p.get_future().get();
}

}  // namespace
}  // namespace steward

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace steward;  // NOLINT: test harness
  if (size == 0) return 0;
  World& w = TheWorld();
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const uint8_t pick = data[0];
  const Caller& gm = (pick & 0x80) ? w.admin : w.lead;
  switch (pick % 17) {
    case 0: {
      v1::SubmitTicketRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::SubmitTicketResponse resp;
      (void)Wait([&](auto done) { w.desk->Submit(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 1: {
      v1::ListTicketsRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::ListTicketsResponse resp;
      (void)w.desk->List(gm, req, &resp);
      break;
    }
    case 2: {
      v1::AddMessageRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::AddMessageResponse resp;
      (void)Wait([&](auto done) { w.desk->AddMessage(gm, req, &resp, std::move(done)); });
      break;
    }
    case 3: {
      v1::IssueSanctionRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::IssueSanctionResponse resp;
      (void)Wait([&](auto done) { w.moderation->Issue(gm, req, &resp, std::move(done)); });
      break;
    }
    case 4: {
      v1::BulkIssueSanctionsRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::BulkIssueSanctionsResponse resp;
      (void)Wait([&](auto done) { w.moderation->BulkIssue(gm, req, &resp, std::move(done)); });
      break;
    }
    case 5: {
      v1::CheckPlayerRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::PlayerStatus resp;
      (void)w.moderation->CheckPlayer(w.gs, req, &resp);
      break;
    }
    case 6: {
      v1::FileAppealRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::FileAppealResponse resp;
      (void)Wait([&](auto done) { w.moderation->FileAppeal(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 7: {
      v1::SubmitReportRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::SubmitReportResponse resp;
      (void)Wait([&](auto done) { w.reports->SubmitReport(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 8: {
      v1::SubmitBugRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::SubmitBugResponse resp;
      (void)Wait([&](auto done) { w.reports->SubmitBug(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 9: {
      v1::CreateAnnouncementRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::AnnouncementResponse resp;
      (void)Wait([&](auto done) { w.announcements->Create(gm, req, &resp, std::move(done)); });
      break;
    }
    case 10: {
      v1::ListSanctionsRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::ListSanctionsResponse resp;
      (void)w.moderation->List(gm, req, &resp);
      break;
    }
    case 12: {
      v1::RecordPurchaseRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::VipProfileResponse resp;
      (void)Wait([&](auto done) { w.vip->RecordPurchase(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 13: {
      v1::SetContactRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::VipProfileResponse resp;
      (void)Wait([&](auto done) { w.vip->SetContact(w.gs, req, &resp, std::move(done)); });
      break;
    }
    case 14: {  // an event batch, parsed as stewardd parses it: validated, then through the pipeline
      auto bytes = std::make_shared<std::string>(body);
      auto batch = EventBatchView::Parse(*bytes, bytes, false, w.monitoring->BatchLimits());
      if (!batch.ok()) return 0;
      if (!w.monitoring->ValidateBatch(w.gs, **batch, body.size()).ok()) return 0;
      std::promise<void> p;
      w.monitoring->Ingest(*std::move(batch), [&p](IngestResult) { p.set_value(); });
      p.get_future().wait();
      w.monitoring->pipeline().Sync();
      break;
    }
    case 15: {  // a rule as a lead would save it
      v1::SaveRuleRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::SaveRuleResponse resp;
      (void)Wait([&](auto done) { w.monitoring->SaveRule(w.lead, req, &resp, std::move(done)); });
      break;
    }
    case 16: {
      v1::QueryMetricsRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::QueryMetricsResponse resp;
      (void)w.monitoring->QueryMetrics(gm, req, &resp);
      break;
    }
    default: {
      v1::ListCasesRequest req;
      if (!req.ParseFromString(body)) return 0;
      v1::ListCasesResponse resp;
      (void)w.reports->ListCases(gm, req, &resp);
      break;
    }
  }
  return 0;
}
