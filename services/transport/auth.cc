#include "services/transport/auth.h"

#include <grpcpp/server_context.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/validation.h"

namespace steward {

Authenticator::Authenticator(std::vector<PrincipalConfig> principals)
    : current_(Index(std::move(principals))) {}

std::shared_ptr<const Authenticator::Set> Authenticator::Index(std::vector<PrincipalConfig> principals) {
  auto set = std::make_shared<Set>();
  set->principals = std::move(principals);
  for (const auto& p : set->principals) {
    set->by_hash[p.token_sha256] = &p;
    set->by_name[p.name] = &p;
    if (p.calls_per_second > 0) set->buckets[p.name] = std::make_unique<Bucket>();
  }
  return set;
}

absl::Status Authenticator::Admit(const Set& set, const Caller& c) {
  const double rate = c.principal->calls_per_second;
  if (rate <= 0) return absl::OkStatus();
  auto it = set.buckets.find(c.name());
  if (it == set.buckets.end()) return absl::OkStatus();
  Bucket& b = *it->second;
  const double burst = std::max(2 * rate, 10.0);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  absl::MutexLock lock(&b.mu);
  b.tokens = b.last_ns == 0 ? burst : std::min(burst, b.tokens + rate * double(now - b.last_ns) / 1e9);
  b.last_ns = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      c.name(), " is over its limit of ", rate, " calls a second; slow down and retry ([limits] in the config)"));
}

void Authenticator::Replace(std::vector<PrincipalConfig> principals) {
  std::shared_ptr<const Set> next = Index(std::move(principals));
  absl::MutexLock lock(&mu_);
  current_.swap(next);  // the old set goes with its last caller
}

std::shared_ptr<const Authenticator::Set> Authenticator::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    const grpc::ServerContextBase& ctx) const {
  const auto& md = ctx.client_metadata();
  absl::string_view authorization, player;
  if (auto it = md.find("authorization"); it != md.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  if (auto it = md.find(std::string(kPlayerMetadataKey)); it != md.end()) {
    player = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<Caller> c = Authenticate(authorization, player);
  if (c.ok()) {
    const auto* set = static_cast<const Set*>(c->principals.get());
    if (absl::Status s = Admit(*set, *c); !s.ok()) return s;
  }
  return c;
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    absl::string_view authorization, absl::string_view player) const {
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send metadata 'authorization: Bearer <token>'");
  }
  if (authorization.size() <= kBearer.size() ||
      !absl::StartsWithIgnoreCase(authorization, kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be 'Bearer <token>'");
  }
  absl::string_view token = authorization.substr(kBearer.size());
  std::shared_ptr<const Set> set = Current();
  auto it = set->by_hash.find(Sha256Hex(token));
  if (it == set->by_hash.end()) {
    return absl::UnauthenticatedError("unknown or revoked token");
  }
  Caller c;
  c.principal = it->second;
  c.principals = std::move(set);
  if (!player.empty()) {
    if (!c.is_game_server()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kPlayerMetadataKey, " is only for game servers acting for a player"));
    }
    if (auto s = CheckId(kPlayerMetadataKey, player, true); !s.ok()) return s;
    c.player_id = std::string(player);
  }
  return c;
}

absl::Status Authenticator::Recheck(const Caller& c) const {
  std::shared_ptr<const Set> set = Current();
  if (c.principals == set) return absl::OkStatus();  // no reload since
  const PrincipalConfig& was = *c.principal;
  auto it = set->by_hash.find(was.token_sha256);
  if (it != set->by_hash.end()) {
    const PrincipalConfig& now = *it->second;
    if (now.name == was.name && now.kind == was.kind && now.role == was.role && now.realm == was.realm &&
        now.server == was.server) {
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(
      "this stream's token was revoked or its role or scope changed since the stream began; reconnect");
}

bool Authenticator::IsGm(absl::string_view name) const {
  std::shared_ptr<const Set> set = Current();
  auto it = set->by_name.find(std::string(name));
  return it != set->by_name.end() && it->second->kind == PrincipalKind::kGm;
}

}  // namespace steward
