// SanctionIndex: every sanction in force, in memory, keyed by subject, so
// CheckPlayer (the login hot path) never touches the disk.
//
// Moderation rebuilds it from RocksDB at start and applies each change
// after its transaction is durable, so the index never shows a sanction
// that could still be lost. Expiry is decided at read time against the
// caller's clock; Prune only frees memory.
//
// Thread-safety: all methods are safe to call from any thread; lookups
// take a shared lock on one of 64 shards.
#ifndef STEWARD_SERVICES_MODERATION_SANCTION_INDEX_H_
#define STEWARD_SERVICES_MODERATION_SANCTION_INDEX_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "steward/v1/moderation.pb.h"

namespace steward {

// The subject kinds a sanction can name (from its type).
enum class SubjectKind : char { kPlayer = 'P', kDevice = 'D', kIp = 'I', kGuild = 'G', kChannel = 'C' };
SubjectKind SubjectKindOf(v1::SanctionType type);

// The part of a sanction CheckPlayer needs, kept small: a million of them
// live in memory. Realm, server, policy and feature names repeat across
// sanctions and are interned (never freed; their number is what the game
// defines, not what players do).
struct IndexedSanction {
  uint64_t id = 0;
  int64_t expires_at_ms = 0;  // 0 = never
  const std::string* realm = nullptr;  // scope; interned, "" = global
  const std::string* server = nullptr;
  const std::string* policy_code = nullptr;
  const std::vector<const std::string*>* features = nullptr;  // RESTRICT only; interned
  std::string reason;
  v1::SanctionType type = v1::SANCTION_TYPE_UNSPECIFIED;
  v1::AppealState appeal_state = v1::APPEAL_STATE_UNSPECIFIED;

  bool InForce(int64_t now_ms) const { return expires_at_ms == 0 || now_ms < expires_at_ms; }
  bool Covers(absl::string_view r, absl::string_view s) const {
    return realm->empty() || (*realm == r && (server->empty() || *server == s));
  }
};

class SanctionIndex {
 public:
  SanctionIndex() = default;
  SanctionIndex(const SanctionIndex&) = delete;
  SanctionIndex& operator=(const SanctionIndex&) = delete;

  // Adds or replaces sanction s when it is ACTIVE, removes it otherwise.
  void Apply(const v1::Sanction& s);
  // Calls fn for each indexed sanction of the subject (in force or not).
  template <typename Fn>
  void ForSubject(SubjectKind kind, absl::string_view subject, Fn fn) const;
  // Drops entries expired before now_ms. Returns how many.
  size_t Prune(int64_t now_ms);
  size_t size() const;

 private:
  // Nearly every subject has one sanction: keep it inline in the map slot.
  using List = absl::InlinedVector<IndexedSanction, 1>;
  struct Shard {
    mutable absl::Mutex mu;
    // Node map: slots stay pointer-sized, so the table's spare capacity
    // costs little next to a million entries.
    absl::node_hash_map<std::string, List> by_subject ABSL_GUARDED_BY(mu);
  };
  static std::string Key(SubjectKind kind, absl::string_view subject);
  Shard& ShardFor(absl::string_view key) const;

  mutable std::array<Shard, 64> shards_;
};

template <typename Fn>
void SanctionIndex::ForSubject(SubjectKind kind, absl::string_view subject, Fn fn) const {
  if (subject.empty()) return;
  std::string key = Key(kind, subject);
  Shard& shard = ShardFor(key);
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.by_subject.find(key);
  if (it == shard.by_subject.end()) return;
  for (const IndexedSanction& e : it->second) fn(e);
}

}  // namespace steward

#endif  // STEWARD_SERVICES_MODERATION_SANCTION_INDEX_H_
