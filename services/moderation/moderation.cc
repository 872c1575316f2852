#include "services/moderation/moderation.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/log.h"
#include "services/common/pagination.h"
#include "services/common/records.h"
#include "services/common/validation.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Sanction;
using v1::SanctionSpec;
using v1::SanctionType;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kMaxDurationMs = 10 * 366 * kDayMs;
constexpr int64_t kAgentMaxTempBanMs = 7 * kDayMs;
constexpr size_t kMaxBulk = 1000;
constexpr size_t kMaxFeatures = 16;
constexpr size_t kMaxEvidence = 32;
constexpr size_t kMinHashLen = 32;  // hex digits in a device or IP hash

// Index key families inside Cf::kModIndex; each ends I64(time) U64(id).
constexpr uint8_t kIdxAllSanctions = 'a';
constexpr uint8_t kIdxSubject = 's';
constexpr uint8_t kIdxPendingApprovals = 'p';
constexpr uint8_t kIdxAllApprovals = 'q';
constexpr uint8_t kIdxOpenAppeals = 'o';
constexpr uint8_t kIdxAllAppeals = 'r';

std::string SubjectPrefix(absl::string_view subject) {
  return KeyWriter().Byte(kIdxSubject).Str(subject).Release();
}
std::string TimeKey(uint8_t family, int64_t t, uint64_t id) {
  return KeyWriter().Byte(family).I64(t).U64(id).Release();
}

absl::string_view TypeName(SanctionType t) {
  static const auto* names = new std::vector<std::string>([] {
    std::vector<std::string> v;
    for (int i = 0; i <= v1::SanctionType_MAX; ++i) {
      std::string n = v1::SanctionType_Name(static_cast<SanctionType>(i));
      v.push_back(absl::AsciiStrToLower(absl::StripPrefix(n, "SANCTION_TYPE_")));
    }
    return v;
  }());
  return (*names)[t];
}

bool IsBanType(SanctionType t) {
  return t == v1::SANCTION_TYPE_BAN || t == v1::SANCTION_TYPE_TEMP_BAN ||
         t == v1::SANCTION_TYPE_DEVICE_BAN || t == v1::SANCTION_TYPE_IP_BAN;
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Offence weights by policy code; unknown codes weigh 2.
double PolicyPoints(absl::string_view policy) {
  struct P {
    absl::string_view code;
    double points;
  };
  static constexpr P kTable[] = {
      {"cheating", 10}, {"botting", 8},   {"exploiting", 6},     {"scamming", 6},
      {"rmt", 5},       {"harassment", 4}, {"verbal_abuse", 3},  {"spamming", 2},
      {"advertising", 2}, {"recruiting", 2}, {"offensive_name", 2},
  };
  for (const P& p : kTable) {
    if (p.code == policy) return p.points;
  }
  return 2;
}

absl::Status ValidateSpec(const SanctionSpec& s, absl::string_view at) {
  auto field = [&](absl::string_view f) { return absl::StrCat(at, f); };
  if (s.type() == v1::SANCTION_TYPE_UNSPECIFIED || !v1::SanctionType_IsValid(s.type())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field("type"), " must be a sanction type (ban, temp_ban, mute, ...)"));
  }
  STEWARD_RETURN_IF_ERROR(CheckId(field("subject_id"), s.subject_id(), true));
  if (s.type() == v1::SANCTION_TYPE_IP_BAN || s.type() == v1::SANCTION_TYPE_DEVICE_BAN) {
    if (s.subject_id().size() < kMinHashLen || !IsHex(s.subject_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field("subject_id"), " must be a hex hash of at least ", kMinHashLen,
          " digits; raw IP addresses and device ids are never stored"));
    }
  }
  STEWARD_RETURN_IF_ERROR(CheckId(field("scope.realm_id"), s.scope().realm_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId(field("scope.server_id"), s.scope().server_id(), false));
  if (!s.scope().server_id().empty() && s.scope().realm_id().empty()) {
    return absl::InvalidArgumentError(field("scope.server_id needs scope.realm_id"));
  }
  if (s.type() == v1::SANCTION_TYPE_RESTRICT) {
    if (s.features().empty() || s.features_size() > static_cast<int>(kMaxFeatures)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field("features"), " must name 1 to ", kMaxFeatures, " features"));
    }
    for (const auto& f : s.features()) STEWARD_RETURN_IF_ERROR(CheckId(field("features"), f, true));
  } else if (!s.features().empty()) {
    return absl::InvalidArgumentError(field("features is only for restrict sanctions"));
  }
  STEWARD_RETURN_IF_ERROR(CheckText(field("reason"), s.reason(), 1, kMaxReasonLen));
  STEWARD_RETURN_IF_ERROR(CheckId(field("policy_code"), s.policy_code(), false));
  if (s.evidence_size() > static_cast<int>(kMaxEvidence)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field("evidence"), " holds at most ", kMaxEvidence, " links"));
  }
  for (const auto& e : s.evidence()) STEWARD_RETURN_IF_ERROR(CheckId(field("evidence"), e, true));
  if (s.duration_ms() < 0 || s.duration_ms() > kMaxDurationMs) {
    return absl::InvalidArgumentError(
        absl::StrCat(field("duration_ms"), " must be 0 (permanent) to 10 years"));
  }
  if (s.type() == v1::SANCTION_TYPE_TEMP_BAN && s.duration_ms() == 0) {
    return absl::InvalidArgumentError(field("duration_ms is required for a temp ban"));
  }
  if ((s.type() == v1::SANCTION_TYPE_KICK || s.type() == v1::SANCTION_TYPE_WARNING) &&
      s.duration_ms() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field("duration_ms"), " must be 0 for a ", TypeName(s.type())));
  }
  return absl::OkStatus();
}

