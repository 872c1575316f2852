#include "services/gameservers/directives.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;

bool DirectiveMatches(const v1::DirectiveTarget& t, absl::string_view realm,
                      absl::string_view server) {
  if (t.realm_id().empty()) return true;
  if (t.realm_id() != realm) return false;
  return t.server_id().empty() || t.server_id() == server;
}

namespace {

absl::Status ParseDirective(absl::string_view key, absl::string_view value, v1::Directive* d) {
  if (d->ParseFromArray(value.data(), static_cast<int>(value.size()))) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("directive ", KeyReader(key).U64().value_or(0), " is unreadable"));
}

// Target scopes in Cf::kDirectiveIndex: everyone, one realm, one server.
constexpr uint8_t kScopeAll = 'A';
constexpr uint8_t kScopeRealm = 'R';
constexpr uint8_t kScopeServer = 'S';

// The index prefix of the scope `t` names.
std::string ScopePrefix(const v1::DirectiveTarget& t) {
  if (t.realm_id().empty()) return KeyWriter().Byte(kScopeAll).Release();
  if (t.server_id().empty()) return KeyWriter().Byte(kScopeRealm).Str(t.realm_id()).Release();
  return KeyWriter().Byte(kScopeServer).Str(t.realm_id()).Str(t.server_id()).Release();
}

std::string IndexKey(const v1::Directive& d) {
  return KeyWriter().Raw(ScopePrefix(d.target())).U64(d.seq()).Release();
}

// Directives beyond this many in one published stretch are not shared:
// each watcher reads its own through the index.
constexpr uint64_t kMaxShared = 1024;

}  // namespace

absl::Status DirectiveHub::Init(int64_t retention_ms, absl::Duration trim_every) {
  uint64_t newest = 0, oldest = 0;
  auto first_key = [](uint64_t* seq) {
    return [seq](absl::string_view key, absl::string_view) {
      *seq = KeyReader(key).U64().value_or(0);
      return false;
    };
  };
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kDirectives, "", "", true, first_key(&newest)));
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kDirectives, "", "", false, first_key(&oldest)));
  latest_.store(newest, std::memory_order_release);
  oldest_.store(newest == 0 ? 1 : oldest, std::memory_order_release);
  STEWARD_RETURN_IF_ERROR(BackfillIndex());
  {
    absl::MutexLock lock(&mu_);
    announced_ = newest;
  }
  fanout_ = std::thread([this] { FanOut(); });
  if (retention_ms > 0) {
    trimmer_.Start(trim_every, [this, retention_ms] {
      auto n = Trim(clock_->NowMs() - retention_ms);
      if (!n.ok()) LogWarning("directive retention: ", n.status().ToString());
      else if (*n > 0) LogInfo("directive retention removed ", *n, " directives");
    });
  }
  return absl::OkStatus();
}

absl::Status DirectiveHub::BackfillIndex() {
  if (latest_seq() == 0) return absl::OkStatus();
  bool indexed = false;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kDirectiveIndex, "", "", false,
                                       [&](absl::string_view, absl::string_view) {
                                         indexed = true;
                                         return false;
                                       }));
  // Every append writes its index entry, so a non-empty index is complete.
  if (indexed) return absl::OkStatus();
  uint64_t after = 0;
  size_t total = 0;
  while (true) {
    std::vector<std::string> keys;
    absl::Status parse = absl::OkStatus();
    STEWARD_RETURN_IF_ERROR(store_->Scan(
        Cf::kDirectives, KeyWriter().U64(after + 1).key(), "", false,
        [&](absl::string_view key, absl::string_view value) {
          v1::Directive d;
          parse = ParseDirective(key, value, &d);
          if (!parse.ok()) return false;
          keys.push_back(IndexKey(d));
          after = d.seq();
          return keys.size() < 10'000;
        },
        storage::Store::CacheUse::kBypass));
    STEWARD_RETURN_IF_ERROR(parse);
    if (keys.empty()) break;
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](storage::Txn& txn) {
      for (const auto& k : keys) txn.Put(Cf::kDirectiveIndex, k, "");
      return absl::OkStatus();
    }));
    total += keys.size();
  }
  LogInfo("directive log: indexed ", total, " directives by target (first start of this version)");
  return absl::OkStatus();
}

