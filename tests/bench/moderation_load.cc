// moderation_load: gRPC figures for moderation and reports against a
// running stewardd.
//
//   check: CheckPlayer. First a closed loop at --concurrency finds the
//     saturation rate; then an open loop at --load (default 0.5) of that
//     rate measures latency from each call's scheduled send time (so a
//     stall counts against every call it delays).
//   directive: a registered game server watches its directive stream
//     while a GM issues --bans temp bans one after another; prints the
//     time from issuing each ban to the server receiving it.
//   reports: SubmitReport from --concurrency callers, half of the reports
//     about 20 notorious players; prints durable reports/s and latency.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <cstdio>
#include <mutex>
#include <sys/prctl.h>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "CLI/CLI.hpp"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "tests/bench/h2_unary.h"

namespace v1 = steward::v1;
using steward::bench::Clock;

namespace {

struct Options {
  std::string addr = "127.0.0.1:50051";
  std::string gs_token, gm_token;
  std::string realm = "eu1";
  int concurrency = 64;
  double seconds = 5;
  double load = 0.5;
  double rate = 0;  // calls/s for the open loop; set: no saturation run
  int players = 10000;  // sanctioned players seeded before the check run
  int channels = 1;     // connections for the check run (game servers)
  std::string client = "grpc";  // check: grpc (the C++ library) or h2 (nghttp2)
  int bans = 500;
  int watchers = 0;  // further game servers watching during the directive run
  bool ack_probe = false;
  int ban_interval_ms = 0;  // directive: least time from one ban to the next  // directive: also time ticket acknowledgements, fleet vs none
};

void Percentiles(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms.empty() ? 0 : ms[std::min(ms.size() - 1, size_t(p * ms.size()))]; };
  std::printf("%s ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%zu)\n", what,
              pct(0.5), pct(0.9), pct(0.99), pct(0.999), ms.empty() ? 0 : ms.back(), ms.size());
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

v1::SanctionSpec Ban(const std::string& player, const std::string& realm) {
  v1::SanctionSpec s;
  s.set_type(v1::SANCTION_TYPE_TEMP_BAN);
  s.set_subject_id(player);
  s.set_duration_ms(3600 * 1000);
  s.mutable_scope()->set_realm_id(realm);
  s.set_reason("Botting in the mines");
  s.set_policy_code("botting");
  return s;
}

int Seed(const Options& o, v1::ModerationService::Stub& mod) {
  // Bulk issues of up to 50 take effect at once (larger ones wait for a
  // second GM).
  std::string run = std::to_string(Clock::now().time_since_epoch().count());
  for (int base = 0; base < o.players; base += 50) {
    v1::BulkIssueSanctionsRequest req;
    req.set_idempotency_key("seed-" + run + "-" + std::to_string(base));
    for (int i = base; i < std::min(o.players, base + 50); ++i) {
      *req.add_specs() = Ban("banned-" + std::to_string(i), o.realm);
    }
    v1::BulkIssueSanctionsResponse resp;
    grpc::Status s = mod.BulkIssueSanctions(Ctx(o.gm_token).get(), req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "seeding failed: %s\n", s.error_message().c_str());
      return 1;
    }
  }
  return 0;
}

v1::CheckPlayerRequest CheckReq(const Options& o, uint64_t n) {
  v1::CheckPlayerRequest q;
  // One login in ten is a sanctioned player.
  q.set_player_id(n % 10 == 0 ? "banned-" + std::to_string(n % o.players)
                              : "player-" + std::to_string(n));
  q.set_realm_id(o.realm);
  q.set_device_hash(std::string(64, 'a' + n % 6));
  return q;
}


// One connection driven through a completion queue. The closed loop is one
// thread that sends a new call as each reply is reaped; the open loop
// (below) sends from one thread and reaps on another. Either way the
// thread that reaps is the one gRPC wakes for the reply, so the generator
// adds no thread hand-offs of its own to the figures.
struct CheckDriver {
  std::unique_ptr<v1::ModerationService::Stub> stub;
  grpc::CompletionQueue cq;
  uint64_t ok = 0, errors = 0;
  // Open loop, one entry per call in send order: when it was due, its
  // latency from then (ms; negative if it failed) and how late the sender
  // sent it (ms). The sender and the reaper write different fields.
  using Timing = steward::bench::CallTiming;
  std::vector<Timing> timings;

