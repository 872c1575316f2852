#include "services/sanction_index.h"

#include "absl/hash/hash.h"

namespace steward {

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
  Entry entry;
  // Kicks and warnings have no lasting effect to enforce.
  if (s.state() == v1::SANCTION_STATE_ACTIVE && spec.type() != v1::SANCTION_TYPE_KICK &&
      spec.type() != v1::SANCTION_TYPE_WARNING) {
    auto e = std::make_shared<IndexedSanction>();
    e->id = s.id();
    e->type = spec.type();
    e->expires_at_ms = s.expires_at_ms();
    e->realm = spec.scope().realm_id();
    e->server = spec.scope().server_id();
    e->reason = spec.reason();
    e->policy_code = spec.policy_code();
    e->features.assign(spec.features().begin(), spec.features().end());
    e->appeal_state = s.appeal_state();
    entry = std::move(e);
  }
  Shard& shard = ShardFor(key);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.by_subject.find(key);
  if (it != shard.by_subject.end()) {
    List& list = it->second;
    for (auto i = list.begin(); i != list.end(); ++i) {
      if ((*i)->id == s.id()) {
        list.erase(i);
        break;
      }
    }
    if (list.empty() && entry == nullptr) shard.by_subject.erase(it);
  }
  if (entry != nullptr) shard.by_subject[key].push_back(std::move(entry));
}

size_t SanctionIndex::Prune(int64_t now_ms) {
  size_t dropped = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (auto it = shard.by_subject.begin(); it != shard.by_subject.end();) {
      List& list = it->second;
      size_t before = list.size();
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const Entry& e) { return !e->InForce(now_ms); }),
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