DirectiveHub::~DirectiveHub() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (fanout_.joinable()) fanout_.join();
  trimmer_.Stop();
}

absl::StatusOr<int> DirectiveHub::Trim(int64_t cutoff_ms) {
  // Directives are written in sequence order with the commit's clock, so
  // the old ones form a prefix of the log. The newest always stays: it is
  // how a restart finds the sequence.
  const uint64_t keep_from = latest_seq();
  int removed = 0;
  while (true) {
    std::vector<std::string> doomed, doomed_index;
    uint64_t last = 0;
    absl::Status parse = absl::OkStatus();
    STEWARD_RETURN_IF_ERROR(store_->Scan(
        Cf::kDirectives, "", KeyWriter().U64(keep_from).key(), false,
        [&](absl::string_view key, absl::string_view value) {
          v1::Directive d;
          parse = ParseDirective(key, value, &d);
          if (!parse.ok() || d.at_ms() >= cutoff_ms) return false;
          doomed.emplace_back(key);
          doomed_index.push_back(IndexKey(d));
          last = d.seq();
          return doomed.size() < 10'000;
        }));
    STEWARD_RETURN_IF_ERROR(parse);
    if (doomed.empty()) return removed;
    // Readers learn of the gap before the directives go; one that reads in
    // between may still get some of them, which at-least-once allows.
    uint64_t cur = oldest_.load(std::memory_order_relaxed);
    while (last + 1 > cur && !oldest_.compare_exchange_weak(cur, last + 1, std::memory_order_acq_rel)) {
    }
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](storage::Txn& txn) {
      for (const auto& k : doomed) txn.Delete(Cf::kDirectives, k);
      for (const auto& k : doomed_index) txn.Delete(Cf::kDirectiveIndex, k);
      return absl::OkStatus();
    }));
    removed += static_cast<int>(doomed.size());
  }
}

void DirectiveHub::FanOut() {
  uint64_t announced = 0;
  while (true) {
    std::vector<DirectiveWatcher*> watchers;
    uint64_t through = 0;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || latest_.load(std::memory_order_acquire) > announced_;
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      announced = announced_;
      through = announced_ = latest_.load(std::memory_order_acquire);
      if (watchers_.empty()) continue;
      watchers = watchers_;
      dispatching_ = true;
    }
    // Outside the lock: Published() on the commit thread never waits for
    // this round, and Unwatch waits for it to end.
    std::shared_ptr<const PublishedRange> range = ReadShared(announced, through);
    for (DirectiveWatcher* w : watchers) w->OnPublished(range);
    absl::MutexLock lock(&mu_);
    dispatching_ = false;
  }
}

std::shared_ptr<const PublishedRange> DirectiveHub::ReadShared(uint64_t after,
                                                               uint64_t through) const {
  if (through - after > kMaxShared) return nullptr;
  auto range = std::make_shared<PublishedRange>();
  range->after = after;
  range->through = through;
  absl::Status parse = absl::OkStatus();
  absl::Status s = store_->Scan(
      Cf::kDirectives, KeyWriter().U64(after + 1).key(), KeyWriter().U64(through + 1).key(), false,
      [&](absl::string_view key, absl::string_view value) {
        parse = ParseDirective(key, value, &range->directives.emplace_back());
        return parse.ok();
      });
  if (!s.ok() || !parse.ok()) {
    // Each watcher then reads for itself and meets the error on its own stream.
    LogWarning("directive fan-out read: ", (s.ok() ? parse : s).ToString());
    return nullptr;
  }
  return range;
}

void DirectiveHub::CloseWatchers() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (DirectiveWatcher* w : watchers_) w->OnClose();
  watchers_.clear();
}

