// The plugin behind plugin/include/steward/plugin.h. One client code path
// for both modes: remote talks gRPC to a stewardd; embedded starts the
// services in-process and talks to them over an in-process channel.
//
// Threads: an event sender (drains the lock-free buffer into a client
// stream), a directive watcher (WatchDirectives, resumes from the last
// acknowledged sequence after any break), and a control thread
// (registration, heartbeats, player look-ups, the submission outbox).
#include "steward/plugin.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <concurrentqueue/concurrentqueue.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/event_batch.h"
#include "services/transport/event_stream.h"
#include "services/transport/tls_files.h"
#include "src/embedded.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward {
namespace {

constexpr size_t kTypeMax = 64, kPlayerMax = 64, kKeyMax = 32, kValueMax = 64,
                 kTextMax = 512;

// The game's std::string_view as the Abseil one the encoder takes (Debian's
// Abseil keeps its own type).
absl::string_view AsView(std::string_view s) { return {s.data(), s.size()}; }

// One buffered event in two cache lines: the strings packed one after
// another (type, player, attribute key, attribute value, text), inline
// when they fit in 96 bytes, else in one heap block (long chat lines).
class EventSlot {
 public:
  static constexpr size_t kInline = 96;
  int64_t time_ms = 0;
  double value = 0;
  uint8_t type_len = 0, player_len = 0, key_len = 0, value_len = 0;
  uint16_t text_len = 0;

  EventSlot() = default;
  EventSlot(const EventSlot&) = delete;
  EventSlot& operator=(const EventSlot&) = delete;
  EventSlot(EventSlot&& o) noexcept { Take(o); }
  EventSlot& operator=(EventSlot&& o) noexcept {
    if (this != &o) {
      delete[] heap_;
      Take(o);
    }
    return *this;
  }
  ~EventSlot() { delete[] heap_; }

  // Copies the strings in; lengths were checked by the caller.
  void Fill(std::string_view type, std::string_view player, std::string_view key,
            std::string_view val, std::string_view text) {
    type_len = static_cast<uint8_t>(type.size());
    player_len = static_cast<uint8_t>(player.size());
    key_len = static_cast<uint8_t>(key.size());
    value_len = static_cast<uint8_t>(val.size());
    text_len = static_cast<uint16_t>(text.size());
    size_t total = type.size() + player.size() + key.size() + val.size() + text.size();
    char* out = inline_;
    if (total > kInline) out = heap_ = new char[total];
    for (std::string_view part : {type, player, key, val, text}) {
      std::memcpy(out, part.data(), part.size());
      out += part.size();
    }
  }
  std::string_view type() const { return {data(), type_len}; }
  std::string_view player() const { return {data() + type_len, player_len}; }
  std::string_view key() const { return {data() + type_len + player_len, key_len}; }
  std::string_view val() const { return {data() + type_len + player_len + key_len, value_len}; }
  std::string_view text() const {
    return {data() + type_len + player_len + key_len + value_len, text_len};
  }

 private:
  const char* data() const { return heap_ != nullptr ? heap_ : inline_; }
  void Take(EventSlot& o) {
    // Whole-object copy: the unused tail of inline_ is copied too, which
    // is cheaper than measuring it.
    std::memcpy(static_cast<void*>(this), &o, sizeof(EventSlot));
    o.heap_ = nullptr;
  }
  char* heap_ = nullptr;
  char inline_[kInline];
};
static_assert(sizeof(EventSlot) == 128, "an event slot is two cache lines");

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

uint64_t NextGeneration() {
  static std::atomic<uint64_t> g{0};
  return ++g;
}

Status FromGrpc(const grpc::Status& s) {
  return {static_cast<StatusCode>(s.error_code()), s.error_message()};
}

bool Transient(grpc::StatusCode c) {
  return c == grpc::UNAVAILABLE || c == grpc::DEADLINE_EXCEEDED || c == grpc::CANCELLED ||
         c == grpc::ABORTED;
}

std::string RandomToken() {
  std::random_device rd;
  std::string t;
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 40; ++i) t += kHex[rd() % 16];
  return t;
}

std::string ShortEnum(const std::string& full, const std::string& prefix) {
  std::string s = full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
  return absl::AsciiStrToLower(s);
}

template <typename E>
bool ParseShort(const std::string& v, const std::string& prefix, bool (*parse)(const std::string&, E*),
                E* out) {
  return parse(prefix + absl::AsciiStrToUpper(v), out);
}

struct CachedRestriction {
  uint64_t id = 0;
  v1::SanctionType type = v1::SANCTION_TYPE_UNSPECIFIED;
  std::string reason;
  int64_t expires_at_ms = 0;
  bool appealable = false;
  std::vector<std::string> features;
};