Role RoleNeeded(const SanctionSpec& s) {
  switch (s.type()) {
    case v1::SANCTION_TYPE_DEVICE_BAN:
    case v1::SANCTION_TYPE_IP_BAN:
      return Role::kSupervisor;
    case v1::SANCTION_TYPE_BAN:
    case v1::SANCTION_TYPE_GUILD_BAN:
    case v1::SANCTION_TYPE_CHANNEL_BAN:
      return Role::kLead;
    case v1::SANCTION_TYPE_TEMP_BAN:
      return s.duration_ms() > kAgentMaxTempBanMs ? Role::kLead : Role::kAgent;
    default:
      return Role::kAgent;
  }
}

// Why a single sanction needs a second GM, or "" when it does not.
std::string ApprovalNeed(const SanctionSpec& s) {
  if (s.type() == v1::SANCTION_TYPE_BAN && s.duration_ms() == 0) return "permanent ban";
  if (s.type() == v1::SANCTION_TYPE_DEVICE_BAN) return "device ban";
  if (s.type() == v1::SANCTION_TYPE_IP_BAN) return "IP ban";
  return "";
}

absl::Status CheckSpecRole(const Caller& c, const SanctionSpec& s) {
  Role need = RoleNeeded(s);
  if (c.HasRole(need)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "a ", TypeName(s.type()),
      s.type() == v1::SANCTION_TYPE_TEMP_BAN && need == Role::kLead ? " over 7 days" : "",
      " needs role ", RoleName(need), " or above"));
}

// Reports EXPIRED for an active sanction past its end.
void Present(Sanction* s, int64_t now) {
  if (s->state() == v1::SANCTION_STATE_ACTIVE && s->expires_at_ms() != 0 &&
      now >= s->expires_at_ms()) {
    s->set_state(v1::SANCTION_STATE_EXPIRED);
  }
}

v1::DirectiveTarget TargetOf(const SanctionSpec& s) {
  v1::DirectiveTarget t;
  t.set_realm_id(s.scope().realm_id());
  t.set_server_id(s.scope().server_id());
  return t;
}

}  // namespace

// What a transaction changes outside the store, applied once it is durable.
struct ModerationEffects {
  std::vector<Sanction> sanctions;  // for the index
  uint64_t directive_seq = 0;       // newest directive written
};

namespace {

// Writes a sanction (record plus its first index entries when new).
void PutSanction(Txn& txn, Sanction& s, bool is_new, ModerationEffects& fx) {
  s.set_version(s.version() + 1);
  txn.Put(Cf::kSanctions, RecordKey(s.id()), s.SerializeAsString());
  if (is_new) {
    txn.Put(Cf::kModIndex, TimeKey(kIdxAllSanctions, s.issued_at_ms(), s.id()), "");
    txn.Put(Cf::kModIndex,
            KeyWriter(SubjectPrefix(s.spec().subject_id())).I64(s.issued_at_ms()).U64(s.id()).key(),
            "");
  }
  fx.sanctions.push_back(s);
}

// Tells game servers about a sanction change.
absl::Status Announce(Txn& txn, DirectiveHub& hub, const Sanction& s,
                      v1::SanctionChange::Change change, int64_t now, ModerationEffects& fx) {
  v1::Directive d;
  *d.mutable_target() = TargetOf(s.spec());
  auto* sc = d.mutable_sanction();
  sc->set_change(change);
  Sanction* copy = sc->mutable_sanction();
  *copy = s;
  // Game servers need what to enforce, not who decided or the evidence.
  copy->clear_issued_by();
  copy->clear_approved_by();
  copy->clear_revoked_by();
  copy->mutable_spec()->clear_evidence();
  sc->set_disconnect(change == v1::SanctionChange::CHANGE_IN_FORCE &&
                     (IsBanType(s.spec().type()) || s.spec().type() == v1::SANCTION_TYPE_KICK));
  STEWARD_RETURN_IF_ERROR(hub.Append(txn, now, &d));
  fx.directive_seq = d.seq();
  return absl::OkStatus();
}

absl::Status Activate(Txn& txn, DirectiveHub& hub, Sanction& s, int64_t now,
                      ModerationEffects& fx) {
  s.set_state(v1::SANCTION_STATE_ACTIVE);
  s.set_effective_at_ms(now);
  s.set_expires_at_ms(s.spec().duration_ms() == 0 ? 0 : now + s.spec().duration_ms());
  return Announce(txn, hub, s, v1::SanctionChange::CHANGE_IN_FORCE, now, fx);
}

// A new sanction from spec, pending or in force.
absl::Status CreateSanction(Txn& txn, DirectiveHub& hub, const Caller& c, const SanctionSpec& spec,
                            uint64_t approval_id, int64_t now, ModerationEffects& fx,
                            Sanction* out) {
  STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("sanction"));
  out->set_id(id);
  *out->mutable_spec() = spec;
  out->set_issued_by(c.name());
  out->set_automatic(c.name() == kMonitorPrincipal);
  out->set_issued_at_ms(now);
  if (SubjectKindOf(spec.type()) == SubjectKind::kPlayer && !spec.policy_code().empty()) {
    out->set_strike_points(PolicyPoints(spec.policy_code()));
  }
  if (approval_id != 0) {
    out->set_state(v1::SANCTION_STATE_PENDING_APPROVAL);
    out->set_approval_id(approval_id);
  } else {
    STEWARD_RETURN_IF_ERROR(Activate(txn, hub, *out, now, fx));
  }
  PutSanction(txn, *out, true, fx);
  return AppendAudit(txn, c, now,
                     {.action = "sanction.issue",
                      .target = absl::StrCat("sanction/", id),
                      .reason = spec.reason(),
                      .after = out});
}