  struct Call {
    grpc::ClientContext ctx;
    v1::PlayerStatus resp;
    grpc::Status status;
    Clock::time_point scheduled;
    Timing* timing = nullptr;  // open loop only
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::PlayerStatus>> reader;
  };

  void Send(const Options& o, uint64_t n, Clock::time_point scheduled, Timing* timing = nullptr) {
    auto* c = new Call;
    c->ctx.AddMetadata("authorization", "Bearer " + o.gs_token);
    c->scheduled = scheduled;
    c->timing = timing;
    c->reader = stub->PrepareAsyncCheckPlayer(&c->ctx, CheckReq(o, n), &cq);
    c->reader->StartCall();
    c->reader->Finish(&c->resp, &c->status, c);
  }
  // Accounts for one finished call (latency only for open-loop calls).
  void Reap(Call* c) {
    if (c->status.ok()) {
      ++ok;
      if (c->timing != nullptr) {
        c->timing->lat = std::chrono::duration<double, std::milli>(Clock::now() - c->scheduled).count();
      }
    } else {
      ++errors;
    }
    delete c;
  }

  // Closed loop: keeps `inflight` calls going until `end`.
  void Closed(const Options& o, int inflight, Clock::time_point end, uint64_t first, uint64_t step) {
    uint64_t n = first;
    for (int i = 0; i < inflight; ++i, n += step) Send(o, n, Clock::now());
    int pending = inflight;
    void* tag;
    bool got;
    while (pending > 0 && cq.Next(&tag, &got)) {
      Reap(static_cast<Call*>(tag));
      --pending;
      if (Clock::now() < end) {
        Send(o, n, Clock::now());
        n += step;
        ++pending;
      }
    }
  }

  // Open loop: call i (of this driver) is due at start + i * interval.
  // The sending thread sleeps on a high-resolution timer until each call
  // is due, while a second thread blocks on the queue and timestamps each
  // reply as it lands. (A single thread waiting on the queue with a
  // deadline oversleeps: the queue rounds deadlines to whole milliseconds,
  // which sent calls up to a millisecond late and charged that to the
  // server.) What lag remains is the sender waiting for a CPU.
  void Open(const Options& o, uint64_t calls, Clock::time_point start, Clock::duration interval,
            uint64_t first, uint64_t step) {
    timings.assign(calls, Timing{});
    std::thread reaper([&] {
      void* tag;
      bool got;
      for (uint64_t done = 0; done < calls && cq.Next(&tag, &got); ++done) {
        Reap(static_cast<Call*>(tag));
      }
    });
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake when due, not up to 50 µs later
    for (uint64_t sent = 0; sent < calls; ++sent) {
      auto due = start + interval * static_cast<int64_t>(sent);
      std::this_thread::sleep_until(due);
      Timing& t = timings[sent];
      t.due = due;
      t.lag = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
      Send(o, (first + sent * step) * 7919, due, &t);
    }
    reaper.join();
  }
};

// How the calls over 2 ms are spread in time. A tail made of bursts, in
// which nearly every call of a few milliseconds is late although it left
// the generator on time, is the process or the machine stalling, not the
// calls' own work; slow calls scattered one by one would be the work.
void SlowBursts(std::vector<steward::bench::CallTiming> calls) {
  constexpr double kSlowMs = 2.0;
  constexpr auto kGap = std::chrono::milliseconds(5);  // slow calls this close are one burst
  std::sort(calls.begin(), calls.end(), [](const auto& a, const auto& b) { return a.due < b.due; });
  struct Burst {
    Clock::time_point first, last;
    int calls = 0;
    double worst = 0, lag_sum = 0;
  };
  std::vector<Burst> bursts;
  size_t slow = 0;
  for (const auto& c : calls) {
    if (c.lat <= kSlowMs) continue;
    ++slow;
    if (bursts.empty() || c.due - bursts.back().last > kGap) bursts.push_back({c.due, c.due});
    Burst& b = bursts.back();
    b.last = c.due;
    ++b.calls;
    b.worst = std::max(b.worst, c.lat);
    b.lag_sum += c.lag;
  }
  size_t in_big = 0;
  for (const auto& b : bursts) in_big += b.calls >= 20 ? b.calls : 0;
  std::printf("  calls over %.0f ms: %zu of %zu, in %zu bursts; %zu of them in bursts of 20 or more calls\n",
              kSlowMs, slow, calls.size(), bursts.size(), in_big);
  std::sort(bursts.begin(), bursts.end(), [](const Burst& a, const Burst& b) { return a.calls > b.calls; });
  for (size_t i = 0; i < bursts.size() && i < 3; ++i) {
    const Burst& b = bursts[i];
    std::printf("    burst of %d calls due over %.1f ms: worst %.2f ms, sender lag mean %.2f ms\n", b.calls,
                std::chrono::duration<double, std::milli>(b.last - b.first).count(), b.worst,
                b.lag_sum / b.calls);
  }
}

