#include "services/directives.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

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

absl::Status DirectiveHub::Init() {
  uint64_t newest = 0;
  RETURN_IF_ERROR(store_->Scan(Cf::kDirectives, "", "", true,
                               [&](absl::string_view key, absl::string_view) {
                                 newest = KeyReader(key).U64().value_or(0);
                                 return false;
                               }));
  latest_.store(newest, std::memory_order_release);
  {
    absl::MutexLock lock(&mu_);
    announced_ = newest;
  }
  fanout_ = std::thread([this] { FanOut(); });
  return absl::OkStatus();
}

DirectiveHub::~DirectiveHub() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (fanout_.joinable()) fanout_.join();
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
  ASSIGN_OR_RETURN(uint64_t seq, txn.NextId("directive"));
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
  absl::Status parse = absl::OkStatus();
  RETURN_IF_ERROR(store_->Scan(
      Cf::kDirectives, KeyWriter().U64(after_seq + 1).key(), KeyWriter().U64(limit + 1).key(),
      false, [&](absl::string_view key, absl::string_view value) {
        v1::Directive d;
        if (!d.ParseFromArray(value.data(), value.size())) {
          parse = absl::DataLossError(
              absl::StrCat("directive ", KeyReader(key).U64().value_or(0), " is unreadable"));
          return false;
        }
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

void DirectiveHub::Unwatch(DirectiveWatcher* w) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
}

}  // namespace steward