absl::StatusOr<uint64_t> CreateApproval(Txn& txn, const Caller& c, absl::string_view why,
                                        int64_t now, v1::Approval* a) {
  STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("approval"));
  a->set_id(id);
  a->set_proposed_by(c.name());
  a->set_proposed_at_ms(now);
  a->set_why_needed(std::string(why));
  a->set_state(v1::APPROVAL_STATE_PENDING);
  txn.Put(Cf::kModIndex, TimeKey(kIdxPendingApprovals, now, id), "");
  txn.Put(Cf::kModIndex, TimeKey(kIdxAllApprovals, now, id), "");
  return id;
}

// Idempotency record: approval id, count, sanction ids.
std::string IdemKey(const Caller& c, absl::string_view key) {
  return KeyWriter().Str(c.name()).Str("sanction").Str(key).Release();
}

std::string EncodeIds(uint64_t approval_id, const std::vector<uint64_t>& ids) {
  KeyWriter w;
  w.U64(approval_id).U64(ids.size());
  for (uint64_t id : ids) w.U64(id);
  return w.Release();
}

absl::Status DecodeIds(absl::string_view v, uint64_t* approval_id, std::vector<uint64_t>* ids) {
  KeyReader r(v);
  auto a = r.U64();
  auto n = r.U64();
  if (!a || !n || *n > kMaxBulk) return absl::DataLossError("idempotency record is unreadable");
  *approval_id = *a;
  for (uint64_t i = 0; i < *n; ++i) {
    auto id = r.U64();
    if (!id) return absl::DataLossError("idempotency record is unreadable");
    ids->push_back(*id);
  }
  return absl::OkStatus();
}

}  // namespace

Moderation::Moderation(storage::Store* store, DirectiveHub* hub, ModerationOptions options)
    : store_(store), hub_(hub), options_(options) {}

Moderation::~Moderation() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (pruner_.joinable()) pruner_.join();
}

absl::Status Moderation::Init(absl::Duration prune_every) {
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kSanctions, "", "", false,
                               [&](absl::string_view key, absl::string_view value) {
                                 Sanction s;
                                 if (!s.ParseFromArray(value.data(), value.size())) {
                                   bad = absl::DataLossError(absl::StrCat(
                                       "sanction ", KeyReader(key).U64().value_or(0),
                                       " is unreadable"));
                                   return false;
                                 }
                                 if (s.state() == v1::SANCTION_STATE_ACTIVE) index_.Apply(s);
                                 return true;
                               },
                               storage::Store::CacheUse::kBypass));
  STEWARD_RETURN_IF_ERROR(bad);
  pruner_ = std::thread([this, prune_every] {
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
    while (!mu_.AwaitWithTimeout(absl::Condition(&stopping), prune_every)) {
      index_.Prune(options_.clock->NowMs());
    }
  });
  return absl::OkStatus();
}

// Runs fn as one transaction; on success applies its effects (index,
// directive watchers) before reporting.
template <typename Fn>
void CommitModeration(storage::Store* store, SanctionIndex* index, DirectiveHub* hub, Fn fn,
                      storage::DoneFn done) {
  auto fx = std::make_shared<ModerationEffects>();
  store->Commit(
      [fn = std::move(fn), fx](Txn& txn) mutable -> absl::Status {
        *fx = ModerationEffects();
        return fn(txn, *fx);
      },
      [fx, index, hub, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          for (const auto& sn : fx->sanctions) index->Apply(sn);
          if (fx->directive_seq != 0) hub->Published(fx->directive_seq);
        }
        done(s);
      });
}

void Moderation::Issue(const Caller& c, const v1::IssueSanctionRequest& req,
                       v1::IssueSanctionResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "IssueSanction");
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok()) s = ValidateSpec(req.spec(), "spec.");
  if (s.ok()) s = CheckSpecRole(c, req.spec());
  if (!s.ok()) return done(s);
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp](Txn& txn, ModerationEffects& fx) -> absl::Status {
        std::string idem = IdemKey(c, req.idempotency_key());
        std::string existing;
        absl::Status got = GetIdempotent(txn, idem, &existing);
        if (got.ok()) {
          uint64_t approval_id = 0;
          std::vector<uint64_t> ids;
          STEWARD_RETURN_IF_ERROR(DecodeIds(existing, &approval_id, &ids));
          if (ids.size() != 1) {
            return absl::AlreadyExistsError("idempotency_key was used for a bulk issue");
          }
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kSanctions, ids[0], "sanction", resp->mutable_sanction()));
          Present(resp->mutable_sanction(), options_.clock->NowMs());
          resp->set_deduplicated(true);
          return absl::OkStatus();
        }
        if (!absl::IsNotFound(got)) return got;
        int64_t now = options_.clock->NowMs();
        uint64_t approval_id = 0;
        v1::Approval approval;
        std::string need = ApprovalNeed(req.spec());
        if (!need.empty()) {
          STEWARD_ASSIGN_OR_RETURN(approval_id, CreateApproval(txn, c, need, now, &approval));
        }
        Sanction* out = resp->mutable_sanction();
        STEWARD_RETURN_IF_ERROR(CreateSanction(txn, *hub_, c, req.spec(), approval_id, now, fx, out));
        if (approval_id != 0) {
          approval.add_sanction_ids(out->id());
          txn.Put(Cf::kApprovals, RecordKey(approval_id), approval.SerializeAsString());
        }
        PutIdempotent(txn, idem, EncodeIds(approval_id, {out->id()}), now);
        return absl::OkStatus();
      },
      std::move(done));
}

