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
    std::vector<std::string> doomed;
    uint64_t last = 0;
    absl::Status parse = absl::OkStatus();
    STEWARD_RETURN_IF_ERROR(store_->Scan(
        Cf::kDirectives, "", KeyWriter().U64(keep_from).key(), false,
        [&](absl::string_view key, absl::string_view value) {
          v1::Directive d;
          parse = ParseDirective(key, value, &d);
          if (!parse.ok() || d.at_ms() >= cutoff_ms) return false;
          doomed.emplace_back(key);
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
      return absl::OkStatus();
    }));
    removed += static_cast<int>(doomed.size());
  }
}

void DirectiveHub::FanOut() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || latest_.load(std::memory_order_acquire) > announced_;
    };
    mu_.Await(absl::Condition(&ready));
    if (stop_) return;
    announced_ = latest_.load(std::memory_order_acquire);
    for (DirectiveWatcher* w : watchers_) w->OnPublished(announced_);
  }
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
                                uint64_t* cursor) const {
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
  absl::Status parse = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(
      Cf::kDirectives, KeyWriter().U64(after_seq + 1).key(), KeyWriter().U64(limit + 1).key(),
      false, [&](absl::string_view key, absl::string_view value) {
        v1::Directive d;
        parse = ParseDirective(key, value, &d);
        if (!parse.ok()) return false;
        *cursor = d.seq();
        if (DirectiveMatches(d.target(), realm, server)) {
          *out->add_directives() = std::move(d);
        }
        return static_cast<size_t>(out->directives_size()) < max;
      }));
  return parse;
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
}

}  // namespace steward
