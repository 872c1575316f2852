// ticket_load: load generator for SubmitTicket over real gRPC. Keeps
// --concurrency calls in flight over --channels connections for
// --seconds, then prints throughput and latency percentiles. Every ticket
// is durable when acknowledged (the server syncs its WAL per group).
//
// With --acked FILE it also writes "key player id" per acknowledged ticket,
// for crash checks.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "CLI/CLI.hpp"
#include "steward/v1/ticket.grpc.pb.h"

namespace v1 = steward::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string addr = "127.0.0.1:50051";
  std::string token;
  std::string realm = "eu1";
  int concurrency = 128;
  int channels = 4;
  double seconds = 10;
  uint64_t max_calls = 0;  // 0 = until time is up
  int batch = 1;           // >1: SubmitTickets with this many tickets per call
  int streams = 0;         // >0: StreamTickets with this many streams
  int window = 32;         // tickets in flight per stream
  std::string acked_path;
  std::string run_id;
};

class Load;

struct Slot {
  Load* load;
  int index;
  std::unique_ptr<grpc::ClientContext> ctx;
  v1::SubmitTicketRequest req;
  v1::SubmitTicketResponse resp;
  v1::SubmitTicketsRequest batch_req;
  v1::SubmitTicketsResponse batch_resp;
  Clock::time_point started;
  uint64_t tickets_ok = 0;
  std::vector<uint32_t> latencies_us;
  std::vector<std::string> acked;
  uint64_t seq = 0;
  uint64_t errors = 0;
  grpc::Status last_error;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o) {
    for (int i = 0; i < o.channels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("steward.bench.channel", i);  // distinct connection per channel
      stubs_.push_back(v1::TicketService::NewStub(
          grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args)));
    }
    slots_.resize(o.concurrency);
    for (int i = 0; i < o.concurrency; ++i) {
      Slot& s = slots_[i];
      s.load = this;
      s.index = i;
      s.latencies_us.reserve(1 << 16);
      s.req.set_category(v1::TICKET_CATEGORY_BUG);
      s.req.set_subject("Fell through the floor near the harbor");
      s.req.set_description("Player fell through the terrain after the ferry docked; had to relog.");
      auto* ctx = s.req.mutable_context();
      ctx->set_realm_id(o.realm);
      ctx->set_server_id(o.realm + "-s1");
      ctx->set_map("Harbor");
      ctx->mutable_position()->set_x(120.5);
      ctx->mutable_position()->set_y(4.25);
      ctx->set_client_build("1.4.2+8812");
      ctx->set_platform("windows");
      for (int b = 1; b < o.batch; ++b) {
        auto* item = s.batch_req.add_tickets();
        item->set_player_id("p-" + std::to_string((i * o.batch + b) % 1000));
        *item->mutable_ticket() = s.req;
      }
      if (o.batch > 1) {
        auto* item = s.batch_req.add_tickets();
        item->set_player_id("p-" + std::to_string(i % 1000));
        *item->mutable_ticket() = s.req;
      }
    }
  }

  void Run() {
    start_ = Clock::now();
    deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(o_.seconds));
    for (auto& s : slots_) Issue(s);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return idle_ == static_cast<int>(slots_.size()); });
    end_ = Clock::now();
  }

  void Report() {
    std::vector<uint32_t> all;
    uint64_t errors = 0, tickets = 0;
    for (auto& s : slots_) {
      tickets += s.tickets_ok;
      all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
      errors += s.errors;
      if (s.errors && !s.last_error.ok()) {
        std::fprintf(stderr, "error sample: %d %s\n", s.last_error.error_code(),
                     s.last_error.error_message().c_str());
      }
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) -> double {
      if (all.empty()) return 0;
      return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1000.0;
    };
    double secs = std::chrono::duration<double>(end_ - start_).count();
    std::printf("%s: %zu calls ok, %llu failed in %.2f s (concurrency %d, channels %d, %d per call)\n",
                o_.batch > 1 ? "SubmitTickets" : "SubmitTicket", all.size(),
                static_cast<unsigned long long>(errors), secs, o_.concurrency, o_.channels,
                o_.batch);
    std::printf("throughput: %.0f durable tickets/s\n", tickets / secs);
    std::printf("call latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.50),
                pct(0.90), pct(0.99), pct(0.999), all.empty() ? 0.0 : all.back() / 1000.0);
    if (!o_.acked_path.empty()) {
      std::ofstream out(o_.acked_path);
      for (auto& s : slots_) {
        for (auto& line : s.acked) out << line << "\n";
      }
    }
  }

  uint64_t total_ok() const {
    uint64_t n = 0;
    for (auto& s : slots_) n += s.latencies_us.size();
    return n;
  }

 private:
  void Issue(Slot& s) {
    uint64_t n = issued_.fetch_add(1);
    if (Clock::now() >= deadline_ || (o_.max_calls && n >= o_.max_calls)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (++idle_ == static_cast<int>(slots_.size())) cv_.notify_all();
      return;
    }
    s.ctx = std::make_unique<grpc::ClientContext>();
    s.ctx->AddMetadata("authorization", "Bearer " + o_.token);
    s.ctx->AddMetadata("x-steward-player", "p-" + std::to_string(s.index % 1000));
    s.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    s.req.set_idempotency_key(o_.run_id + "-" + std::to_string(s.index) + "-" +
                              std::to_string(s.seq++));
    s.started = Clock::now();
    if (o_.batch > 1) {
      for (auto& item : *s.batch_req.mutable_tickets()) {
        item.mutable_ticket()->set_idempotency_key(o_.run_id + "-" + std::to_string(s.index) +
                                                   "-" + std::to_string(s.seq++));
      }
      stubs_[s.index % stubs_.size()]->async()->SubmitTickets(
          s.ctx.get(), &s.batch_req, &s.batch_resp, [this, &s](grpc::Status st) {
            bool all_ok = st.ok();
            if (st.ok()) {
              for (const auto& r : s.batch_resp.results()) {
                if (r.code() == 0) {
                  ++s.tickets_ok;
                } else {
                  all_ok = false;
                  s.last_error = grpc::Status(static_cast<grpc::StatusCode>(r.code()), r.message());
                }
              }
            } else {
              s.last_error = st;
            }
            if (all_ok) {
              s.latencies_us.push_back(static_cast<uint32_t>(
                  std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s.started)
                      .count()));
            } else {
              ++s.errors;
            }
            Issue(s);
          });
      return;
    }
    stubs_[s.index % stubs_.size()]->async()->SubmitTicket(
        s.ctx.get(), &s.req, &s.resp, [this, &s](grpc::Status st) {
          if (st.ok()) {
            ++s.tickets_ok;
            s.latencies_us.push_back(static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s.started)
                    .count()));
            if (!o_.acked_path.empty()) {
              s.acked.push_back(s.req.idempotency_key() + " p-" + std::to_string(s.index % 1000) +
                                " " + std::to_string(s.resp.ticket().id()));
            }
          } else {
            ++s.errors;
            s.last_error = st;
          }
          Issue(s);
        });
  }

  Options o_;
  std::vector<std::unique_ptr<v1::TicketService::Stub>> stubs_;
  std::vector<Slot> slots_;
  std::atomic<uint64_t> issued_{0};
  Clock::time_point start_, deadline_, end_;
  std::mutex mu_;
  std::condition_variable cv_;
  int idle_ = 0;
};