void Moderation::BulkIssue(const Caller& c, const v1::BulkIssueSanctionsRequest& req,
                           v1::BulkIssueSanctionsResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "BulkIssueSanctions");
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok() && (req.specs().empty() || req.specs_size() > static_cast<int>(kMaxBulk))) {
    s = absl::InvalidArgumentError(
        absl::StrCat("specs must hold 1 to ", kMaxBulk, " sanctions, not ", req.specs_size()));
  }
  std::string need;
  for (int i = 0; s.ok() && i < req.specs_size(); ++i) {
    s = ValidateSpec(req.specs(i), absl::StrCat("specs[", i, "]."));
    if (s.ok()) s = CheckSpecRole(c, req.specs(i));
    if (s.ok() && need.empty()) need = ApprovalNeed(req.specs(i));
  }
  if (!s.ok()) return done(s);
  if (req.specs_size() > options_.bulk_approval_threshold) {
    need = absl::StrCat("bulk issue of ", req.specs_size(), " sanctions (more than ",
                        options_.bulk_approval_threshold, ")");
  } else if (!need.empty()) {
    need = absl::StrCat("bulk issue including a ", need);
  }
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp, need](Txn& txn, ModerationEffects& fx) -> absl::Status {
        std::string idem = IdemKey(c, req.idempotency_key());
        std::string existing;
        absl::Status got = GetIdempotent(txn, idem, &existing);
        if (got.ok()) {
          uint64_t approval_id = 0;
          std::vector<uint64_t> ids;
          STEWARD_RETURN_IF_ERROR(DecodeIds(existing, &approval_id, &ids));
          int64_t now = options_.clock->NowMs();
          for (uint64_t id : ids) {
            Sanction* out = resp->add_sanctions();
            STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kSanctions, id, "sanction", out));
            Present(out, now);
          }
          resp->set_approval_id(approval_id);
          resp->set_deduplicated(true);
          return absl::OkStatus();
        }
        if (!absl::IsNotFound(got)) return got;
        int64_t now = options_.clock->NowMs();
        uint64_t approval_id = 0;
        v1::Approval approval;
        if (!need.empty()) {
          STEWARD_ASSIGN_OR_RETURN(approval_id, CreateApproval(txn, c, need, now, &approval));
        }
        std::vector<uint64_t> ids;
        for (const SanctionSpec& spec : req.specs()) {
          Sanction* out = resp->add_sanctions();
          STEWARD_RETURN_IF_ERROR(CreateSanction(txn, *hub_, c, spec, approval_id, now, fx, out));
          ids.push_back(out->id());
          if (approval_id != 0) approval.add_sanction_ids(out->id());
        }
        if (approval_id != 0) {
          txn.Put(Cf::kApprovals, RecordKey(approval_id), approval.SerializeAsString());
          resp->set_approval_id(approval_id);
        }
        PutIdempotent(txn, idem, EncodeIds(approval_id, ids), now);
        return absl::OkStatus();
      },
      std::move(done));
}

void Moderation::Revoke(const Caller& c, const v1::RevokeSanctionRequest& req,
                        v1::RevokeSanctionResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "RevokeSanction");
  if (s.ok() && req.sanction_id() == 0) s = absl::InvalidArgumentError("sanction_id is required");
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp](Txn& txn, ModerationEffects& fx) -> absl::Status {
        Sanction before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kSanctions, req.sanction_id(), "sanction", &before));
        if (!c.HasRole(Role::kLead) && before.issued_by() != c.name()) {
          return absl::PermissionDeniedError(
              "agents may revoke only sanctions they issued; ask a lead");
        }
        if (before.state() != v1::SANCTION_STATE_ACTIVE &&
            before.state() != v1::SANCTION_STATE_PENDING_APPROVAL) {
          return absl::FailedPreconditionError(absl::StrCat(
              "sanction ", before.id(), " is ",
              v1::SanctionState_Name(before.state()), "; only active or pending ones are revoked"));
        }
        int64_t now = options_.clock->NowMs();
        // Expiry is decided at read time, so a stored ACTIVE sanction may
        // already have ended: there is nothing to lift, and no game server
        // should be told of one.
        if (before.state() == v1::SANCTION_STATE_ACTIVE && before.expires_at_ms() != 0 &&
            before.expires_at_ms() <= now) {
          return absl::FailedPreconditionError(absl::StrCat(
              "sanction ", before.id(), " already expired at ", before.expires_at_ms(),
              " (unix ms); there is nothing to revoke"));
        }
        Sanction after = before;
        after.set_state(v1::SANCTION_STATE_REVOKED);
        after.set_revoked_by(c.name());
        after.set_revoked_at_ms(now);
        after.set_revoke_reason(req.reason());
        if (before.state() == v1::SANCTION_STATE_ACTIVE) {
          STEWARD_RETURN_IF_ERROR(Announce(txn, *hub_, after, v1::SanctionChange::CHANGE_LIFTED, now, fx));
        }
        PutSanction(txn, after, false, fx);
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "sanction.revoke",
                                     .target = absl::StrCat("sanction/", after.id()),
                                     .reason = req.reason(),
                                     .before = &before,
                                     .after = &after}));
        *resp->mutable_sanction() = std::move(after);
        return absl::OkStatus();
      },
      std::move(done));
}