// What a check run measured, for printing.
struct CheckRun {
  double rate = 0;
  uint64_t errors = 0;
  std::vector<steward::bench::CallTiming> timed;  // answered open-loop calls
};

void PrintCheck(const Options& o, CheckRun run) {
  std::vector<double> lat, lags;
  for (const auto& t : run.timed) lat.push_back(t.lat), lags.push_back(t.lag);
  const char* via = o.client == "h2" ? " from the HTTP/2 client" : "";
  if (o.rate > 0) {
    std::printf("CheckPlayer open loop at a fixed %.0f calls/s over %d connection(s)%s:\n", run.rate,
                std::max(1, o.channels), via);
  } else {
    std::printf("CheckPlayer open loop at %.0f%% of saturation (%.0f calls/s over %d connection(s)%s):\n",
                o.load * 100, run.rate, std::max(1, o.channels), via);
  }
  Percentiles("  latency", lat);
  Percentiles("  sender lag", lags);
  SlowBursts(std::move(run.timed));
}

// The same runs from the lean HTTP/2 client (h2_unary.h), which leaves the
// server the CPU gRPC's C++ client would take on a shared machine.
int RunCheckH2(const Options& o, v1::ModerationService::Stub& seed_stub) {
  if (Seed(o, seed_stub) != 0) return 1;
  std::printf("seeded %d sanctioned players\n", o.players);
  steward::bench::H2Target target{o.addr, "/steward.v1.ModerationService/CheckPlayer",
                                  {{"authorization", "Bearer " + o.gs_token}}, {}};
  for (uint64_t k = 0; k < 4096; ++k) target.messages.push_back(CheckReq(o, k * 7919).SerializeAsString());
  steward::bench::H2Unary h2(std::move(target));
  const int channels = std::max(1, o.channels);
  const int sat_channels = std::max(4, channels);
  CheckRun run;
  run.rate = o.rate;
  if (run.rate <= 0) {
    auto sat = h2.Closed(sat_channels, std::max(1, o.concurrency / sat_channels), o.seconds);
    const double saturation = sat.ok / sat.seconds;
    std::printf("CheckPlayer saturation: %.0f calls/s (closed loop, %d in flight over %d connection(s), "
                "HTTP/2 client, %llu errors%s%s)\n",
                saturation, o.concurrency, sat_channels, static_cast<unsigned long long>(sat.errors),
                sat.first_error.empty() ? "" : ": ", sat.first_error.c_str());
    run.errors += sat.errors;
    run.rate = saturation * o.load;
  }
  auto open = h2.Open(channels, run.rate, o.seconds);
  if (!open.first_error.empty()) std::printf("  first error: %s\n", open.first_error.c_str());
  run.errors += open.errors;
  for (const auto& t : open.timings) {
    if (t.lat >= 0) run.timed.push_back(t);
  }
  PrintCheck(o, std::move(run));
  return open.errors == 0 && open.ok > 0 ? 0 : 1;
}