// One game server's ticket stream: keeps --window tickets in flight, one
// write at a time (as gRPC requires), and measures each ticket from the
// start of its write to its ack.
class TicketStream final
    : public grpc::ClientBidiReactor<v1::StreamTicketsRequest, v1::StreamTicketsResponse> {
 public:
  TicketStream(const Options& o, v1::TicketService::Stub* stub, int index,
               const v1::SubmitTicketRequest& proto, Clock::time_point deadline)
      : o_(o), index_(index), deadline_(deadline) {
    *req_.mutable_ticket()->mutable_ticket() = proto;
    ctx_.AddMetadata("authorization", "Bearer " + o.token);
    latencies_us_.reserve(1 << 18);
    sent_.reserve(1 << 18);
    stub->async()->StreamTickets(&ctx_, this);
    StartRead(&resp_);
    StartCall();
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) broken_ = true;
    }
    Pump();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& ack : resp_.acks()) {
        --in_flight_;
        if (ack.code() != 0) {
          ++errors_;
          last_error_ = grpc::Status(static_cast<grpc::StatusCode>(ack.code()), ack.message());
          continue;
        }
        ++ok_;
        latencies_us_.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent_[ack.request_id()])
                .count()));
        if (!o_.acked_path.empty()) {
          acked_.push_back(Key(ack.request_id()) + " " + Player(ack.request_id()) + " " +
                           std::to_string(ack.ticket_id()));
        }
      }
    }
    StartRead(&resp_);
    Pump();
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      last_error_ = s;
      errors_ += in_flight_;
    }
    done_ = true;
    cv_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

  uint64_t ok_ = 0, errors_ = 0;
  grpc::Status last_error_;
  std::vector<uint32_t> latencies_us_;
  std::vector<std::string> acked_;

 private:
  std::string Key(uint64_t id) const {
    return o_.run_id + "-s" + std::to_string(index_) + "-" + std::to_string(id);
  }
  std::string Player(uint64_t id) const {
    return "p-" + std::to_string((index_ * 7919 + id) % 1000);
  }

  // Starts the next write, or closes the sending side once time is up and
  // every ticket is acked.
  void Pump() {
    enum { kNothing, kWrite, kClose } next = kNothing;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_ || closed_ || broken_) return;
      bool more = Clock::now() < deadline_ &&
                  (o_.max_calls == 0 || sent_.size() < o_.max_calls);
      if (more && in_flight_ < o_.window) {
        uint64_t id = sent_.size();
        req_.set_request_id(id);
        req_.mutable_ticket()->set_player_id(Player(id));
        req_.mutable_ticket()->mutable_ticket()->set_idempotency_key(Key(id));
        sent_.push_back(Clock::now());
        ++in_flight_;
        writing_ = true;
        next = kWrite;
      } else if (!more && in_flight_ == 0) {
        closed_ = true;
        next = kClose;
      }
    }
    if (next == kWrite) StartWrite(&req_);
    if (next == kClose) StartWritesDone();
  }

  const Options& o_;
  const int index_;
  const Clock::time_point deadline_;
  grpc::ClientContext ctx_;
  v1::StreamTicketsRequest req_;
  v1::StreamTicketsResponse resp_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Clock::time_point> sent_;
  int in_flight_ = 0;
  bool writing_ = false, closed_ = false, broken_ = false, done_ = false;
};