void Moderation::DecideApproval(const Caller& c, const v1::DecideApprovalRequest& req,
                                v1::DecideApprovalResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kSupervisor, "deciding an approval");
  if (s.ok() && req.approval_id() == 0) s = absl::InvalidArgumentError("approval_id is required");
  if (s.ok()) s = CheckText("reason", req.reason(), req.approve() ? 0 : 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp](Txn& txn, ModerationEffects& fx) -> absl::Status {
        v1::Approval before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kApprovals, req.approval_id(), "approval", &before));
        if (before.proposed_by() == c.name()) {
          return absl::PermissionDeniedError(
              "a second GM must decide: the proposer cannot approve or reject their own proposal");
        }
        if (before.state() != v1::APPROVAL_STATE_PENDING) {
          return absl::FailedPreconditionError(
              absl::StrCat("approval ", before.id(), " was already decided by ", before.decided_by()));
        }
        int64_t now = options_.clock->NowMs();
        v1::Approval after = before;
        after.set_state(req.approve() ? v1::APPROVAL_STATE_APPROVED : v1::APPROVAL_STATE_REJECTED);
        after.set_decided_by(c.name());
        after.set_decided_at_ms(now);
        after.set_decision_reason(req.reason());
        for (uint64_t id : before.sanction_ids()) {
          Sanction sn;
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kSanctions, id, "sanction", &sn));
          // Revoked while pending: withdrawn; leave it.
          if (sn.state() != v1::SANCTION_STATE_PENDING_APPROVAL) continue;
          Sanction prior = sn;
          if (req.approve()) {
            sn.set_approved_by(c.name());
            STEWARD_RETURN_IF_ERROR(Activate(txn, *hub_, sn, now, fx));
          } else {
            sn.set_state(v1::SANCTION_STATE_REJECTED);
          }
          PutSanction(txn, sn, false, fx);
          STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                      {.action = req.approve() ? "sanction.approve" : "sanction.reject",
                                       .target = absl::StrCat("sanction/", id),
                                       .reason = req.reason(),
                                       .before = &prior,
                                       .after = &sn}));
        }
        txn.Put(Cf::kApprovals, RecordKey(after.id()), after.SerializeAsString());
        txn.Delete(Cf::kModIndex, TimeKey(kIdxPendingApprovals, before.proposed_at_ms(), before.id()));
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "approval.decide",
                                     .target = absl::StrCat("approval/", after.id()),
                                     .reason = req.reason(),
                                     .before = &before,
                                     .after = &after}));
        *resp->mutable_approval() = std::move(after);
        return absl::OkStatus();
      },
      std::move(done));
}

void Moderation::FileAppeal(const Caller& c, const v1::FileAppealRequest& req,
                            v1::FileAppealResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGameServerWithPlayer(c, "FileAppeal");
  if (s.ok() && req.sanction_id() == 0) s = absl::InvalidArgumentError("sanction_id is required");
  if (s.ok()) {
    s = CheckEnum("reason", req.reason(), v1::AppealReason_IsValid(req.reason()), false);
  }
  if (s.ok()) s = CheckText("text", req.text(), 0, kMaxTextLen);
  if (!s.ok()) return done(s);
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp](Txn& txn, ModerationEffects& fx) -> absl::Status {
        Sanction before;
        absl::Status got = LoadRecord(txn, Cf::kSanctions, req.sanction_id(), "sanction", &before);
        const auto& spec = before.spec();
        // A player learns nothing about sanctions that are not theirs, nor
        // about shadow mutes.
        if (absl::IsNotFound(got) || (got.ok() && (SubjectKindOf(spec.type()) != SubjectKind::kPlayer ||
                                                   spec.subject_id() != c.player_id ||
                                                   spec.type() == v1::SANCTION_TYPE_SHADOW_MUTE ||
                                                   (!spec.scope().realm_id().empty() &&
                                                    spec.scope().realm_id() != c.principal->realm)))) {
          return absl::NotFoundError(absl::StrCat("player ", c.player_id, " has no sanction ",
                                                  req.sanction_id()));
        }
        STEWARD_RETURN_IF_ERROR(got);
        int64_t now = options_.clock->NowMs();
        if (before.state() != v1::SANCTION_STATE_ACTIVE ||
            (before.expires_at_ms() != 0 && now >= before.expires_at_ms())) {
          return absl::FailedPreconditionError(
              absl::StrCat("sanction ", before.id(), " is no longer in force"));
        }
        if (before.appeal_id() != 0) {
          if (before.appeal_state() == v1::APPEAL_STATE_OPEN) {
            return absl::AlreadyExistsError(absl::StrCat(
                "sanction ", before.id(), " already has an open appeal (", before.appeal_id(), ")"));
          }
          return absl::FailedPreconditionError(absl::StrCat(
              "sanction ", before.id(), " was already appealed; the decision was ",
              v1::AppealState_Name(before.appeal_state())));
        }
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("appeal"));
        v1::Appeal* a = resp->mutable_appeal();
        a->set_id(id);
        a->set_sanction_id(before.id());
        a->set_player_id(c.player_id);
        a->set_reason(req.reason());
        a->set_text(req.text());
        a->set_state(v1::APPEAL_STATE_OPEN);
        a->set_filed_at_ms(now);
        txn.Put(Cf::kAppeals, RecordKey(id), a->SerializeAsString());
        txn.Put(Cf::kModIndex, TimeKey(kIdxOpenAppeals, now, id), "");
        txn.Put(Cf::kModIndex, TimeKey(kIdxAllAppeals, now, id), "");
        Sanction after = before;
        after.set_appeal_id(id);
        after.set_appeal_state(v1::APPEAL_STATE_OPEN);
        PutSanction(txn, after, false, fx);
        return AppendAudit(txn, c, now,
                           {.action = "appeal.file",
                            .target = absl::StrCat("sanction/", before.id()),
                            .reason = req.text(),
                            .after = a});
      },
      std::move(done));
}