int RunCheck(const Options& o) {
  if (o.client == "h2") {
    auto stub = v1::ModerationService::NewStub(grpc::CreateChannel(o.addr, grpc::InsecureChannelCredentials()));
    return RunCheckH2(o, *stub);
  }
  // One connection per game server, each with its own driver thread.
  // The closed loop uses at least four, as one driver thread alone cannot
  // saturate the server; the open loop uses the first --channels of them.
  const int channels = std::max(1, o.channels);
  const int sat_channels = std::max(4, channels);
  std::vector<std::unique_ptr<CheckDriver>> drivers;
  for (int i = 0; i < sat_channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("steward.bench.channel", i);  // a distinct connection each
    auto d = std::make_unique<CheckDriver>();
    d->stub = v1::ModerationService::NewStub(
        grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args));
    drivers.push_back(std::move(d));
  }
  if (Seed(o, *drivers[0]->stub) != 0) return 1;
  std::printf("seeded %d sanctioned players\n", o.players);
  auto run_all = [&](int n, const std::function<void(CheckDriver&, int)>& f) {
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { f(*drivers[i], i); });
    for (auto& t : threads) t.join();
  };
  auto span = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));

  // Closed loop: saturation (unless a fixed --rate compares two servers
  // at the same load).
  uint64_t errors = 0;
  double rate = o.rate;
  if (rate <= 0) {
    auto t0 = Clock::now();
    run_all(sat_channels, [&](CheckDriver& d, int i) {
      d.Closed(o, std::max(1, o.concurrency / sat_channels), t0 + span, i, sat_channels);
    });
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    uint64_t done = 0;
    for (auto& d : drivers) done += d->ok, errors += d->errors, d->ok = d->errors = 0;
    double saturation = done / secs;
    std::printf("CheckPlayer saturation: %.0f calls/s (closed loop, %d in flight over %d connection(s), %llu errors)\n",
                saturation, o.concurrency, sat_channels, static_cast<unsigned long long>(errors));
    rate = saturation * o.load;
  }

  // Open loop at the rate, spread evenly over the drivers.
  uint64_t per_driver = static_cast<uint64_t>(rate * o.seconds / channels);
  auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(channels / rate));
  auto start = Clock::now() + std::chrono::milliseconds(50);
  run_all(channels, [&](CheckDriver& d, int i) {
    d.Open(o, per_driver, start + interval * i / channels, interval, i, channels);
  });
  CheckRun run;
  run.rate = rate;
  for (auto& d : drivers) {
    for (const auto& t : d->timings) {
      if (t.lat >= 0) run.timed.push_back(t);
    }
    errors += d->errors;
  }
  run.errors = errors;
  PrintCheck(o, std::move(run));
  return errors == 0 ? 0 : 1;
}

// Reports intake with a realistic skew: half of all reports name one of 20
// notorious players, the rest spread over 100,000; reporters are drawn
// from a million players.
int RunReports(const Options& o) {
  grpc::ChannelArguments args;
  std::vector<std::unique_ptr<v1::ReportService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    args.SetInt("steward.bench.channel", i);
    stubs.push_back(v1::ReportService::NewStub(
        grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args)));
  }
  struct ReportCall {
    grpc::ClientContext ctx;
    v1::SubmitReportRequest req;
    v1::SubmitReportResponse resp;
    Clock::time_point start;
  };
  std::string run = std::to_string(Clock::now().time_since_epoch().count());
  const uint64_t seed = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  std::atomic<uint64_t> issued{0}, ok{0}, dup{0}, errors{0};
  std::mutex mu;
  std::condition_variable cv;
  int idle = 0;
  std::vector<double> lat;
  std::mutex lat_mu;
  grpc::Status last_error;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.seconds));
  std::function<void(int)> issue = [&](int slot) {
    if (Clock::now() >= end) {
      std::lock_guard<std::mutex> lock(mu);
      if (++idle == o.concurrency) cv.notify_all();
      return;
    }
    uint64_t n = issued.fetch_add(1);
    uint64_t h = (n + seed) * 0x9E3779B97F4A7C15ULL;
    auto* c = new ReportCall;
    c->ctx.AddMetadata("authorization", "Bearer " + o.gs_token);
    c->ctx.AddMetadata("x-steward-player", "player-" + std::to_string((h >> 12) % 1000000));
    c->req.set_idempotency_key(run + "-" + std::to_string(n));
    static constexpr v1::ReportCategory kCats[] = {
        v1::REPORT_CATEGORY_CHEATING, v1::REPORT_CATEGORY_VERBAL_ABUSE, v1::REPORT_CATEGORY_SPAMMING,
        v1::REPORT_CATEGORY_BOTTING, v1::REPORT_CATEGORY_SCAMMING};
    c->req.set_category(kCats[(h >> 40) % 5]);
    c->req.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
    c->req.set_subject_id(((h >> 50) & 1) ? "notorious-" + std::to_string((h >> 20) % 20)
                                          : "player-x" + std::to_string((h >> 24) % 100000));
    c->req.set_realm_id(o.realm);
    c->req.set_server_id(o.realm + "-s1");
    c->req.set_message("Speed hacking near the north gate");
    auto* line = c->req.mutable_evidence()->add_chat();
    line->set_speaker_id(c->req.subject_id());
    line->set_text("get good, cheap gold at my shop");
    c->start = Clock::now();
    stubs[slot % stubs.size()]->async()->SubmitReport(&c->ctx, &c->req, &c->resp, [&, c, slot](grpc::Status s) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - c->start).count();
      if (s.ok()) {
        ok.fetch_add(1);
        std::lock_guard<std::mutex> lock(lat_mu);
        lat.push_back(ms);
      } else if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        dup.fetch_add(1);  // the same reporter about the same subject: by design
      } else {
        errors.fetch_add(1);
        std::lock_guard<std::mutex> lock(lat_mu);
        last_error = s;
      }
      delete c;
      issue(slot);
    });
  };
  auto t0 = Clock::now();
  for (int i = 0; i < o.concurrency; ++i) issue(i);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return idle == o.concurrency; });
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("SubmitReport: %llu accepted, %llu duplicates refused, %llu failed in %.2f s (%d in flight)\n",
              static_cast<unsigned long long>(ok.load()), static_cast<unsigned long long>(dup.load()),
              static_cast<unsigned long long>(errors.load()), secs, o.concurrency);
  if (errors.load() > 0) std::fprintf(stderr, "error sample: %s\n", last_error.error_message().c_str());
  std::printf("throughput: %.0f durable reports/s\n", ok.load() / secs);
  Percentiles("  call latency", lat);
  return errors.load() == 0 ? 0 : 1;
}

