// console_load: what the console's JSON face costs over gRPC, against a
// running stewardd. Files --tickets tickets as a game server, then times
// GetTicket and ListTickets (50 a page) one call at a time, over gRPC and
// over the JSON face (HTTP/1.1 keep-alive), in alternating rounds so both
// see the same machine; prints each path's p50/p99 and the ratio of means.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "steward/v1/ticket.grpc.pb.h"

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Figures {
  std::vector<double> us;
  double Mean() const { return us.empty() ? 0 : std::accumulate(us.begin(), us.end(), 0.0) / us.size(); }
  double Pct(double p) const {
    auto v = us;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p * v.size()))];
  }
};

bool Time(Figures* f, const std::function<bool()>& call) {
  auto t0 = Clock::now();
  bool ok = call();
  f->us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"console_load: the JSON face's cost over gRPC"};
  std::string addr = "127.0.0.1:50051", console = "127.0.0.1:8080", gs_token, gm_token;
  int tickets = 200, calls = 2000, rounds = 4;
  app.add_option("--addr", addr, "stewardd's gRPC address");
  app.add_option("--console", console, "stewardd's console address");
  app.add_option("--gs-token", gs_token)->required();
  app.add_option("--gm-token", gm_token)->required();
  app.add_option("--tickets", tickets, "tickets to file first");
  app.add_option("--calls", calls, "calls per method and path, over all rounds");
  app.add_option("--rounds", rounds, "alternating rounds");
  CLI11_PARSE(app, argc, argv);

  auto stub = v1::TicketService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  auto ctx = [](const std::string& token) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + token);
    return c;
  };
  const std::string run = std::to_string(Clock::now().time_since_epoch().count());
  uint64_t some_id = 0;
  for (int i = 0; i < tickets; ++i) {
    v1::SubmitTicketRequest req;
    req.set_idempotency_key("console-load-" + run + "-" + std::to_string(i));
    req.set_category(v1::TICKET_CATEGORY_QUESTION);
    req.set_subject("How do I reset my talents?");
    req.set_description("I picked the wrong branch at level 20 and want to start over.");
    req.mutable_context()->set_realm_id("eu1");
    v1::SubmitTicketResponse resp;
    auto c = ctx(gs_token);
    c->AddMetadata("x-steward-player", "p-" + std::to_string(i));
    grpc::Status s = stub->SubmitTicket(c.get(), req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "filing tickets: %s\n", s.error_message().c_str());
      return 1;
    }
    some_id = resp.ticket().id();
  }
  const size_t colon = console.rfind(':');
  httplib::Client http(console.substr(0, colon), std::stoi(console.substr(colon + 1)));
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  const httplib::Headers auth{{"Authorization", "Bearer " + gm_token}};
  auto json_call = [&](const char* path, const std::string& body) {
    auto r = http.Post(path, auth, body, "application/json");
    return r && r->status == 200;
  };
  struct Method {
    const char* name;
    std::function<bool()> grpc, json;
    Figures g, j;
  };
  const std::string get_body = "{\"ticketId\": \"" + std::to_string(some_id) + "\"}";
  std::vector<Method> methods;
  methods.push_back({"GetTicket",
                     [&] {
                       v1::GetTicketRequest req;
                       req.set_ticket_id(some_id);
                       v1::GetTicketResponse resp;
                       return stub->GetTicket(ctx(gm_token).get(), req, &resp).ok();
                     },
                     [&] { return json_call("/steward.v1.TicketService/GetTicket", get_body); }});
  methods.push_back({"ListTickets (50)",
                     [&] {
                       v1::ListTicketsRequest req;
                       req.set_page_size(50);
                       v1::ListTicketsResponse resp;
                       return stub->ListTickets(ctx(gm_token).get(), req, &resp).ok();
                     },
                     [&] { return json_call("/steward.v1.TicketService/ListTickets", "{\"pageSize\": 50}"); }});
  int failed = 0;
  for (auto& m : methods) {  // warm both paths
    for (int i = 0; i < 50; ++i) failed += !m.grpc() + !m.json();
  }
  const int per_round = std::max(1, calls / rounds);
  for (int r = 0; r < rounds; ++r) {
    for (auto& m : methods) {
      for (int i = 0; i < per_round; ++i) failed += !Time(&m.g, m.grpc);
      for (int i = 0; i < per_round; ++i) failed += !Time(&m.j, m.json);
    }
  }
  std::printf("JSON face against gRPC, one call at a time (%d calls each, %d alternating rounds, %d failed):\n",
              per_round * rounds, rounds, failed);
  for (const auto& m : methods) {
    std::printf("  %-17s gRPC p50 %7.0f us  p99 %7.0f us | JSON p50 %7.0f us  p99 %7.0f us | mean ratio %.2fx\n",
                m.name, m.g.Pct(0.5), m.g.Pct(0.99), m.j.Pct(0.5), m.j.Pct(0.99), m.j.Mean() / m.g.Mean());
  }
  return failed == 0 ? 0 : 1;
}