void Moderation::DecideAppeal(const Caller& c, const v1::DecideAppealRequest& req,
                              v1::DecideAppealResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "deciding an appeal");
  if (s.ok() && req.appeal_id() == 0) s = absl::InvalidArgumentError("appeal_id is required");
  if (s.ok() && (req.decision() == v1::APPEAL_DECISION_UNSPECIFIED ||
                 !v1::AppealDecision_IsValid(req.decision()))) {
    s = absl::InvalidArgumentError("decision must be uphold, reduce or revoke");
  }
  if (s.ok()) s = CheckText("reply", req.reply(), 1, kMaxTextLen);
  if (s.ok() && req.decision() == v1::APPEAL_DECISION_REDUCE && req.new_duration_ms() <= 0) {
    s = absl::InvalidArgumentError("new_duration_ms is required to reduce a sanction");
  }
  if (!s.ok()) return done(s);
  CommitModeration(
      store_, &index_, hub_,
      [this, c, &req, resp](Txn& txn, ModerationEffects& fx) -> absl::Status {
        v1::Appeal before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kAppeals, req.appeal_id(), "appeal", &before));
        if (before.state() != v1::APPEAL_STATE_OPEN) {
          return absl::FailedPreconditionError(
              absl::StrCat("appeal ", before.id(), " was already decided by ", before.decided_by()));
        }
        Sanction sn;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kSanctions, before.sanction_id(), "sanction", &sn));
        Sanction prior = sn;
        int64_t now = options_.clock->NowMs();
        v1::Appeal after = before;
        after.set_decided_by(c.name());
        after.set_decided_at_ms(now);
        after.set_reply(req.reply());
        bool in_force = sn.state() == v1::SANCTION_STATE_ACTIVE;
        switch (req.decision()) {
          case v1::APPEAL_DECISION_UPHOLD:
            after.set_state(v1::APPEAL_STATE_UPHELD);
            break;
          case v1::APPEAL_DECISION_REDUCE: {
            int64_t current = sn.spec().duration_ms();
            if (current != 0 && req.new_duration_ms() >= current) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "new_duration_ms (", req.new_duration_ms(), ") must be shorter than the current ",
                  current));
            }
            after.set_state(v1::APPEAL_STATE_REDUCED);
            sn.mutable_spec()->set_duration_ms(req.new_duration_ms());
            if (in_force) sn.set_expires_at_ms(sn.effective_at_ms() + req.new_duration_ms());
            if (in_force) {
              STEWARD_RETURN_IF_ERROR(Announce(txn, *hub_, sn, v1::SanctionChange::CHANGE_AMENDED, now, fx));
            }
            break;
          }
          default:
            after.set_state(v1::APPEAL_STATE_REVOKED);
            if (in_force) {
              sn.set_state(v1::SANCTION_STATE_REVOKED);
              sn.set_revoked_by(c.name());
              sn.set_revoked_at_ms(now);
              sn.set_revoke_reason(absl::StrCat("appeal ", before.id(), ": ", req.reply()));
              STEWARD_RETURN_IF_ERROR(Announce(txn, *hub_, sn, v1::SanctionChange::CHANGE_LIFTED, now, fx));
            }
            break;
        }
        sn.set_appeal_state(after.state());
        PutSanction(txn, sn, false, fx);
        txn.Put(Cf::kAppeals, RecordKey(after.id()), after.SerializeAsString());
        txn.Delete(Cf::kModIndex, TimeKey(kIdxOpenAppeals, before.filed_at_ms(), before.id()));
        // The player hears the outcome through their game server.
        v1::Directive d;
        *d.mutable_target() = TargetOf(sn.spec());
        *d.mutable_appeal_outcome()->mutable_appeal() = after;
        d.mutable_appeal_outcome()->mutable_appeal()->clear_decided_by();
        STEWARD_RETURN_IF_ERROR(hub_->Append(txn, now, &d));
        fx.directive_seq = d.seq();
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "appeal.decide",
                                     .target = absl::StrCat("sanction/", sn.id()),
                                     .reason = req.reply(),
                                     .before = &prior,
                                     .after = &sn}));
        *resp->mutable_appeal() = std::move(after);
        *resp->mutable_sanction() = std::move(sn);
        return absl::OkStatus();
      },
      std::move(done));
}

absl::Status Moderation::Get(const Caller& c, const v1::GetSanctionRequest& req,
                             v1::Sanction* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading sanctions"));
  if (req.sanction_id() == 0) return absl::InvalidArgumentError("sanction_id is required");
  STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kSanctions, req.sanction_id(), "sanction", resp));
  Present(resp, options_.clock->NowMs());
  return absl::OkStatus();
}

