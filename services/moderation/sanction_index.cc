#include "services/moderation/sanction_index.h"

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_join.h"

namespace steward {
namespace {

// Interned names and feature lists; entries are never removed, so the
// pointers stay valid for the life of the process.
class Interner {
 public:
  const std::string* Name(absl::string_view s) {
    absl::MutexLock lock(&mu_);
    return &*names_.emplace(s).first;
  }
  const std::vector<const std::string*>* Features(
      const google::protobuf::RepeatedPtrField<std::string>& fs) {
    std::string key = absl::StrJoin(fs, "\x1f");
    absl::MutexLock lock(&mu_);
    auto it = lists_.find(key);
    if (it != lists_.end()) return it->second.get();
    auto list = std::make_unique<std::vector<const std::string*>>();
    for (const auto& f : fs) list->push_back(&*names_.emplace(f).first);
    return lists_.emplace(std::move(key), std::move(list)).first->second.get();
  }

 private:
  absl::Mutex mu_;
  absl::node_hash_set<std::string> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<std::vector<const std::string*>>> lists_
      ABSL_GUARDED_BY(mu_);
};

Interner& Interned() {
  static auto* interner = new Interner();
  return *interner;
}

}  // namespace

SubjectKind SubjectKindOf(v1::SanctionType type) {
  switch (type) {
    case v1::SANCTION_TYPE_DEVICE_BAN:
      return SubjectKind::kDevice;
    case v1::SANCTION_TYPE_IP_BAN:
      return SubjectKind::kIp;
    case v1::SANCTION_TYPE_GUILD_BAN:
      return SubjectKind::kGuild;
    case v1::SANCTION_TYPE_CHANNEL_BAN:
      return SubjectKind::kChannel;
    default:
      return SubjectKind::kPlayer;
  }
}

std::string SanctionIndex::Key(SubjectKind kind, absl::string_view subject) {
  std::string k;
  k.reserve(subject.size() + 1);
  k.push_back(static_cast<char>(kind));
  k.append(subject.data(), subject.size());
  return k;
}

SanctionIndex::Shard& SanctionIndex::ShardFor(absl::string_view key) const {
  return shards_[absl::HashOf(key) % shards_.size()];
}

void SanctionIndex::Apply(const v1::Sanction& s) {
  const auto& spec = s.spec();
  std::string key = Key(SubjectKindOf(spec.type()), spec.subject_id());
  // Kicks and warnings have no lasting effect to enforce.
  const bool keep = s.state() == v1::SANCTION_STATE_ACTIVE &&
                    spec.type() != v1::SANCTION_TYPE_KICK &&
                    spec.type() != v1::SANCTION_TYPE_WARNING;
  IndexedSanction e;
  if (keep) {
    e.id = s.id();
    e.type = spec.type();
    e.expires_at_ms = s.expires_at_ms();
    Interner& in = Interned();
    e.realm = in.Name(spec.scope().realm_id());
    e.server = in.Name(spec.scope().server_id());
    e.reason = spec.reason();
    e.policy_code = in.Name(spec.policy_code());
    if (!spec.features().empty()) e.features = in.Features(spec.features());
    e.appeal_state = s.appeal_state();
  }
  Shard& shard = ShardFor(key);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.by_subject.find(key);
  if (it != shard.by_subject.end()) {
    List& list = it->second;
    for (auto i = list.begin(); i != list.end(); ++i) {
      if (i->id == s.id()) {
        list.erase(i);
        break;
      }
    }
    if (list.empty() && !keep) shard.by_subject.erase(it);
  }
  if (keep) shard.by_subject[key].push_back(std::move(e));
}

size_t SanctionIndex::Prune(int64_t now_ms) {
  size_t dropped = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (auto it = shard.by_subject.begin(); it != shard.by_subject.end();) {
      List& list = it->second;
      size_t before = list.size();
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const IndexedSanction& e) { return !e.InForce(now_ms); }),
                 list.end());
      dropped += before - list.size();
      if (list.empty()) {
        shard.by_subject.erase(it++);
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

size_t SanctionIndex::size() const {
  size_t n = 0;
  for (Shard& shard : shards_) {
    absl::ReaderMutexLock lock(&shard.mu);
    for (const auto& [k, list] : shard.by_subject) n += list.size();
  }
  return n;
}

}  // namespace steward