// One more registered game server watching its directive stream (the
// callback API, so hundreds need no thread each).
class ExtraWatcher final : public grpc::ClientReadReactor<v1::DirectiveBatch> {
 public:
  // Starts after directive `after_seq` (what the fleet already knows) and
  // calls `on_ready` once the server says the watch is in place.
  ExtraWatcher(v1::GameServerService::Stub& gs, const Options& o, const std::string& server,
               uint64_t after_seq, std::function<void(uint64_t)> on_ban,
               std::function<void()> on_ready)
      : on_ban_(std::move(on_ban)), on_ready_(std::move(on_ready)) {
    ctx_.AddMetadata("authorization", "Bearer " + o.gs_token);
    req_.set_server_id(server);
    req_.set_after_seq(after_seq);
    gs.async()->WatchDirectives(&ctx_, &req_, this);
    StartRead(&batch_);
    StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) on_ready_();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    for (const auto& d : batch_.directives()) {
      if (d.has_sanction()) on_ban_(d.sanction().sanction().id());
    }
    StartRead(&batch_);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void Stop() {
    ctx_.TryCancel();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }

 private:
  grpc::ClientContext ctx_;
  v1::WatchDirectivesRequest req_;
  v1::DirectiveBatch batch_;
  std::function<void(uint64_t)> on_ban_;
  std::function<void()> on_ready_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

int RunDirective(const Options& o) {
  auto channel = grpc::CreateChannel(o.addr, grpc::InsecureChannelCredentials());
  auto mod = v1::ModerationService::NewStub(channel);
  // The game server has its own connection, as it would in production.
  grpc::ChannelArguments args;
  args.SetInt("steward.bench.gs", 1);
  auto gs = v1::GameServerService::NewStub(
      grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args));
  auto register_server = [&](const std::string& server) {
    v1::RegisterServerRequest reg;
    reg.set_server_id(server);
    v1::RegisterServerResponse reg_resp;
    grpc::Status s = gs->RegisterServer(Ctx(o.gs_token).get(), reg, &reg_resp);
    if (!s.ok()) std::fprintf(stderr, "register %s: %s\n", server.c_str(), s.error_message().c_str());
    return s.ok();
  };
  std::string server = o.realm + "-bench";
  if (!register_server(server)) return 1;
  v1::WatchDirectivesRequest w;
  w.set_server_id(server);
  w.set_from_last_ack(true);
  grpc::ClientContext wctx;
  wctx.AddMetadata("authorization", "Bearer " + o.gs_token);
  auto reader = gs->WatchDirectives(&wctx, w);

  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, Clock::time_point> received;  // sanction id -> when
  uint64_t newest_seq = 0;  // the newest directive the watched server has
  int ready = 0;            // fleet watches in place
  // Sanction id -> (watchers that have it, when the last of them got it).
  std::map<uint64_t, std::pair<int, Clock::time_point>> everywhere;
  // The other game servers, spread over a few connections as a fleet's
  // would be over many.
  std::vector<std::unique_ptr<v1::GameServerService::Stub>> fleet;
  for (int c = 0; c < std::min(o.watchers, 4); ++c) {
    grpc::ChannelArguments fa;
    fa.SetInt("steward.bench.fleet", c);
    fleet.push_back(v1::GameServerService::NewStub(
        grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), fa)));
  }
  // Registers the fleet a few calls at a time (ten thousand one by one
  // would take longer than the run).
  {
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> regs;
    for (int t = 0; t < 8; ++t) {
      regs.emplace_back([&] {
        for (int i = next++; i < o.watchers; i = next++) {
          if (!register_server(o.realm + "-fleet-" + std::to_string(i))) ++failed;
        }
      });
    }
    for (auto& t : regs) t.join();
    if (failed > 0) return 1;
  }
  std::thread watch([&] {
    v1::DirectiveBatch b;
    while (reader->Read(&b)) {
      auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& d : b.directives()) {
        if (d.has_sanction()) received.emplace(d.sanction().sanction().id(), now);
        newest_seq = std::max(newest_seq, d.seq());
      }
      cv.notify_all();
    }
  });
  std::string run = std::to_string(Clock::now().time_since_epoch().count());
  std::atomic<int> errors{0};
  // Issues `n` bans one after another; each waits until the watched server
  // (and, with `fleet_size`, every fleet server) has it.
  auto issue_bans = [&](const std::string& phase, int n, int fleet_size, std::vector<double>* lat,
                        std::vector<double>* lat_all) {
    for (int i = 0; i < n; ++i) {
      v1::IssueSanctionRequest req;
      req.set_idempotency_key("ban-" + run + phase + "-" + std::to_string(i));
      *req.mutable_spec() = Ban("cheater-" + std::to_string(i), o.realm);
      v1::IssueSanctionResponse resp;
      auto t0 = Clock::now();
      grpc::Status st = mod->IssueSanction(Ctx(o.gm_token).get(), req, &resp);
      if (!st.ok()) {
        ++errors;
        continue;
      }
      const uint64_t id = resp.sanction().id();
      std::unique_lock<std::mutex> lock(mu);
      bool got = cv.wait_for(lock, std::chrono::seconds(10), [&] {
        return received.count(id) > 0 && (fleet_size == 0 || everywhere[id].first == fleet_size);
      });
      if (!got) {
        ++errors;
        continue;
      }
      lat->push_back(std::chrono::duration<double, std::milli>(received[id] - t0).count());
      if (fleet_size > 0) {
        lat_all->push_back(
            std::chrono::duration<double, std::milli>(std::max(received[id], everywhere[id].second) - t0).count());
      }
      lock.unlock();
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(o.ban_interval_ms));
    }
  };
  // With --ack-probe, a player files tickets one after another while the
  // bans go out; its acknowledgement latency is compared with the fleet
  // connected and without it.
  auto tickets = v1::TicketService::NewStub(
      grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args));
  auto with_probe = [&](const std::string& phase, auto&& body) {
    std::atomic<bool> stop{false};
    std::vector<double> acks;
    std::thread probe([&] {
      for (int i = 0; o.ack_probe && !stop; ++i) {
        v1::SubmitTicketRequest req;
        req.set_idempotency_key("ack-" + run + phase + "-" + std::to_string(i));
        req.set_category(v1::TICKET_CATEGORY_BUG);
        req.set_subject("Stuck behind the harbor gate");
        req.set_description("The gate closed while the player was inside the wall.");
        req.mutable_context()->set_realm_id(o.realm);
        req.mutable_context()->set_server_id(o.realm + "-bench");
        v1::SubmitTicketResponse resp;
        auto ctx = Ctx(o.gs_token);
        ctx->AddMetadata("x-steward-player", "probe-" + std::to_string(i % 100));
        auto t0 = Clock::now();
        grpc::Status st = tickets->SubmitTicket(ctx.get(), req, &resp);
        if (!st.ok()) {
          ++errors;
          continue;
        }
        acks.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    body();
    stop = true;
    probe.join();
    return acks;
  };
  auto p99 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, size_t(0.99 * v.size()))];
  };
  std::vector<double> acks_alone;
  if (o.ack_probe) {
    std::vector<double> lat0, unused;
    acks_alone = with_probe("-alone", [&] { issue_bans("-alone", o.bans, 0, &lat0, &unused); });
    Percentiles("ticket acknowledgement while bans go out, no fleet watching", acks_alone);
  }
  std::vector<std::unique_ptr<ExtraWatcher>> extra;
  uint64_t known;
  {
    std::lock_guard<std::mutex> lock(mu);
    known = newest_seq;
  }
  auto connect_start = Clock::now();
  for (int i = 0; i < o.watchers; ++i) {
    std::string id = o.realm + "-fleet-" + std::to_string(i);
    extra.push_back(std::make_unique<ExtraWatcher>(
        *fleet[i % fleet.size()], o, id, known,
        [&](uint64_t ban) {
          auto now = Clock::now();
          std::lock_guard<std::mutex> lock(mu);
          auto& e = everywhere[ban];
          ++e.first;
          e.second = now;
          cv.notify_all();
        },
        [&] {
          std::lock_guard<std::mutex> lock(mu);
          ++ready;
          cv.notify_all();
        }));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(120), [&] { return ready == o.watchers; })) {
      std::fprintf(stderr, "only %d of %d fleet watches started\n", ready, o.watchers);
      return 1;
    }
  }
  if (o.watchers > 0) {
    std::printf("%d fleet watches in place in %.1f s\n", o.watchers,
                std::chrono::duration<double>(Clock::now() - connect_start).count());
  }
  std::vector<double> lat, lat_all;
  std::vector<double> acks_fleet =
      with_probe("-fleet", [&] { issue_bans("-fleet", o.bans, o.watchers, &lat, &lat_all); });
  wctx.TryCancel();
  watch.join();
  reader->Finish();
  for (auto& e : extra) e->Stop();
  std::printf("ban issued -> directive received by a connected game server (%d bans, %d failed, %d other servers watching):\n",
              o.bans, errors.load(), o.watchers);
  Percentiles("  latency", lat);
  if (o.watchers > 0) Percentiles("  until all servers had it", lat_all);
  if (o.ack_probe) {
    Percentiles(("ticket acknowledgement while bans go out, " + std::to_string(o.watchers) +
                 " servers watching").c_str(), acks_fleet);
    std::printf("ticket acknowledgement p99 with the fleet watching / without: %.2fx\n",
                p99(acks_fleet) / std::max(p99(acks_alone), 1e-9));
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The generator shares the two cores with stewardd: spare it Abseil's
  // debug lock graph, which Debian's build leaves on (gRPC locks too).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o;
  CLI::App app{"moderation_load: CheckPlayer and directive-latency figures over gRPC"};
  app.require_subcommand(1);
  app.add_option("--addr", o.addr)->capture_default_str();
  app.add_option("--gs-token", o.gs_token, "game-server token")->required();
  app.add_option("--gm-token", o.gm_token, "GM token (lead or above)")->required();
  app.add_option("--realm", o.realm, "the game server's realm")->capture_default_str();
  auto* check = app.add_subcommand("check", "CheckPlayer saturation, then latency at --load of it");
  check->add_option("--concurrency", o.concurrency)->capture_default_str();
  check->add_option("--seconds", o.seconds)->capture_default_str();
  check->add_option("--load", o.load, "fraction of saturation")->capture_default_str();
  check->add_option("--rate", o.rate, "fixed calls/s instead (no saturation run), to compare servers");
  check->add_option("--players", o.players, "sanctioned players to seed")->capture_default_str();
  check->add_option("--channels", o.channels, "connections (game servers)")->capture_default_str();
  check->add_option("--client", o.client,
                    "grpc: gRPC's C++ client; h2: a lean HTTP/2 client (nghttp2) speaking the same "
                    "protocol, which leaves the server the CPU the other takes")
      ->check(CLI::IsMember({"grpc", "h2"}))
      ->capture_default_str();
  auto* reports = app.add_subcommand("reports", "player reports intake with a skew");
  reports->add_option("--concurrency", o.concurrency)->capture_default_str();
  reports->add_option("--seconds", o.seconds)->capture_default_str();
  auto* directive = app.add_subcommand("directive", "ban -> directive latency");
  directive->add_option("--bans", o.bans)->capture_default_str();
  directive->add_option("--ban-interval-ms", o.ban_interval_ms, "least time from one ban to the next");
  directive->add_flag("--ack-probe", o.ack_probe,
                      "time ticket acknowledgements while bans go out, without and with the fleet");
  directive->add_option("--watchers", o.watchers, "further game servers of the realm watching")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (check->parsed()) return RunCheck(o);
  if (reports->parsed()) return RunReports(o);
  return RunDirective(o);
}