struct Outgoing {
  enum Kind { kTicket, kReport, kBug } kind;
  uint64_t request_id;
  std::string player_id;
  v1::SubmitTicketRequest ticket;
  v1::SubmitReportRequest report;
  v1::SubmitBugRequest bug;
  int attempts = 0;
};

class PluginImpl final : public Plugin {
 public:
  // The queue starts small and grows to the buffer's bound (queued_ keeps
  // it there); its blocks are then reused, so steady state allocates nothing.
  explicit PluginImpl(Options o) : o_(std::move(o)), queue_(std::min<size_t>(o_.event_buffer, 8192) + 64) {}

  ~PluginImpl() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      // The watch never ends by itself; the event stream gets to send
      // what is buffered first.
      if (watch_ctx_ != nullptr) watch_ctx_->TryCancel();
    }
    cv_.notify_all();
    for (auto* t : {&sender_, &watcher_, &control_}) {
      if (t->joinable()) t->join();
    }
    stats_shed_ += queued_.load();  // never sent
    embedded_.reset();  // stops the in-process server (2 s grace), then its store
    servers_.reset();
    moderation_.reset();
    tickets_.reset();
    reports_.reset();
    channel_.reset();
    staged_.reset();
    if (!stage_root_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(stage_root_, ec);
    }
  }

  // Copies the client certificate, key and CA file into a private
  // directory (0700, under TMPDIR) and points *files at the copy.
  Status StageClientCertificate(TlsFiles* files) {
    std::error_code ec;
    const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    std::string root = (tmp / "steward-tls-XXXXXX").string();
    if (ec || ::mkdtemp(root.data()) == nullptr) {
      return {StatusCode::kFailedPrecondition,
              absl::StrCat("cannot create a private directory for the TLS files in ", tmp.string(),
                           " (TMPDIR): ", ec ? ec.message() : std::strerror(errno))};
    }
    stage_root_ = root;
    auto staged = StagedTlsFiles::Start(*files, (std::filesystem::path(root) / "copy").string(),
                                        absl::Seconds(o_.tls_refresh_seconds),
                                        "game server " + o_.server_id + "'s client");
    if (!staged.ok()) {
      return {static_cast<StatusCode>(staged.status().code()), std::string(staged.status().message())};
    }
    staged_ = *std::move(staged);
    *files = staged_->staged();
    return {};
  }

  Status Start() {
    if (o_.realm_id.empty() || o_.server_id.empty()) {
      return {StatusCode::kInvalidArgument, "Options.realm_id and Options.server_id are required"};
    }
    if (o_.event_buffer == 0 || o_.max_batch_events == 0 || o_.max_batch_events > 4096) {
      return {StatusCode::kInvalidArgument, "event_buffer must be > 0 and max_batch_events 1..4096"};
    }
    if (o_.cache_max_players == 0) {
      return {StatusCode::kInvalidArgument, "cache_max_players must be at least 1"};
    }
    if (o_.mode == Options::Mode::kEmbedded) {
      token_ = RandomToken();
      auto host = StartEmbedded(o_, token_);
      if (!host.ok()) {
        return {static_cast<StatusCode>(host.status().code()), std::string(host.status().message())};
      }
      embedded_ = *std::move(host);
      channel_ = embedded_->channel();
    } else {
      if (o_.token.empty()) return {StatusCode::kInvalidArgument, "remote mode needs Options.token"};
      std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
      if (o_.tls_ca_file.empty() && !(o_.tls_cert_file.empty() && o_.tls_key_file.empty())) {
        return {StatusCode::kInvalidArgument, "a client certificate needs Options.tls_ca_file (TLS)"};
      }
      if (!o_.tls_ca_file.empty()) {
        if (absl::Status s = CheckCaFile(o_.tls_ca_file); !s.ok()) {
          return {StatusCode::kInvalidArgument, std::string(s.message())};
        }
        if (o_.tls_refresh_seconds < 1) {
          return {StatusCode::kInvalidArgument, "Options.tls_refresh_seconds must be at least 1"};
        }
        const bool identity = !o_.tls_cert_file.empty();
        if (identity != !o_.tls_key_file.empty()) {
          return {StatusCode::kInvalidArgument, "Options.tls_cert_file and tls_key_file go together"};
        }
        TlsFiles watched{o_.tls_cert_file, o_.tls_key_file, o_.tls_ca_file, ""};
        unsigned every = static_cast<unsigned>(o_.tls_refresh_seconds);
        if (identity) {
          if (absl::Status s = CheckTlsFiles({o_.tls_cert_file, o_.tls_key_file, "", ""}); !s.ok()) {
            return {StatusCode::kInvalidArgument, std::string(s.message())};
          }
          // gRPC's watcher takes whatever the files hold when it looks, and
          // a new certificate beside the old key would fail every handshake
          // until the key came too. So it watches a checked copy that is
          // switched whole (tls_files.h), in a directory of our own.
          if (Status st = StageClientCertificate(&watched); !st.ok()) return st;
          every = 1;  // the copy changes only after a check
        }
        // The server's certificate is checked against the CA file and
        // against the address's host name.
        namespace gx = grpc::experimental;
        gx::TlsChannelCredentialsOptions to;
        to.set_certificate_provider(std::make_shared<gx::FileWatcherCertificateProvider>(
            watched.key_file, watched.cert_file, watched.ca_file, every));
        to.watch_root_certs();
        if (identity) to.watch_identity_key_cert_pairs();
        to.set_verify_server_certs(true);
        to.set_certificate_verifier(std::make_shared<gx::HostNameCertificateVerifier>());
        creds = gx::TlsCredentials(to);
      }
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, o_.reconnect_min_ms);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, o_.reconnect_max_ms);
      args.SetMaxSendMessageSize(8 << 20);
      channel_ = grpc::CreateCustomChannel(o_.address, creds, args);
      token_ = o_.token;
    }
    servers_ = v1::GameServerService::NewStub(channel_);
    moderation_ = v1::ModerationService::NewStub(channel_);
    tickets_ = v1::TicketService::NewStub(channel_);
    reports_ = v1::ReportService::NewStub(channel_);
    sender_ = std::thread([this] { SendLoop(); });
    watcher_ = std::thread([this] { WatchLoop(); });
    control_ = std::thread([this] { ControlLoop(); });
    return {};
  }

  // ------------------------------------------------------------ game thread

  PlayerStatus CheckPlayer(std::string_view player) override {
    PlayerStatus st;
    {
      absl::ReaderMutexLock l(&cache_mu_);
      auto it = cache_.find(absl::string_view(player.data(), player.size()));
      if (it != cache_.end()) {
        st.known = true;
        const int64_t now = NowMs();
        for (const CachedRestriction& r : it->second) {
          if (r.expires_at_ms != 0 && now >= r.expires_at_ms) continue;
          const int64_t remaining = r.expires_at_ms == 0 ? 0 : r.expires_at_ms - now;
          switch (r.type) {
            case v1::SANCTION_TYPE_BAN:
            case v1::SANCTION_TYPE_TEMP_BAN:
              if (st.can_login) {
                st.can_login = false;
                st.reason = r.reason;
                st.remaining_ms = remaining;
                st.appealable = r.appealable;
                st.sanction_id = r.id;
              }
              break;
            case v1::SANCTION_TYPE_MUTE:
              if (st.can_chat && st.can_login) {
                st.reason = r.reason;
                st.remaining_ms = remaining;
                st.appealable = r.appealable;
                st.sanction_id = r.id;
              }
              st.can_chat = false;
              break;
            case v1::SANCTION_TYPE_SHADOW_MUTE:
              st.shadow_muted = true;
              break;
            case v1::SANCTION_TYPE_RESTRICT:
              for (const auto& f : r.features) st.restricted_features.push_back(f);
              break;
            default:
              break;
          }
        }
        return st;
      }
    }
    cache_misses_.fetch_add(1, std::memory_order_relaxed);
    Prefetch(player);
    return st;
  }

  void Prefetch(std::string_view player) override {
    if (player.empty() || player.size() > kPlayerMax) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!lookups_pending_.insert(std::string(player)).second) return;
      lookups_.emplace_back(player);
    }
    cv_.notify_all();
  }

  void RecordEvent(std::string_view type, std::string_view player, double value, std::string_view text,
                   std::string_view attr_key, std::string_view attr_value, int64_t time_ms) override {
    if (type.empty() || type.size() > kTypeMax || player.size() > kPlayerMax || attr_key.size() > kKeyMax ||
        attr_value.size() > kValueMax || text.size() > kTextMax) {
      stats_shed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= o_.event_buffer) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      stats_shed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    EventSlot s;
    s.time_ms = time_ms;
    s.value = value;
    s.Fill(type, player, attr_key, attr_value, text);
    if (!queue_.enqueue(ProducerFor(), std::move(s))) {  // allocation failure only
      queued_.fetch_sub(1, std::memory_order_relaxed);
      stats_shed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    recorded_.fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t SubmitTicket(const TicketSubmission& t) override {
    auto out = std::make_unique<Outgoing>();
    out->kind = Outgoing::kTicket;
    out->player_id = t.player_id;
    auto& r = out->ticket;
    v1::TicketCategory cat = v1::TICKET_CATEGORY_UNSPECIFIED;
    ParseShort<v1::TicketCategory>(t.category, "TICKET_CATEGORY_", v1::TicketCategory_Parse, &cat);
    r.set_category(cat);
    r.set_subject(t.subject);
    r.set_description(t.description);
    r.set_reported_player_id(t.reported_player_id);
    auto* ctx = r.mutable_context();
    ctx->set_realm_id(o_.realm_id);
    ctx->set_server_id(o_.server_id);
    ctx->set_map(t.map);
    ctx->set_language(t.language);
    ctx->set_client_build(o_.build);
    if (t.x != 0 || t.y != 0 || t.z != 0) {
      ctx->mutable_position()->set_x(t.x);
      ctx->mutable_position()->set_y(t.y);
      ctx->mutable_position()->set_z(t.z);
    }
    return Enqueue(std::move(out), t.idempotency_key);
  }

  uint64_t ReportPlayer(const PlayerReportSubmission& rep) override {
    auto out = std::make_unique<Outgoing>();
    out->kind = Outgoing::kReport;
    out->player_id = rep.reporter_id;
    auto& r = out->report;
    v1::ReportCategory cat = v1::REPORT_CATEGORY_UNSPECIFIED;
    ParseShort<v1::ReportCategory>(rep.category, "REPORT_CATEGORY_", v1::ReportCategory_Parse, &cat);
    r.set_category(cat);
    r.set_subject_type(v1::REPORT_SUBJECT_TYPE_PLAYER);
    r.set_subject_id(rep.reported_id);
    r.set_realm_id(o_.realm_id);
    r.set_server_id(o_.server_id);
    r.set_match_id(rep.match_id);
    r.set_message(rep.message);
    for (const auto& line : rep.chat_excerpt) {
      auto* c = r.mutable_evidence()->add_chat();
      c->set_speaker_id(rep.reported_id);
      c->set_text(line);
    }
    return Enqueue(std::move(out), rep.idempotency_key);
  }

  uint64_t SubmitBug(const BugSubmission& b) override {
    auto out = std::make_unique<Outgoing>();
    out->kind = Outgoing::kBug;
    out->player_id = b.player_id;
    auto& r = out->bug;
    r.set_title(b.title);
    v1::BugSeverity sev = v1::BUG_SEVERITY_UNSPECIFIED;
    ParseShort<v1::BugSeverity>(b.severity, "BUG_SEVERITY_", v1::BugSeverity_Parse, &sev);
    r.set_severity(sev);
    r.set_realm_id(o_.realm_id);
    r.set_server_id(o_.server_id);
    r.set_build(b.build.empty() ? o_.build : b.build);
    r.set_platform(b.platform);
    r.set_repro_steps(b.repro_steps);
    r.set_expected(b.expected);
    r.set_actual(b.actual);
    r.set_crash_signature(b.crash_signature);
    return Enqueue(std::move(out), b.idempotency_key);
  }

  void SetPlayersOnline(uint32_t n) override { players_online_.store(n, std::memory_order_relaxed); }

  size_t Poll(const std::function<void(const Directive&)>& fn, size_t max) override {
    std::deque<Directive> take;
    {
      std::lock_guard<std::mutex> l(poll_mu_);
      while (!inbox_.empty() && take.size() < max) {
        take.push_back(std::move(inbox_.front()));
        inbox_.pop_front();
      }
    }
    for (const auto& d : take) fn(d);
    return take.size();
  }

  Stats GetStats() const override {
    Stats s;
    s.events_recorded = recorded_.load();
    s.events_sent = sent_.load();
    s.events_shed = stats_shed_.load();
    s.directives = directives_.load();
    s.cache_misses = cache_misses_.load();
    s.cache_evictions = cache_evictions_.load();
    {
      absl::ReaderMutexLock l(&cache_mu_);
      s.cache_players = cache_.size();
    }
    s.reconnects = reconnects_.load();
    {
      std::lock_guard<std::mutex> l(mu_);
      s.requests_pending = outbox_.size();
    }
    s.connected = connected_.load();
    return s;
  }

  int listening_port() const override { return embedded_ != nullptr ? embedded_->port() : 0; }

 private:
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& player, int timeout_ms) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token_);
    if (!player.empty()) ctx->AddMetadata("x-steward-player", player);
    if (timeout_ms > 0) {
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    }
    return ctx;
  }

  // A producer token per thread spares each event the queue's lookup of
  // the calling thread. Kept per plugin instance (a process may hold two).
  moodycamel::ProducerToken& ProducerFor() {
    // Tokens are never destroyed: a token's destructor writes into its
    // queue, which may be gone by the time the thread exits. One small
    // object per thread and plugin is the price.
    struct Slot {
      const PluginImpl* owner = nullptr;
      uint64_t generation = 0;
      moodycamel::ProducerToken* token = nullptr;
    };
    thread_local Slot slot;
    if (slot.owner != this || slot.generation != generation_) {
      slot.token = new moodycamel::ProducerToken(queue_);
      slot.owner = this;
      slot.generation = generation_;
    }
    return *slot.token;
  }

  uint64_t Enqueue(std::unique_ptr<Outgoing> out, const std::string& key) {
    out->request_id = next_request_.fetch_add(1) + 1;
    // The key makes retries safe: one record however often it is sent.
    std::string k = key.empty() ? absl::StrCat(o_.server_id, "-", boot_, "-", out->request_id) : key;
    out->ticket.set_idempotency_key(k);
    out->report.set_idempotency_key(k);
    out->bug.set_idempotency_key(k);
    uint64_t id = out->request_id;
    {
      std::lock_guard<std::mutex> l(mu_);
      outbox_.push_back(std::move(out));
    }
    cv_.notify_all();
    return id;
  }

  void Deliver(Directive d) {
    std::lock_guard<std::mutex> l(poll_mu_);
    inbox_.push_back(std::move(d));
  }

  // Sleeps up to `ms` unless stopping; false when stopping.
  bool Sleep(int ms) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(ms), [this] { return stop_; });
    return !stop_;
  }
  bool Stopping() {
    std::lock_guard<std::mutex> l(mu_);
    return stop_;
  }
  int Backoff(int* current) {
    int b = *current;
    *current = std::min(o_.reconnect_max_ms, std::max(o_.reconnect_min_ms, *current * 2));
    return b;
  }

  // ------------------------------------------------------------ events

  void SendLoop() {
    std::vector<EventSlot> slots(o_.max_batch_events);
    // Events go straight into the wire format: a message per event would
    // cost the game server's cores several times as much.
    EventBatchEncoder batch;
    batch.Start(o_.realm_id, o_.server_id);
    size_t pending = 0;  // events in `batch` not yet written
    int backoff = o_.reconnect_min_ms;
    std::unique_ptr<RawEventStream> writer;
    v1::IngestSummary summary;
    auto last_flush = std::chrono::steady_clock::now();
    while (true) {
      const bool stopping = Stopping();
      if (pending < o_.max_batch_events) {
        size_t n = queue_.try_dequeue_bulk(slots.begin(), o_.max_batch_events - pending);
        queued_.fetch_sub(n, std::memory_order_relaxed);
        for (size_t i = 0; i < n; ++i) {
          const EventSlot& s = slots[i];
          const EventBatchEncoder::Attribute attr{AsView(s.key()), AsView(s.val())};
          batch.Add(s.time_ms, AsView(s.type()), AsView(s.player()), s.value,
                    s.key_len > 0 ? absl::MakeConstSpan(&attr, 1) : absl::Span<const EventBatchEncoder::Attribute>(),
                    AsView(s.text()));
        }
        pending += n;
        for (size_t i = 0; i < n; ++i) slots[i] = EventSlot();  // frees long chat lines
      }
      auto now = std::chrono::steady_clock::now();
      bool due = pending >= o_.max_batch_events ||
                 (pending > 0 && now - last_flush >= std::chrono::milliseconds(o_.flush_interval_ms));
      if (stopping) {
        if (writer != nullptr) {
          if (pending > 0 && writer->Write(batch.bytes())) sent_ += pending, pending = 0;
          writer->WritesDone();
          writer->Finish();
        }
        stats_shed_ += pending;
        return;
      }
      if (!due) {
        if (pending == 0) Sleep(o_.flush_interval_ms);
        else std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (writer == nullptr) {
        std::lock_guard<std::mutex> l(mu_);
        events_ctx_ = Ctx("", 0);
        summary.Clear();
        writer = std::make_unique<RawEventStream>(channel_, events_ctx_.get(), &summary);
      }
      if (writer->Write(batch.bytes())) {
        sent_ += pending;
        pending = 0;
        batch.Start(o_.realm_id, o_.server_id);
        last_flush = now;
        backoff = o_.reconnect_min_ms;
        continue;
      }
      // The stream broke: find out why, keep the batch, reconnect.
      grpc::Status st = writer->Finish();
      writer.reset();
      if (st.error_code() == grpc::INVALID_ARGUMENT || st.error_code() == grpc::PERMISSION_DENIED ||
          st.error_code() == grpc::UNAUTHENTICATED) {
        stats_shed_ += pending;  // these events will never be accepted
        pending = 0;
        batch.Start(o_.realm_id, o_.server_id);
      }
      reconnects_.fetch_add(1);
      Sleep(Backoff(&backoff));
    }
  }

  // ------------------------------------------------------------ directives

  void WatchLoop() {
    int backoff = o_.reconnect_min_ms;
    while (!Stopping()) {
      if (!registered_.load()) {
        v1::RegisterServerRequest req;
        req.set_server_id(o_.server_id);
        req.set_build(o_.build);
        v1::RegisterServerResponse resp;
        grpc::Status st = servers_->RegisterServer(Ctx("", 5000).get(), req, &resp);
        if (!st.ok()) {
          Sleep(Backoff(&backoff));
          continue;
        }
        registered_ = true;
      }
      v1::WatchDirectivesRequest req;
      req.set_server_id(o_.server_id);
      req.set_from_last_ack(true);
      grpc::ClientContext* ctx;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stop_) return;
        watch_ctx_ = Ctx("", 0);
        ctx = watch_ctx_.get();
      }
      auto reader = servers_->WatchDirectives(ctx, req);
      reader->WaitForInitialMetadata();  // the server accepted the watch (or the call failed)
      if (ctx->GetServerInitialMetadata().count("x-steward-watch") > 0) connected_ = true;
      v1::DirectiveBatch batch;
      while (reader->Read(&batch)) {
        connected_ = true;
        backoff = o_.reconnect_min_ms;
        uint64_t last = 0;
        if (batch.missed_through() > last_seq_) {
          // Offline for longer than Steward keeps directives: the game
          // re-checks its players instead of replaying what is gone.
          directives_.fetch_add(1);
          Directive gap;
          gap.kind = Directive::Kind::kResync;
          gap.seq = batch.missed_through();
          Deliver(std::move(gap));
          last_seq_ = last = batch.missed_through();
        }
        for (const auto& d : batch.directives()) {
          if (d.seq() <= last_seq_) continue;  // redelivered after a reconnect
          Apply(d);
          last_seq_ = last = d.seq();
        }
        if (last != 0) {
          v1::AckDirectivesRequest ack;
          ack.set_server_id(o_.server_id);
          ack.set_seq(last);
          v1::AckDirectivesResponse ar;
          servers_->AckDirectives(Ctx("", 5000).get(), ack, &ar);  // a lost ack means a redelivery, deduplicated above
        }
      }
      grpc::Status st = reader->Finish();
      connected_ = false;
      if (st.error_code() == grpc::NOT_FOUND) registered_ = false;  // a fresh data dir
      if (Stopping()) return;
      reconnects_.fetch_add(1);
      Sleep(Backoff(&backoff));
    }
  }

  void Apply(const v1::Directive& d) {
    directives_.fetch_add(1);
    Directive out;
    out.seq = d.seq();
    switch (d.body_case()) {
      case v1::Directive::kSanction: {
        const auto& ch = d.sanction();
        const v1::Sanction& s = ch.sanction();
        const v1::SanctionType type = s.spec().type();
        const bool player_subject = type != v1::SANCTION_TYPE_DEVICE_BAN && type != v1::SANCTION_TYPE_IP_BAN &&
                                    type != v1::SANCTION_TYPE_GUILD_BAN && type != v1::SANCTION_TYPE_CHANNEL_BAN;
        out.id = s.id();
        out.player_id = s.spec().subject_id();
        out.sanction_type = ShortEnum(v1::SanctionType_Name(type), "SANCTION_TYPE_");
        out.until_ms = s.expires_at_ms();
        out.text = s.spec().reason();
        out.show_to_player = type != v1::SANCTION_TYPE_SHADOW_MUTE;
        if (player_subject) UpdateCache(ch);
        if (ch.change() == v1::SanctionChange::CHANGE_LIFTED) {
          out.kind = Directive::Kind::kSanctionLifted;
        } else if (ch.disconnect()) {
          out.kind = Directive::Kind::kKick;
        } else {
          out.kind = Directive::Kind::kSanction;
        }
        break;
      }
      case v1::Directive::kAnnouncement: {
        const auto& a = d.announcement();
        out.kind = Directive::Kind::kAnnouncement;
        out.id = a.announcement_id();
        out.title = a.title();
        out.text = a.body();
        out.channel = ShortEnum(v1::AnnouncementChannel_Name(a.channel()), "ANNOUNCEMENT_CHANNEL_");
        out.until_ms = a.show_until_ms();
        break;
      }
      case v1::Directive::kAnnouncementCancel:
        out.kind = Directive::Kind::kAnnouncementCancel;
        out.id = d.announcement_cancel().announcement_id();
        break;
      case v1::Directive::kTicketReply: {
        const auto& r = d.ticket_reply();
        out.kind = Directive::Kind::kTicketReply;
        out.id = r.ticket_id();
        out.player_id = r.player_id();
        out.title = r.subject();
        out.text = r.message().body();
        break;
      }
      case v1::Directive::kReportOutcome: {
        const auto& r = d.report_outcome();
        out.kind = Directive::Kind::kReportOutcome;
        out.player_ids.assign(r.player_ids().begin(), r.player_ids().end());
        out.action_taken = r.action_taken();
        break;
      }
      case v1::Directive::kBugStatus: {
        const auto& b = d.bug_status();
        out.kind = Directive::Kind::kBugStatus;
        out.id = b.bug_id();
        out.title = b.title();
        out.text = ShortEnum(v1::BugStatus_Name(b.status()), "BUG_STATUS_");
        out.player_ids.assign(b.player_ids().begin(), b.player_ids().end());
        break;
      }
      case v1::Directive::kAppealOutcome: {
        const auto& a = d.appeal_outcome().appeal();
        out.kind = Directive::Kind::kAppealOutcome;
        out.id = a.id();
        out.player_id = a.player_id();
        out.text = a.reply();
        // The sanction may have changed; look the player up again.
        Prefetch(a.player_id());
        break;
      }
      default:
        return;
    }
    Deliver(std::move(out));
  }

  void UpdateCache(const v1::SanctionChange& ch) {
    const v1::Sanction& s = ch.sanction();
    const std::string& player = s.spec().subject_id();
    bool fresh = false;
    {
      absl::MutexLock l(&cache_mu_);
      MakeRoom();
      auto [it, inserted] = cache_.try_emplace(player);
      fresh = inserted;
      auto& list = it->second;
      list.erase(std::remove_if(list.begin(), list.end(), [&](const CachedRestriction& r) { return r.id == s.id(); }),
                 list.end());
      if (ch.change() != v1::SanctionChange::CHANGE_LIFTED && s.state() != v1::SANCTION_STATE_PENDING_APPROVAL) {
        CachedRestriction r;
        r.id = s.id();
        r.type = s.spec().type();
        r.reason = s.spec().reason();
        r.expires_at_ms = s.expires_at_ms();
        r.appealable = s.appeal_id() == 0;
        r.features.assign(s.spec().features().begin(), s.spec().features().end());
        list.push_back(std::move(r));
      }
    }
    // A player first seen through one sanction may have others.
    if (fresh) Prefetch(player);
  }

  // Before adding a player to a full cache: drops players with nothing in
  // force, then any, down to 90% of the bound (so sweeps are rare).
  void MakeRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(cache_mu_) {
    if (cache_.size() < o_.cache_max_players) return;
    const size_t target = o_.cache_max_players - o_.cache_max_players / 10 - 1;
    const int64_t now = NowMs();
    size_t before = cache_.size();
    absl::erase_if(cache_, [&](const auto& entry) {
      for (const CachedRestriction& r : entry.second) {
        if (r.expires_at_ms == 0 || r.expires_at_ms > now) return false;
      }
      return true;
    });
    for (auto it = cache_.begin(); it != cache_.end() && cache_.size() > target;) {
      cache_.erase(it++);
    }
    cache_evictions_.fetch_add(before - cache_.size(), std::memory_order_relaxed);
  }

  // ------------------------------------------------------------ control

  void ControlLoop() {
    auto next_heartbeat = std::chrono::steady_clock::now();
    int backoff = o_.reconnect_min_ms;
    while (true) {
      std::string lookup;
      std::unique_ptr<Outgoing> out;
      {
        std::unique_lock<std::mutex> l(mu_);
        auto wake = outbox_.empty() ? next_heartbeat : std::min(next_heartbeat, retry_at_);
        cv_.wait_until(l, wake, [&] {
          return stop_ || !lookups_.empty() ||
                 (!outbox_.empty() && std::chrono::steady_clock::now() >= retry_at_);
        });
        if (stop_) return;
        if (!lookups_.empty()) {
          lookup = std::move(lookups_.front());
          lookups_.pop_front();
        } else if (!outbox_.empty() && std::chrono::steady_clock::now() >= retry_at_) {
          out = std::move(outbox_.front());
          outbox_.pop_front();
        }
      }
      if (std::chrono::steady_clock::now() >= next_heartbeat) {
        next_heartbeat = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.heartbeat_interval_ms);
        if (registered_.load()) {
          v1::HeartbeatRequest hb;
          hb.set_server_id(o_.server_id);
          hb.set_players_online(players_online_.load());
          v1::HeartbeatResponse hr;
          servers_->Heartbeat(Ctx("", 2000).get(), hb, &hr);
        }
      }
      if (!lookup.empty()) LookUp(lookup);
      if (out != nullptr) {
        grpc::Status st = Send(*out);
        if (!st.ok() && Transient(st.error_code())) {
          std::lock_guard<std::mutex> l(mu_);
          outbox_.push_front(std::move(out));  // keep the order; same key on retry
          retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(Backoff(&backoff));
        } else {
          backoff = o_.reconnect_min_ms;
        }
      }
    }
  }

  void LookUp(const std::string& player) {
    v1::CheckPlayerRequest req;
    req.set_player_id(player);
    req.set_realm_id(o_.realm_id);
    v1::PlayerStatus resp;
    grpc::Status st = moderation_->CheckPlayer(Ctx("", 3000).get(), req, &resp);
    {
      std::lock_guard<std::mutex> l(mu_);
      lookups_pending_.erase(player);
    }
    if (!st.ok()) return;  // stays unknown; the next check asks again
    std::vector<CachedRestriction> list;
    for (const auto& a : resp.restrictions()) {
      CachedRestriction r;
      r.id = a.sanction_id();
      r.type = a.type();
      r.reason = a.reason();
      r.expires_at_ms = a.expires_at_ms();
      r.appealable = a.appealable();
      r.features.assign(a.features().begin(), a.features().end());
      list.push_back(std::move(r));
    }
    {
      absl::MutexLock l(&cache_mu_);
      if (!cache_.contains(player)) MakeRoom();
      cache_[player] = std::move(list);
    }
    // Allowed in while unknown, banned in fact: the game must remove them.
    if (!resp.can_login()) {
      Directive d;
      d.kind = Directive::Kind::kKick;
      d.player_id = player;
      for (const auto& a : resp.restrictions()) {
        if (a.type() == v1::SANCTION_TYPE_BAN || a.type() == v1::SANCTION_TYPE_TEMP_BAN) {
          d.id = a.sanction_id();
          d.text = a.reason();
          d.until_ms = a.expires_at_ms();
          d.sanction_type = ShortEnum(v1::SanctionType_Name(a.type()), "SANCTION_TYPE_");
          break;
        }
      }
      Deliver(std::move(d));
    }
  }

  grpc::Status Send(Outgoing& out) {
    ++out.attempts;
    Directive d;
    d.kind = Directive::Kind::kRequestDone;
    d.request_id = out.request_id;
    d.player_id = out.player_id;
    grpc::Status st;
    auto ctx = Ctx(out.player_id, 5000);
    switch (out.kind) {
      case Outgoing::kTicket: {
        v1::SubmitTicketResponse r;
        st = tickets_->SubmitTicket(ctx.get(), out.ticket, &r);
        d.id = r.ticket().id();
        break;
      }
      case Outgoing::kReport: {
        v1::SubmitReportResponse r;
        st = reports_->SubmitReport(ctx.get(), out.report, &r);
        d.id = r.report().id();
        break;
      }
      case Outgoing::kBug: {
        v1::SubmitBugResponse r;
        st = reports_->SubmitBug(ctx.get(), out.bug, &r);
        d.id = r.bug().id();
        break;
      }
    }
    if (st.ok() || !Transient(st.error_code())) {
      d.status = FromGrpc(st);
      Deliver(std::move(d));
    }
    return st;
  }

  Options o_;
  std::string token_;
  const std::string boot_ = std::to_string(NowMs());
  std::unique_ptr<EmbeddedHost> embedded_;  // embedded mode only
  std::shared_ptr<grpc::Channel> channel_;
  // Remote mode with a client certificate: the checked copy gRPC watches.
  std::unique_ptr<StagedTlsFiles> staged_;
  std::string stage_root_;
  std::unique_ptr<v1::GameServerService::Stub> servers_;
  std::unique_ptr<v1::ModerationService::Stub> moderation_;
  std::unique_ptr<v1::TicketService::Stub> tickets_;
  std::unique_ptr<v1::ReportService::Stub> reports_;

  moodycamel::ConcurrentQueue<EventSlot> queue_;
  // Tells a thread's cached token apart from one of an earlier plugin that
  // lived at the same address.
  const uint64_t generation_ = NextGeneration();
  std::atomic<size_t> queued_{0};
  std::atomic<uint64_t> recorded_{0}, sent_{0}, stats_shed_{0}, directives_{0}, cache_misses_{0}, cache_evictions_{0},
      reconnects_{0}, next_request_{0};
  std::atomic<uint32_t> players_online_{0};
  std::atomic<bool> connected_{false}, registered_{false};
  uint64_t last_seq_ = 0;  // watcher thread only

  mutable absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::vector<CachedRestriction>> cache_ ABSL_GUARDED_BY(cache_mu_);

  mutable std::mutex mu_;  // the fields below, and stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<grpc::ClientContext> watch_ctx_, events_ctx_;
  std::deque<std::string> lookups_;
  absl::flat_hash_set<std::string> lookups_pending_;
  std::deque<std::unique_ptr<Outgoing>> outbox_;
  std::chrono::steady_clock::time_point retry_at_ = std::chrono::steady_clock::now();

  std::mutex poll_mu_;
  std::deque<Directive> inbox_;

  std::thread sender_, watcher_, control_;
};

}  // namespace

Status Plugin::Create(const Options& options, std::unique_ptr<Plugin>* out) {
  auto p = std::make_unique<PluginImpl>(options);
  Status s = p->Start();
  if (!s.ok()) return s;
  *out = std::move(p);
  return {};
}

}  // namespace steward