absl::Status Moderation::List(const Caller& c, const v1::ListSanctionsRequest& req,
                              v1::ListSanctionsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading sanctions"));
  STEWARD_RETURN_IF_ERROR(CheckId("subject_id", req.subject_id(), false));
  TimeScan scan;
  scan.cf = Cf::kModIndex;
  scan.prefix = req.subject_id().empty() ? KeyWriter().Byte(kIdxAllSanctions).Release()
                                         : SubjectPrefix(req.subject_id());
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  int64_t now = options_.clock->NowMs();
  auto token = ScanByTime(*store_, scan,
                          [&](int64_t, uint64_t id, absl::string_view,
                              absl::string_view) -> absl::StatusOr<bool> {
                            Sanction s;
                            STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kSanctions, id, "sanction", &s));
                            Present(&s, now);
                            if (req.active_only() && s.state() != v1::SANCTION_STATE_ACTIVE) {
                              return false;
                            }
                            *resp->add_sanctions() = std::move(s);
                            return true;
                          });
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

absl::Status Moderation::ListApprovals(const Caller& c, const v1::ListApprovalsRequest& req,
                                       v1::ListApprovalsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kSupervisor, "reading approvals"));
  TimeScan scan;
  scan.cf = Cf::kModIndex;
  scan.prefix =
      KeyWriter().Byte(req.pending_only() ? kIdxPendingApprovals : kIdxAllApprovals).Release();
  scan.oldest_first = req.pending_only();  // the queue: oldest waits longest
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  auto token = PageRecords(*store_, scan, Cf::kApprovals, "approval", resp->mutable_approvals());
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

absl::Status Moderation::ListAppeals(const Caller& c, const v1::ListAppealsRequest& req,
                                     v1::ListAppealsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kLead, "reading appeals"));
  TimeScan scan;
  scan.cf = Cf::kModIndex;
  scan.prefix = KeyWriter().Byte(req.open_only() ? kIdxOpenAppeals : kIdxAllAppeals).Release();
  scan.oldest_first = req.open_only();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  auto token = PageRecords(*store_, scan, Cf::kAppeals, "appeal", resp->mutable_appeals());
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

absl::Status Moderation::SuggestPenalty(const Caller& c, const v1::SuggestPenaltyRequest& req,
                                        v1::SuggestPenaltyResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "SuggestPenalty"));
  STEWARD_RETURN_IF_ERROR(CheckId("player_id", req.player_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("policy_code", req.policy_code(), true));
  int64_t now = options_.clock->NowMs();
  double total = 0;
  absl::Status bad = absl::OkStatus();
  std::string prefix = SubjectPrefix(req.player_id());
  STEWARD_RETURN_IF_ERROR(store_->Scan(
      Cf::kModIndex, prefix, storage::PrefixSuccessor(prefix), false,
      [&](absl::string_view key, absl::string_view) {
        KeyReader r(key.substr(prefix.size()));
        r.I64();
        auto id = r.U64();
        Sanction s;
        bad = id ? ReadRecord(*store_, Cf::kSanctions, *id, "sanction", &s)
                 : absl::DataLossError("sanction index entry is unreadable");
        if (!bad.ok()) return false;
        if (SubjectKindOf(s.spec().type()) != SubjectKind::kPlayer || s.strike_points() <= 0) {
          return true;
        }
        if (s.state() == v1::SANCTION_STATE_REVOKED || s.state() == v1::SANCTION_STATE_REJECTED) {
          return true;
        }
        const auto& realm = s.spec().scope().realm_id();
        if (!realm.empty() && !req.realm_id().empty() && realm != req.realm_id()) return true;
        double age = static_cast<double>(std::max<int64_t>(0, now - s.issued_at_ms()));
        double remaining =
            s.strike_points() * std::exp2(-age / static_cast<double>(options_.strike_half_life_ms));
        auto* contrib = resp->add_contributions();
        contrib->set_sanction_id(s.id());
        contrib->set_policy_code(s.spec().policy_code());
        contrib->set_points(s.strike_points());
        contrib->set_remaining(remaining);
        total += remaining;
        return true;
      }));
  STEWARD_RETURN_IF_ERROR(bad);
  double offence = PolicyPoints(req.policy_code());
  double after = total + offence;
  resp->set_strike_points(total);
  resp->set_offence_points(offence);
  // The ladder: warning -> mute -> temp ban -> longer temp ban -> ban.
  struct Step {
    double below;
    SanctionType type;
    int64_t duration_ms;
  };
  static constexpr Step kLadder[] = {
      {3, v1::SANCTION_TYPE_WARNING, 0},
      {6, v1::SANCTION_TYPE_MUTE, kDayMs},
      {10, v1::SANCTION_TYPE_TEMP_BAN, 3 * kDayMs},
      {20, v1::SANCTION_TYPE_TEMP_BAN, 30 * kDayMs},
  };
  Step chosen{0, v1::SANCTION_TYPE_BAN, 0};
  for (const Step& step : kLadder) {
    if (after < step.below) {
      chosen = step;
      break;
    }
  }
  resp->set_suggested_type(chosen.type);
  resp->set_suggested_duration_ms(chosen.duration_ms);
  resp->set_explanation(absl::StrCat(
      resp->contributions_size(), " earlier strike(s) weigh ", absl::SixDigits(total),
      " points now (half-life ", options_.strike_half_life_ms / kDayMs, " days); ",
      req.policy_code(), " adds ", absl::SixDigits(offence), ", total ", absl::SixDigits(after),
      " -> ", TypeName(chosen.type),
      chosen.duration_ms ? absl::StrCat(" for ", chosen.duration_ms / kHourMs, " h") : ""));
  return absl::OkStatus();
}