int RunStreams(const Options& o) {
  v1::SubmitTicketRequest proto;
  proto.set_category(v1::TICKET_CATEGORY_BUG);
  proto.set_subject("Fell through the floor near the harbor");
  proto.set_description("Player fell through the terrain after the ferry docked; had to relog.");
  auto* ctx = proto.mutable_context();
  ctx->set_realm_id(o.realm);
  ctx->set_server_id(o.realm + "-s1");
  ctx->set_map("Harbor");
  ctx->mutable_position()->set_x(120.5);
  ctx->set_client_build("1.4.2+8812");
  ctx->set_platform("windows");
  std::vector<std::unique_ptr<v1::TicketService::Stub>> stubs;
  for (int i = 0; i < o.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("steward.bench.channel", i);
    stubs.push_back(v1::TicketService::NewStub(
        grpc::CreateCustomChannel(o.addr, grpc::InsecureChannelCredentials(), args)));
  }
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(o.seconds));
  std::vector<std::unique_ptr<TicketStream>> streams;
  for (int i = 0; i < o.streams; ++i) {
    streams.push_back(std::make_unique<TicketStream>(o, stubs[i % stubs.size()].get(), i, proto,
                                                     deadline));
  }
  std::vector<uint32_t> all;
  uint64_t ok = 0, errors = 0;
  std::ofstream acked;
  if (!o.acked_path.empty()) acked.open(o.acked_path);
  for (auto& s : streams) {
    s->Wait();
    ok += s->ok_;
    errors += s->errors_;
    all.insert(all.end(), s->latencies_us_.begin(), s->latencies_us_.end());
    if (!s->last_error_.ok()) {
      std::fprintf(stderr, "error sample: %d %s\n", s->last_error_.error_code(),
                   s->last_error_.error_message().c_str());
    }
    for (auto& line : s->acked_) acked << line << "\n";
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1000.0;
  };
  std::printf("StreamTickets: %llu tickets acked, %llu failed in %.2f s (%d streams, %d in flight each)\n",
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors), secs,
              o.streams, o.window);
  std::printf("throughput: %.0f durable tickets/s\n", ok / secs);
  std::printf("ticket latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.50),
              pct(0.90), pct(0.99), pct(0.999), all.empty() ? 0.0 : all.back() / 1000.0);
  return ok > 0 && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The generator shares the two cores with stewardd: spare it Abseil's
  // debug lock graph, which Debian's build leaves on (gRPC locks too).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o;
  CLI::App app{"ticket_load: SubmitTicket load generator"};
  app.add_option("--addr", o.addr)->capture_default_str();
  app.add_option("--token", o.token, "game-server token")->required();
  app.add_option("--realm", o.realm, "the token's realm")->capture_default_str();
  app.add_option("--concurrency", o.concurrency, "calls in flight")->capture_default_str();
  app.add_option("--channels", o.channels, "connections")->capture_default_str();
  app.add_option("--seconds", o.seconds, "run time")->capture_default_str();
  app.add_option("--max-calls", o.max_calls, "stop after this many calls (0 = no limit)");
  app.add_option("--acked", o.acked_path, "write acknowledged tickets here (unary mode)");
  app.add_option("--batch", o.batch, "tickets per call; >1 uses SubmitTickets")->capture_default_str();
  app.add_option("--streams", o.streams, "use StreamTickets with this many streams")
      ->capture_default_str();
  app.add_option("--window", o.window, "tickets in flight per stream")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.run_id = "load-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  if (o.streams > 0) return RunStreams(o);
  Load load(o);
  load.Run();
  load.Report();
  return load.total_ok() > 0 ? 0 : 1;
}