absl::Status DirectiveHub::Append(storage::Txn& txn, int64_t now_ms, v1::Directive* d) {
  STEWARD_ASSIGN_OR_RETURN(uint64_t seq, txn.NextId("directive"));
  d->set_seq(seq);
  d->set_at_ms(now_ms);
  txn.Put(Cf::kDirectives, KeyWriter().U64(seq).key(), d->SerializeAsString());
  txn.Put(Cf::kDirectiveIndex, IndexKey(*d), "");
  return absl::OkStatus();
}

void DirectiveHub::Published(uint64_t seq) {
  uint64_t cur = latest_.load(std::memory_order_relaxed);
  while (seq > cur && !latest_.compare_exchange_weak(cur, seq, std::memory_order_acq_rel)) {
  }
  // Taking the lock is what wakes the fan-out thread's Await.
  absl::MutexLock lock(&mu_);
}

absl::Status DirectiveHub::Read(uint64_t after_seq, absl::string_view realm,
                                absl::string_view server, size_t max, v1::DirectiveBatch* out,
                                uint64_t* cursor, const PublishedRange* shared) const {
  // Only what is acknowledged: a directive whose transaction is written but
  // not yet synced stays invisible until Published().
  const uint64_t limit = latest_seq();
  *cursor = after_seq;
  if (after_seq >= limit) return absl::OkStatus();
  if (const uint64_t oldest = oldest_seq(); after_seq + 1 < oldest) {
    out->set_missed_through(oldest - 1);
    *cursor = after_seq = oldest - 1;
    if (after_seq >= limit) return absl::OkStatus();
  }
  if (shared != nullptr && after_seq >= shared->after && after_seq < shared->through) {
    for (const v1::Directive& d : shared->directives) {
      if (d.seq() <= after_seq) continue;
      *cursor = d.seq();
      if (DirectiveMatches(d.target(), realm, server)) {
        *out->add_directives() = d;
        if (static_cast<size_t>(out->directives_size()) >= max) return absl::OkStatus();
      }
    }
    *cursor = shared->through;
    return absl::OkStatus();
  }
  // The three scopes that concern this server, each oldest first; the
  // first `max` of their union is the answer.
  v1::DirectiveTarget all, whole_realm, one_server;
  whole_realm.set_realm_id(std::string(realm));
  one_server.set_realm_id(std::string(realm));
  one_server.set_server_id(std::string(server));
  std::vector<uint64_t> seqs;
  for (const v1::DirectiveTarget* t : {&all, &whole_realm, &one_server}) {
    const std::string prefix = ScopePrefix(*t);
    size_t taken = 0;
    STEWARD_RETURN_IF_ERROR(store_->Scan(
        Cf::kDirectiveIndex, KeyWriter().Raw(prefix).U64(after_seq + 1).key(),
        KeyWriter().Raw(prefix).U64(limit + 1).key(), false,
        [&](absl::string_view key, absl::string_view) {
          KeyReader r(key.substr(prefix.size()));
          seqs.push_back(r.U64().value_or(0));
          return ++taken < max;
        }));
  }
  std::sort(seqs.begin(), seqs.end());
  if (seqs.size() > max) seqs.resize(max);
  *cursor = seqs.size() == max ? seqs.back() : limit;
  for (uint64_t seq : seqs) {
    std::string value;
    const std::string key = KeyWriter().U64(seq).Release();
    absl::Status s = store_->Get(Cf::kDirectives, key, &value);
    if (absl::IsNotFound(s)) continue;  // trimmed since the index was read
    STEWARD_RETURN_IF_ERROR(s);
    STEWARD_RETURN_IF_ERROR(ParseDirective(key, value, out->add_directives()));
  }
  return absl::OkStatus();
}

bool DirectiveHub::Watch(DirectiveWatcher* w) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  watchers_.push_back(w);
  return true;
}

size_t DirectiveHub::watcher_count() const {
  absl::MutexLock lock(&mu_);
  return watchers_.size();
}

void DirectiveHub::Unwatch(DirectiveWatcher* w) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
  // A round in progress may hold `w`; wait it out, unless this is that
  // round's own thread (a watcher ending inside its OnPublished).
  if (std::this_thread::get_id() == fanout_.get_id()) return;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !dispatching_; };
  mu_.Await(absl::Condition(&idle));
}

}  // namespace steward