absl::Status Moderation::CheckPlayer(const Caller& c, const v1::CheckPlayerRequest& req,
                                     v1::PlayerStatus* resp) const {
  v1::CheckPlayerRequest q = req;
  if (c.is_game_server()) {
    if (q.player_id().empty()) q.set_player_id(c.player_id);
    if (q.realm_id().empty()) q.set_realm_id(c.principal->realm);
    STEWARD_RETURN_IF_ERROR(RequireGameServerScope(c, q.realm_id(), q.server_id(), "check players"));
    if (q.server_id().empty()) q.set_server_id(c.principal->server);
  } else {
    STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "CheckPlayer"));
  }
  STEWARD_RETURN_IF_ERROR(CheckId("player_id", q.player_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", q.realm_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", q.server_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("device_hash", q.device_hash(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("ip_hash", q.ip_hash(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("guild_id", q.guild_id(), false));
  if (q.channel_ids_size() > 16) return absl::InvalidArgumentError("channel_ids: at most 16");
  for (const auto& ch : q.channel_ids()) STEWARD_RETURN_IF_ERROR(CheckId("channel_ids", ch, true));
  Evaluate(q, options_.clock->NowMs(), resp);
  return absl::OkStatus();
}

void Moderation::Evaluate(const v1::CheckPlayerRequest& q, int64_t now,
                          v1::PlayerStatus* out) const {
  out->set_can_login(true);
  out->set_can_chat(true);
  out->set_checked_at_ms(now);
  const std::string* channel = nullptr;  // the channel being looked up
  auto visit = [&](const IndexedSanction& s) {
    if (!s.InForce(now) || !s.Covers(q.realm_id(), q.server_id())) return;
    switch (s.type) {
      case v1::SANCTION_TYPE_BAN:
      case v1::SANCTION_TYPE_TEMP_BAN:
      case v1::SANCTION_TYPE_DEVICE_BAN:
      case v1::SANCTION_TYPE_IP_BAN:
        out->set_can_login(false);
        break;
      case v1::SANCTION_TYPE_MUTE:
        out->set_can_chat(false);
        break;
      case v1::SANCTION_TYPE_SHADOW_MUTE:
        out->set_shadow_muted(true);
        break;
      case v1::SANCTION_TYPE_RESTRICT:
        if (s.features) {
          for (const std::string* f : *s.features) out->add_restricted_features(*f);
        }
        break;
      case v1::SANCTION_TYPE_GUILD_BAN:
        out->set_guild_banned(true);
        break;
      case v1::SANCTION_TYPE_CHANNEL_BAN:
        if (channel != nullptr &&
            (out->banned_channels_size() == 0 || out->banned_channels(out->banned_channels_size() - 1) != *channel)) {
          out->add_banned_channels(*channel);
        }
        break;
      default:
        break;
    }
    auto* r = out->add_restrictions();
    r->set_sanction_id(s.id);
    r->set_type(s.type);
    r->set_policy_code(*s.policy_code);
    r->set_expires_at_ms(s.expires_at_ms);
    r->set_remaining_ms(s.expires_at_ms == 0 ? 0 : s.expires_at_ms - now);
    r->set_appeal_state(s.appeal_state);
    bool shown = s.type != v1::SANCTION_TYPE_SHADOW_MUTE;
    r->set_show_to_player(shown);
    // Device, IP, guild and channel bans are not the player's own sanction to appeal.
    r->set_appealable(shown && s.appeal_state == v1::APPEAL_STATE_UNSPECIFIED &&
                      SubjectKindOf(s.type) == SubjectKind::kPlayer);
    if (shown) r->set_reason(s.reason);
    if (s.features) {
      for (const std::string* f : *s.features) r->add_features(*f);
    }
  };
  index_.ForSubject(SubjectKind::kPlayer, q.player_id(), visit);
  index_.ForSubject(SubjectKind::kDevice, q.device_hash(), visit);
  index_.ForSubject(SubjectKind::kIp, q.ip_hash(), visit);
  index_.ForSubject(SubjectKind::kGuild, q.guild_id(), visit);
  for (const std::string& ch : q.channel_ids()) {
    channel = &ch;
    index_.ForSubject(SubjectKind::kChannel, ch, visit);
  }
}

int Moderation::CountIssuedSince(absl::string_view subject, int64_t since_ms, int cap) const {
  int n = 0;
  std::string p = KeyWriter().Byte(kIdxSubject).Str(subject).Release();
  absl::Status s = store_->Scan(Cf::kModIndex, KeyWriter(p).I64(since_ms).key(), storage::PrefixSuccessor(p),
                                false, [&](absl::string_view, absl::string_view) { return ++n < cap; });
  if (!s.ok()) LogWarning("sanction count for churn: ", s.ToString());
  return n;
}

absl::Status CheckSanctionExists(storage::Txn& txn, uint64_t id) {
  std::string v;
  absl::Status s = txn.Get(Cf::kSanctions, RecordKey(id), &v);
  if (absl::IsNotFound(s)) return absl::InvalidArgumentError(absl::StrCat("sanction ", id, " does not exist"));
  return s;
}

}  // namespace steward
