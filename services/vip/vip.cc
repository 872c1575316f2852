#include "services/vip/vip.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/log.h"
#include "services/common/records.h"
#include "services/tickets/tickets.h"
#include "services/common/validation.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::CareTask;
using v1::VipProfile;

constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr uint32_t kMaxAttemptsCap = 5;
constexpr int kMaxHistory = 50;
constexpr int64_t kMaxPurchaseCents = int64_t{1'000'000} * 100;  // one purchase

// Index families in Cf::kVipIndex.
constexpr uint8_t kIdxOpenTasks = 'w';  // owner ("" = queue), due, task
constexpr uint8_t kIdxAllTasks = 'T';   // created, task
constexpr uint8_t kIdxOnShift = 'S';    // GM -> "" while on shift

std::string ProfileKey(absl::string_view realm, absl::string_view player) {
  return KeyWriter().Str(realm).Str(player).Release();
}
std::string OpenTaskKey(const CareTask& t) {
  return KeyWriter().Byte(kIdxOpenTasks).Str(t.owner()).I64(t.due_at_ms()).U64(t.id()).Release();
}

absl::Status LoadProfile(Txn& txn, absl::string_view realm, absl::string_view player,
                         VipProfile* p) {
  std::string v;
  absl::Status s = txn.Get(Cf::kVip, ProfileKey(realm, player), &v);
  if (absl::IsNotFound(s)) {
    p->set_realm_id(std::string(realm));
    p->set_player_id(std::string(player));
    return absl::OkStatus();
  }
  STEWARD_RETURN_IF_ERROR(s);
  if (!p->ParseFromString(v)) {
    return absl::DataLossError(absl::StrCat("VIP profile of ", player, " is unreadable"));
  }
  return absl::OkStatus();
}

void WriteProfile(Txn& txn, VipProfile& p) {
  p.set_version(p.version() + 1);
  txn.Put(Cf::kVip, ProfileKey(p.realm_id(), p.player_id()), p.SerializeAsString());
}

void PutTask(Txn& txn, const CareTask& t, const CareTask* before) {
  if (before != nullptr && before->state() == v1::CARE_TASK_STATE_OPEN) {
    txn.Delete(Cf::kVipIndex, OpenTaskKey(*before));
  }
  if (t.state() == v1::CARE_TASK_STATE_OPEN) txn.Put(Cf::kVipIndex, OpenTaskKey(t), "");
  txn.Put(Cf::kCareTasks, RecordKey(t.id()), t.SerializeAsString());
}

// Where a game server or a GM names the player: game servers act for the
// player in their own realm; GMs name both.
absl::Status Target(const Caller& c, absl::string_view player, absl::string_view realm,
                    std::string* out_player, std::string* out_realm) {
  if (c.is_game_server()) {
    *out_player = player.empty() ? c.player_id : std::string(player);
    *out_realm = c.principal->realm;
    if (!realm.empty() && realm != c.principal->realm) {
      return absl::PermissionDeniedError(
          absl::StrCat(c.name(), " acts for realm ", c.principal->realm, " only"));
    }
  } else {
    *out_player = std::string(player);
    *out_realm = std::string(realm);
    STEWARD_RETURN_IF_ERROR(CheckId("realm_id", *out_realm, true));
  }
  return CheckId("player_id", *out_player, true);
}

absl::Status CheckMonthDay(absl::string_view field, const std::string& v) {
  if (v.empty()) return absl::OkStatus();
  int month = 0, day = 0;
  if (v.size() != 5 || v[2] != '-' || !absl::SimpleAtoi(v.substr(0, 2), &month) ||
      !absl::SimpleAtoi(v.substr(3, 2), &day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be MM-DD, e.g. 04-17"));
  }
  return absl::OkStatus();
}

// "MM-DD" and year of a unix-ms instant, in UTC.
std::pair<std::string, int> MonthDay(int64_t ms) {
  absl::CivilDay d = absl::ToCivilDay(absl::FromUnixMillis(ms), absl::UTCTimeZone());
  return {absl::StrFormat("%02d-%02d", d.month(), d.day()), static_cast<int>(d.year())};
}

}  // namespace

VipCare::VipCare(storage::Store* store, const GmDirectory* auth, VipOptions options)
    : store_(store), auth_(auth), options_(std::move(options)) {
  // Tier holders, for the event pipeline's logins. A failed scan leaves
  // the set short: logged, and each later profile write adds its player.
  std::vector<std::pair<std::string, std::string>> found;  // (realm, player)
  absl::Status s = store_->Scan(Cf::kVip, "", "", false, [&](absl::string_view, absl::string_view v) {
    VipProfile p;
    if (p.ParseFromArray(v.data(), static_cast<int>(v.size())) && !p.tier().empty()) {
      found.emplace_back(p.realm_id(), p.player_id());
    }
    return true;
  }, storage::Store::CacheUse::kBypass);
  absl::MutexLock lock(&holders_mu_);
  for (auto& [realm, player] : found) holders_[realm].insert(std::move(player));
  if (!s.ok()) LogWarning("VIP tier holders not loaded: ", s.ToString());
}

void VipCare::PutProfile(Txn& txn, VipProfile& p) const {
  WriteProfile(txn, p);
  absl::MutexLock lock(&holders_mu_);
  if (!p.tier().empty()) {
    holders_[p.realm_id()].insert(p.player_id());
  } else if (auto it = holders_.find(p.realm_id()); it != holders_.end()) {
    it->second.erase(p.player_id());
  }
}

bool VipCare::HoldsTier(absl::string_view realm, absl::string_view player) const {
  absl::ReaderMutexLock lock(&holders_mu_);
  auto it = holders_.find(realm);
  return it != holders_.end() && it->second.contains(player);
}

VipCare::~VipCare() { sweeper_.Stop(); }

void VipCare::StartSweeper(absl::Duration every) {
  // A failing or closing store is retried on the next round.
  // First right after start, so a daemon restarted more often than
  // `every` still sweeps; then every `every`.
  sweeper_.Start(
      every, [this] { sweep_failures_.Report(Sweep()); },
      PeriodicTask::FirstRun::kAtOnce);
}

namespace {

int Rank(const VipOptions& o, absl::string_view tier) {
  for (size_t i = 0; i < o.tiers.size(); ++i) {
    if (o.tiers[i].name == tier) return static_cast<int>(i) + 1;
  }
  return 0;
}

const VipTierConfig* TierConfig(const VipOptions& o, absl::string_view tier) {
  int r = Rank(o, tier);
  return r == 0 ? nullptr : &o.tiers[r - 1];
}

// The rolling window as of now: drops days older than 30 and totals.
void RollSpend(VipProfile& p, int64_t now) {
  int64_t today = now / kDayMs;
  auto* days = p.mutable_recent_spend();
  int keep = 0;
  for (int i = 0; i < days->size(); ++i) {
    if (days->Get(i).day() > today - 30) days->SwapElements(keep++, i);
  }
  days->DeleteSubrange(keep, days->size() - keep);
  int64_t total = 0;
  for (const auto& d : *days) total += d.cents();
  p.set_spend_30d_cents(total);
}

CareTask NewTask(Txn& txn, const VipOptions& o, const VipProfile& p, v1::CareTaskKind kind,
                 int64_t now, int64_t due, std::string reason, absl::StatusOr<uint64_t> id) {
  CareTask t;
  t.set_id(*id);
  t.set_player_id(p.player_id());
  t.set_realm_id(p.realm_id());
  t.set_kind(kind);
  t.set_state(v1::CARE_TASK_STATE_OPEN);
  t.set_owner(p.care_gm());
  t.set_created_at_ms(now);
  t.set_due_at_ms(due);
  t.set_max_attempts(o.default_max_attempts);
  t.set_reason(std::move(reason));
  t.set_tier(p.tier());
  txn.Put(Cf::kVipIndex, KeyWriter().Byte(kIdxAllTasks).I64(now).U64(t.id()).key(), "");
  return t;
}

void AddHistory(VipProfile& p, absl::string_view to, int64_t now, absl::string_view reason,
                absl::string_view by) {
  auto* h = p.add_tier_history();
  h->set_from_tier(p.tier());
  h->set_to_tier(std::string(to));
  h->set_at_ms(now);
  h->set_reason(std::string(reason));
  h->set_by(std::string(by));
  if (p.tier_history_size() > kMaxHistory) p.mutable_tier_history()->DeleteSubrange(0, 1);
  p.set_tier(std::string(to));
  p.set_tier_since_ms(now);
  p.clear_pending_tier();
  p.set_pending_since_ms(0);
}

// Moves the tier toward what spend says (see vip.h); returns tasks made.
absl::Status Retier(Txn& txn, const VipOptions& o, VipProfile& p, int64_t now,
                    std::vector<CareTask>* tasks) {
  RollSpend(p, now);
  std::string computed;
  for (const auto& t : o.tiers) {
    if (p.lifetime_spend_cents() >= t.lifetime_cents || p.spend_30d_cents() >= t.rolling_30d_cents) {
      computed = t.name;
    }
  }
  int have = Rank(o, p.tier()), want = Rank(o, computed);
  if (want > have) {
    AddHistory(p, computed, now, "spend reached the tier's threshold", "steward");
    p.clear_tier_set_manually_by();
    STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
    tasks->push_back(NewTask(txn, o, p, v1::CARE_TASK_KIND_WELCOME, now, now + 2 * kDayMs,
                             absl::StrCat("welcome to ", computed), id));
  } else if (want < have && p.tier_set_manually_by().empty()) {
    if (p.pending_tier() != computed || p.pending_since_ms() == 0) {
      p.set_pending_tier(computed);
      p.set_pending_since_ms(now);
    } else if (now - p.pending_since_ms() >= o.downgrade_grace_ms) {
      AddHistory(p, computed, now, "spend stayed below the tier's threshold through the grace period",
                 "steward");
    }
  } else {
    p.clear_pending_tier();
    p.set_pending_since_ms(0);
  }
  return absl::OkStatus();
}

}  // namespace

void VipCare::RecordPurchaseEvent(const Caller& c, const EventView& e) {
  struct Call {
    v1::RecordPurchaseRequest req;
    v1::VipProfileResponse resp;
  };
  auto call = std::make_shared<Call>();
  for (const auto& a : e.attributes()) {
    if (a.key() == "order_id") call->req.set_idempotency_key(std::string(a.value()));
  }
  call->req.set_player_id(std::string(e.player_id()));
  call->req.set_amount_cents(std::llround(e.value() * 100));
  call->req.set_at_ms(e.time_ms());
  RecordPurchase(c, call->req, &call->resp, [call, who = c.name()](absl::Status s) {
    if (!s.ok()) {
      LogWarning("purchase event from ", who, " for ", call->req.player_id(), " (order ",
                 call->req.idempotency_key(), ") not recorded: ", s.ToString());
    }
  });
}

void VipCare::RecordPurchase(const Caller& c, const v1::RecordPurchaseRequest& req,
                             v1::VipProfileResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = c.is_game_server() ? absl::OkStatus()
                                      : absl::PermissionDeniedError("RecordPurchase is for game servers");
  if (s.ok()) s = Target(c, req.player_id(), "", &player, &realm);
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok() && (req.amount_cents() <= 0 || req.amount_cents() > kMaxPurchaseCents)) {
    s = absl::InvalidArgumentError("amount_cents must be positive and at most 100,000,000");
  }
  int64_t now = Now();
  if (s.ok() && (req.at_ms() < 0 || req.at_ms() > now + kDayMs)) {
    s = absl::InvalidArgumentError("at_ms must be unix milliseconds, not in the future");
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, player, realm, now](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        std::string idem = IdempotencyKey(c.name(), "purchase", req.idempotency_key());
        STEWARD_ASSIGN_OR_RETURN(uint64_t earlier, FindIdempotent(txn, idem));
        if (earlier != 0) {  // already counted
          p->clear_contact();
          p->set_contact_redacted(true);
          return absl::OkStatus();
        }
        int64_t at = req.at_ms() == 0 ? now : req.at_ms();
        p->set_lifetime_spend_cents(p->lifetime_spend_cents() + req.amount_cents());
        if (p->first_purchase_ms() == 0 || at < p->first_purchase_ms()) p->set_first_purchase_ms(at);
        p->set_last_purchase_ms(std::max(p->last_purchase_ms(), at));
        int64_t day = at / kDayMs;
        bool found = false;
        for (auto& d : *p->mutable_recent_spend()) {
          if (d.day() == day) {
            d.set_cents(d.cents() + req.amount_cents());
            found = true;
          }
        }
        if (!found) {
          auto* d = p->add_recent_spend();
          d->set_day(day);
          d->set_cents(req.amount_cents());
        }
        std::vector<CareTask> tasks;
        STEWARD_RETURN_IF_ERROR(Retier(txn, options_, *p, now, &tasks));
        for (auto& t : tasks) {
          PutTask(txn, t, nullptr);
          *resp->add_created_tasks() = std::move(t);
        }
        PutProfile(txn, *p);
        RecordIdempotent(txn, idem, 1, now);
        p->clear_contact();
        p->set_contact_redacted(true);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::RecordEvent(const Caller& c, const EventView& e) {
  // The event's bytes belong to its batch: what outlives this call is copied.
  const absl::string_view type = e.type();
  if (type == "purchase") return RecordPurchaseEvent(c, e);
  bool login = type == "login";
  if ((!login && type != "logout") || e.player_id().empty() || !c.is_game_server() ||
      !HoldsTier(c.principal->realm, e.player_id())) {
    return;
  }
  double minutes = 0;
  if (login) {
    for (const auto& a : e.attributes()) {
      if (a.key() == "last_session_minutes" && !absl::SimpleAtod(a.value(), &minutes)) minutes = 0;
    }
  } else {
    minutes = e.value();
  }
  auto resp = std::make_shared<v1::VipProfileResponse>();
  RecordActivity(c, e.player_id(), e.time_ms(), login, minutes, /*tier_holders_only=*/true, resp.get(),
                 [resp, who = c.name(), player = std::string(e.player_id()),
                  type = std::string(type)](absl::Status s) {
                   if (!s.ok()) {
                     LogWarning(type, " event from ", who, " for ", player, " not recorded: ", s.ToString());
                   }
                 });
}

void VipCare::RecordLogin(const Caller& c, const v1::RecordLoginRequest& req,
                          v1::VipProfileResponse* resp, storage::DoneFn done) {
  if (!c.is_game_server()) return done(absl::PermissionDeniedError("RecordLogin is for game servers"));
  RecordActivity(c, req.player_id(), req.at_ms(), /*login=*/true, req.last_session_minutes(),
                 /*tier_holders_only=*/false, resp, std::move(done));
}

void VipCare::RecordActivity(const Caller& c, absl::string_view player_id, int64_t at_ms, bool login,
                             double session_minutes, bool tier_holders_only,
                             v1::VipProfileResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = Target(c, player_id, "", &player, &realm);
  if (!s.ok()) return done(s);
  int64_t now = Now();
  store_->Commit(
      [this, at_ms, login, session_minutes, tier_holders_only, resp, player, realm,
       now](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        if (tier_holders_only && p->tier().empty()) return absl::OkStatus();  // nothing written
        int64_t at = at_ms <= 0 ? now : std::min(at_ms, now);
        if (login) {
          if (p->last_login_ms() != 0 && at > p->last_login_ms()) {
            // The player's own rhythm: a moving average of days between logins.
            double gap = static_cast<double>(at - p->last_login_ms()) / kDayMs;
            p->set_login_gap_days_avg(p->logins() <= 1 ? gap : 0.8 * p->login_gap_days_avg() + 0.2 * gap);
          }
          p->set_last_login_ms(std::max(p->last_login_ms(), at));
          p->set_logins(p->logins() + 1);
        }
        if (session_minutes > 0) {
          double m = std::min<double>(session_minutes, 24 * 60);
          bool first = p->session_minutes_baseline() == 0;
          p->set_session_minutes_baseline(first ? m : 0.95 * p->session_minutes_baseline() + 0.05 * m);
          p->set_session_minutes_recent(first ? m : 0.7 * p->session_minutes_recent() + 0.3 * m);
        }
        std::vector<CareTask> tasks;
        STEWARD_RETURN_IF_ERROR(Retier(txn, options_, *p, now, &tasks));
        for (auto& t : tasks) {
          PutTask(txn, t, nullptr);
          *resp->add_created_tasks() = std::move(t);
        }
        PutProfile(txn, *p);
        p->clear_contact();
        p->set_contact_redacted(true);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::SetContact(const Caller& c, const v1::SetContactRequest& req,
                         v1::VipProfileResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = c.is_game_server() || c.is_gm()
                       ? Target(c, req.player_id(), req.realm_id(), &player, &realm)
                       : absl::PermissionDeniedError("SetContact");
  if (s.ok()) s = CheckText("contact.email", req.contact().email(), 0, kMaxContactLen);
  if (s.ok()) s = CheckText("contact.phone", req.contact().phone(), 0, 32);
  if (s.ok()) s = CheckId("contact.preferred_channel", req.contact().preferred_channel(), false);
  if (s.ok()) s = CheckMonthDay("birthday", req.birthday());
  if (s.ok()) s = CheckMonthDay("anniversary", req.anniversary());
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, player, realm](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        if (c.is_gm() && !c.HasRole(Role::kSupervisor) && p->care_gm() != c.name()) {
          return absl::PermissionDeniedError(
              "only the player's care GM or a supervisor may change contact details");
        }
        VipProfile before = *p;
        *p->mutable_contact() = req.contact();
        p->set_birthday(req.birthday());
        p->set_anniversary(req.anniversary());
        PutProfile(txn, *p);
        // Audit without the personal data itself.
        before.clear_contact();
        VipProfile after = *p;
        after.clear_contact();
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, Now(),
                                    {.action = "vip.contact_set",
                                     .target = absl::StrCat("vip/", realm, "/", player),
                                     .before = &before,
                                     .after = &after}));
        p->clear_contact();
        p->set_contact_redacted(true);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::SetTier(const Caller& c, const v1::SetTierRequest& req, v1::VipProfileResponse* resp,
                      storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = c.is_game_server() ? absl::OkStatus() : RequireGm(c, Role::kLead, "setting a VIP tier");
  if (s.ok()) s = Target(c, req.player_id(), req.realm_id(), &player, &realm);
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (s.ok() && !req.tier().empty() && Rank(options_, req.tier()) == 0) {
    s = absl::InvalidArgumentError(absl::StrCat("tier ", req.tier(), " is not a configured tier"));
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, player, realm](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        VipProfile before = *p;
        int64_t now = Now();
        bool up = Rank(options_, req.tier()) > Rank(options_, p->tier());
        AddHistory(*p, req.tier(), now, req.reason(), c.name());
        p->set_tier_set_manually_by(c.name());
        if (up) {
          STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
          CareTask t = NewTask(txn, options_, *p, v1::CARE_TASK_KIND_WELCOME, now, now + 2 * kDayMs,
                               absl::StrCat("welcome to ", req.tier()), id);
          PutTask(txn, t, nullptr);
          *resp->add_created_tasks() = std::move(t);
        }
        PutProfile(txn, *p);
        before.clear_contact();
        VipProfile after = *p;
        after.clear_contact();
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "vip.tier_set",
                                     .target = absl::StrCat("vip/", realm, "/", player),
                                     .reason = req.reason(),
                                     .before = &before,
                                     .after = &after}));
        p->clear_contact();
        p->set_contact_redacted(true);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::GetProfile(const Caller& c, const v1::GetVipProfileRequest& req,
                         v1::VipProfileResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = RequireGm(c, Role::kAgent, "reading VIP profiles");
  if (s.ok()) s = Target(c, req.player_id(), req.realm_id(), &player, &realm);
  if (!s.ok()) return done(s);
  // Churn needs scans of other domains: computed outside the transaction.
  v1::VipProfile snapshot;
  std::string v;
  s = store_->Get(Cf::kVip, ProfileKey(realm, player), &v);
  if (absl::IsNotFound(s)) {
    return done(absl::NotFoundError(absl::StrCat("player ", player, " has no VIP profile in ", realm)));
  }
  if (!s.ok()) return done(s);
  if (!snapshot.ParseFromString(v)) return done(absl::DataLossError("VIP profile is unreadable"));
  v1::ChurnRisk churn = ComputeChurn(snapshot, Now());
  AddSummaries(snapshot, Now(), resp);
  bool sees_contact = c.HasRole(Role::kSupervisor) || snapshot.care_gm() == c.name();
  if (!sees_contact) {
    *resp->mutable_profile() = std::move(snapshot);
    *resp->mutable_profile()->mutable_churn() = std::move(churn);
    resp->mutable_profile()->clear_contact();
    resp->mutable_profile()->set_contact_redacted(true);
    return done(absl::OkStatus());
  }
  // Personal data read: the audit record commits before the answer.
  store_->Commit(
      [this, c, resp, player, realm, churn](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        *p->mutable_churn() = churn;
        return AppendAudit(txn, c, Now(),
                           {.action = "vip.contact_read",
                            .target = absl::StrCat("vip/", realm, "/", player),
                            .reason = c.name() == p->care_gm() ? "care GM" : "supervisor"});
      },
      std::move(done));
}

void VipCare::AssignCareGm(const Caller& c, const v1::AssignCareGmRequest& req,
                           v1::VipProfileResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = RequireGm(c, Role::kLead, "assigning care GMs");
  if (s.ok()) s = Target(c, req.player_id(), req.realm_id(), &player, &realm);
  if (s.ok() && !req.care_gm().empty() && !auth_->IsGm(req.care_gm())) {
    s = absl::InvalidArgumentError(absl::StrCat("care_gm ", req.care_gm(), " is not a known GM"));
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, player, realm](Txn& txn) -> absl::Status {
        VipProfile* p = resp->mutable_profile();
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, p));
        VipProfile before = *p;
        p->set_care_gm(req.care_gm());
        PutProfile(txn, *p);
        before.clear_contact();
        VipProfile after = *p;
        after.clear_contact();
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, Now(),
                                    {.action = "vip.care_gm",
                                     .target = absl::StrCat("vip/", realm, "/", player),
                                     .before = &before,
                                     .after = &after}));
        p->clear_contact();
        p->set_contact_redacted(true);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::CreateTask(const Caller& c, const v1::CreateCareTaskRequest& req,
                         v1::CareTaskResponse* resp, storage::DoneFn done) {
  std::string player, realm;
  absl::Status s = RequireGm(c, Role::kLead, "creating care tasks");
  if (s.ok()) s = Target(c, req.player_id(), req.realm_id(), &player, &realm);
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (s.ok() && req.max_attempts() > kMaxAttemptsCap) {
    s = absl::InvalidArgumentError("max_attempts is at most 5");
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, player, realm](Txn& txn) -> absl::Status {
        VipProfile p;
        STEWARD_RETURN_IF_ERROR(LoadProfile(txn, realm, player, &p));
        int64_t now = Now();
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
        CareTask t = NewTask(txn, options_, p, v1::CARE_TASK_KIND_MANUAL, now,
                             req.due_at_ms() ? req.due_at_ms() : now + kDayMs, req.reason(), id);
        if (req.max_attempts() != 0) t.set_max_attempts(req.max_attempts());
        PutTask(txn, t, nullptr);
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "care.create",
                                     .target = absl::StrCat("care_task/", id),
                                     .reason = req.reason(),
                                     .after = &t}));
        *resp->mutable_task() = std::move(t);
        return absl::OkStatus();
      },
      std::move(done));
}

void VipCare::RecordAttempt(const Caller& c, const v1::RecordAttemptRequest& req,
                            v1::CareTaskResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "recording care attempts");
  if (s.ok() && req.task_id() == 0) s = absl::InvalidArgumentError("task_id is required");
  if (s.ok() && (req.outcome() == v1::ATTEMPT_OUTCOME_UNSPECIFIED ||
                 !v1::AttemptOutcome_IsValid(req.outcome()))) {
    s = absl::InvalidArgumentError("outcome must be reached, no_answer, left_message or wrong_contact");
  }
  if (s.ok()) s = CheckText("note", req.note(), 0, kMaxReasonLen);
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        CareTask before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kCareTasks, req.task_id(), "care task", &before));
        if (!before.owner().empty() && before.owner() != c.name() && !c.HasRole(Role::kLead)) {
          return absl::PermissionDeniedError(
              absl::StrCat("care task ", before.id(), " belongs to ", before.owner()));
        }
        if (before.state() != v1::CARE_TASK_STATE_OPEN) {
          return absl::FailedPreconditionError(absl::StrCat("care task ", before.id(), " is closed"));
        }
        int64_t now = Now();
        CareTask after = before;
        if (after.owner().empty()) after.set_owner(c.name());  // taken from the queue
        auto* a = after.add_attempts();
        a->set_at_ms(now);
        a->set_by(c.name());
        a->set_outcome(req.outcome());
        a->set_note(req.note());
        if (req.outcome() == v1::ATTEMPT_OUTCOME_REACHED) {
          after.set_state(v1::CARE_TASK_STATE_DONE);
          after.set_closed_at_ms(now);
        } else if (static_cast<uint32_t>(after.attempts_size()) >= after.max_attempts()) {
          after.set_state(v1::CARE_TASK_STATE_UNREACHABLE);
          after.set_closed_at_ms(now);
        }
        PutTask(txn, after, &before);
        if (after.kind() == v1::CARE_TASK_KIND_OUTREACH && after.state() != v1::CARE_TASK_STATE_OPEN) {
          VipProfile p;
          STEWARD_RETURN_IF_ERROR(LoadProfile(txn, after.realm_id(), after.player_id(), &p));
          if (p.open_outreach_task() == after.id()) {
            p.set_open_outreach_task(0);
            PutProfile(txn, p);
          }
        }
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "care.attempt",
                                     .target = absl::StrCat("care_task/", after.id()),
                                     .reason = req.note(),
                                     .before = &before,
                                     .after = &after}));
        *resp->mutable_task() = std::move(after);
        return absl::OkStatus();
      },
      std::move(done));
}

absl::Status VipCare::ListTasks(const Caller& c, const v1::ListCareTasksRequest& req,
                                v1::ListCareTasksResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading care tasks"));
  STEWARD_RETURN_IF_ERROR(CheckId("owner", req.owner(), false));
  size_t limit = EffectivePageSize(req.page_size());
  if (req.open_only() || req.queue_only()) {
    std::string owner = req.queue_only() ? "" : (req.owner().empty() ? c.name() : req.owner());
    std::string prefix = KeyWriter().Byte(kIdxOpenTasks).Str(owner).Release();
    absl::Status bad = absl::OkStatus();
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kVipIndex, prefix, storage::PrefixSuccessor(prefix), false,
                                 [&](absl::string_view key, absl::string_view) {
                                   KeyReader r(key.substr(prefix.size()));
                                   r.I64();
                                   auto id = r.U64();
                                   bad = id ? ReadRecord(*store_, Cf::kCareTasks, *id, "care task",
                                                         resp->add_tasks())
                                            : absl::DataLossError("care task index is unreadable");
                                   return bad.ok() && static_cast<size_t>(resp->tasks_size()) < limit;
                                 }));
    return bad;
  }
  // Every task, open or not, newest first; `owner`, when given, filters them.
  std::string prefix = KeyWriter().Byte(kIdxAllTasks).Release();
  std::function<bool(const v1::CareTask&)> keep;
  if (!req.owner().empty()) keep = [&req](const v1::CareTask& t) { return t.owner() == req.owner(); };
  return ReadNewest(*store_, Cf::kVipIndex, prefix, Cf::kCareTasks, "care task", limit,
                    resp->mutable_tasks(), keep);
}

void VipCare::SetOnShift(const Caller& c, const v1::SetOnShiftRequest& req,
                         v1::SetOnShiftResponse* resp, storage::DoneFn done) {
  if (absl::Status s = RequireGm(c, Role::kAgent, "SetOnShift"); !s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        std::string key = KeyWriter().Byte(kIdxOnShift).Str(c.name()).Release();
        if (req.on_shift()) {
          txn.Put(Cf::kVipIndex, key, "");
        } else {
          txn.Delete(Cf::kVipIndex, key);
        }
        resp->set_gm(c.name());
        resp->set_on_shift(req.on_shift());
        return AppendAudit(txn, c, Now(),
                           {.action = req.on_shift() ? "gm.shift_start" : "gm.shift_end",
                            .target = absl::StrCat("gm/", c.name())});
      },
      std::move(done));
}

absl::Status VipCare::OnTicketSubmitted(Txn& txn, v1::Ticket* t) const {
  VipProfile p;
  STEWARD_RETURN_IF_ERROR(LoadProfile(txn, t->context().realm_id(), t->player_id(), &p));
  const VipTierConfig* tier = TierConfig(options_, p.tier());
  if (tier == nullptr) return absl::OkStatus();
  auto& extra = *t->mutable_context()->mutable_extra();
  RaiseTicketPriority(t, tier->ticket_priority, absl::StrCat("VIP tier ", p.tier()));
  t->set_vip_tier(p.tier());  // the tier's time limits apply
  if (!p.care_gm().empty() && t->assignee().empty()) {
    std::string on;
    absl::Status s = txn.Get(Cf::kVipIndex, KeyWriter().Byte(kIdxOnShift).Str(p.care_gm()).key(), &on);
    if (s.ok()) {
      t->set_assignee(p.care_gm());
      t->set_status(v1::TICKET_STATUS_ASSIGNED);
      extra["steward.routed"] = absl::StrCat("to care GM ", p.care_gm(), " (on shift)");
    } else if (!absl::IsNotFound(s)) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status VipCare::OnTicketResolved(Txn& txn, const v1::Ticket& t, int64_t now) const {
  VipProfile p;
  STEWARD_RETURN_IF_ERROR(LoadProfile(txn, t.context().realm_id(), t.player_id(), &p));
  const VipTierConfig* tier = TierConfig(options_, p.tier());
  // Complaints get a callback too (within 72 hours), owned by the GM who
  // resolved them; VIPs get one for every ticket, owned by their care GM.
  if (tier == nullptr && t.category() != v1::TICKET_CATEGORY_COMPLAINT) return absl::OkStatus();
  int64_t hours = tier != nullptr ? tier->callback_hours : 72;
  STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
  CareTask task = NewTask(txn, options_, p, v1::CARE_TASK_KIND_CALLBACK, now, now + hours * 3600 * 1000,
                          absl::StrCat("callback on resolved ", tier != nullptr ? "VIP ticket " : "complaint ",
                                       t.id()),
                          id);
  // A complaint's callback goes to the GM who resolved it; a VIP's to the
  // care GM, or to the VIP queue (no owner) when there is none.
  if (tier == nullptr) task.set_owner(t.assignee());
  task.set_ticket_id(t.id());
  PutTask(txn, task, nullptr);
  return absl::OkStatus();
}

v1::ChurnRisk VipCare::ComputeChurn(const VipProfile& p, int64_t now) const {
  struct F {
    const char* name;
    double weight;
    std::string detail;
  };
  std::vector<F> fs;
  if (p.last_login_ms() != 0) {
    double days = static_cast<double>(now - p.last_login_ms()) / kDayMs;
    double usual = std::max(1.0, p.login_gap_days_avg());
    double w = 0.4 * std::clamp((days - usual) / (7 * usual), 0.0, 1.0);
    fs.push_back({"days_since_login", w,
                  absl::StrCat(static_cast<int>(days), " days since last login (usually every ",
                               absl::SixDigits(usual), ")")});
  }
  if (p.lifetime_spend_cents() > 0 && p.first_purchase_ms() != 0) {
    VipProfile rolled = p;
    RollSpend(rolled, now);
    double months = std::max(1.0, static_cast<double>(now - p.first_purchase_ms()) / (30.0 * kDayMs));
    double monthly = p.lifetime_spend_cents() / months;
    double w = 0.25 * std::clamp(1.0 - rolled.spend_30d_cents() / monthly, 0.0, 1.0);
    fs.push_back({"spend_trend", w,
                  absl::StrCat("spent ", rolled.spend_30d_cents() / 100, " in 30 days against a usual ",
                               static_cast<int64_t>(monthly) / 100, " a month")});
  }
  if (p.session_minutes_baseline() > 0) {
    double ratio = p.session_minutes_recent() / p.session_minutes_baseline();
    fs.push_back({"session_trend", 0.1 * std::clamp(1.0 - ratio, 0.0, 1.0),
                  absl::StrCat("recent sessions ", static_cast<int>(p.session_minutes_recent()),
                               " min against a usual ", static_cast<int>(p.session_minutes_baseline()))});
  }
  // Sanctions in the last 30 days, and tickets still open or rated low in
  // the last 30 days, through the moderation and ticket domains' own APIs.
  int sanctions = moderation_ ? moderation_->CountIssuedSince(p.player_id(), now - 30 * kDayMs, 10) : 0;
  fs.push_back({"recent_sanctions", 0.1 * std::min(sanctions, 2) / 2.0,
                absl::StrCat(sanctions, " sanction(s) in 30 days")});
  int open = 0, unhappy = 0;
  if (tickets_ != nullptr) {
    absl::Status scanned = tickets_->ScanPlayer(p.realm_id(), p.player_id(), [&](const v1::Ticket& t) {
      if (t.status() != v1::TICKET_STATUS_RESOLVED && t.status() != v1::TICKET_STATUS_CLOSED) ++open;
      const auto& sat = t.satisfaction();
      if (sat.score() != 0 && sat.score() <= 2 && now - sat.rated_at_ms() < 30 * kDayMs) ++unhappy;
      return open + unhappy < 20;
    });
    // One line per run of failures, not one per VIP scored.
    churn_scan_failures_.Report(scanned);
  }
  fs.push_back({"unresolved_tickets", 0.05 * std::min(open, 3) / 3.0,
                absl::StrCat(open, " ticket(s) still open")});
  fs.push_back({"low_satisfaction", 0.1 * std::min(unhappy, 2) / 2.0,
                absl::StrCat(unhappy, " ticket(s) rated 1-2 in 30 days")});
  std::sort(fs.begin(), fs.end(), [](const F& a, const F& b) { return a.weight > b.weight; });
  v1::ChurnRisk out;
  double score = 0;
  for (const F& f : fs) {
    score += f.weight;
    if (f.weight <= 0) continue;
    auto* cf = out.add_factors();
    cf->set_name(f.name);
    cf->set_weight(f.weight);
    cf->set_detail(f.detail);
  }
  out.set_score(std::min(1.0, score));
  out.set_computed_at_ms(now);
  return out;
}

absl::StatusOr<int> VipCare::Sweep() {
  int64_t now = Now();
  std::vector<VipProfile> profiles;
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kVip, "", "", false, [&](absl::string_view, absl::string_view v) {
    VipProfile p;
    if (!p.ParseFromArray(v.data(), v.size())) {
      bad = absl::DataLossError("a VIP profile is unreadable");
      return false;
    }
    if (!p.tier().empty()) profiles.push_back(std::move(p));
    return true;
  }));
  STEWARD_RETURN_IF_ERROR(bad);
  int changed = 0;
  for (const VipProfile& snap : profiles) {
    v1::ChurnRisk churn = ComputeChurn(snap, now);
    bool changed_one = false;
    absl::Status s = store_->CommitAndWait([&](Txn& txn) -> absl::Status {
      VipProfile p;
      STEWARD_RETURN_IF_ERROR(LoadProfile(txn, snap.realm_id(), snap.player_id(), &p));
      std::string tier_before = p.tier();
      std::vector<CareTask> tasks;
      STEWARD_RETURN_IF_ERROR(Retier(txn, options_, p, now, &tasks));
      *p.mutable_churn() = churn;
      if (churn.score() >= options_.churn_threshold && p.open_outreach_task() == 0 && !p.tier().empty()) {
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
        tasks.push_back(NewTask(txn, options_, p, v1::CARE_TASK_KIND_OUTREACH, now, now + kDayMs,
                                absl::StrCat("churn risk ", absl::SixDigits(churn.score()), ": ",
                                             churn.factors_size() ? churn.factors(0).detail() : ""),
                                id));
        p.set_open_outreach_task(id);
      }
      // Birthday and anniversary greetings, once a year, on the day.
      auto [today, year] = MonthDay(now);
      if (!p.tier().empty() && p.birthday() == today && p.last_birthday_task_year() != year) {
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
        tasks.push_back(NewTask(txn, options_, p, v1::CARE_TASK_KIND_BIRTHDAY, now, now + kDayMs,
                                "birthday greeting", id));
        p.set_last_birthday_task_year(year);
      }
      if (!p.tier().empty() && p.anniversary() == today && p.last_anniversary_task_year() != year) {
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("care_task"));
        tasks.push_back(NewTask(txn, options_, p, v1::CARE_TASK_KIND_BIRTHDAY, now, now + kDayMs,
                                "anniversary greeting", id));
        p.set_last_anniversary_task_year(year);
      }
      for (const auto& t : tasks) PutTask(txn, t, nullptr);
      changed_one = !tasks.empty() || p.tier() != tier_before;
      PutProfile(txn, p);
      return absl::OkStatus();
    });
    STEWARD_RETURN_IF_ERROR(s);
    if (changed_one) ++changed;
  }
  return changed;
}

absl::Status VipCare::Report(const Caller& c, const v1::VipReportRequest& req,
                             v1::VipReportResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kSupervisor, "VIP reports"));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  int64_t now = Now();
  // "Until now" includes this very millisecond.
  int64_t until = req.until_ms() ? req.until_ms() : now + 1;
  int64_t since = req.since_ms() ? req.since_ms() : until - 30 * kDayMs;
  for (const auto& t : options_.tiers) resp->add_tiers()->set_tier(t.name);
  auto tier_row = [&](absl::string_view name) -> v1::TierCount* {
    int r = Rank(options_, name);
    return r == 0 ? nullptr : resp->mutable_tiers(r - 1);
  };
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kVip, "", "", false, [&](absl::string_view, absl::string_view v) {
    VipProfile p;
    if (!p.ParseFromArray(v.data(), v.size())) {
      bad = absl::DataLossError("a VIP profile is unreadable");
      return false;
    }
    if (!req.realm_id().empty() && p.realm_id() != req.realm_id()) return true;
    if (auto* row = tier_row(p.tier())) {
      row->set_players(row->players() + 1);
      if (p.last_login_ms() != 0 && until - p.last_login_ms() >= 30 * kDayMs) {
        resp->set_churned_vips(resp->churned_vips() + 1);
      }
    }
    for (const auto& h : p.tier_history()) {
      if (h.at_ms() < since || h.at_ms() >= until) continue;
      bool up = Rank(options_, h.to_tier()) > Rank(options_, h.from_tier());
      if (auto* row = tier_row(up ? h.to_tier() : h.from_tier())) {
        up ? row->set_upgrades(row->upgrades() + 1) : row->set_downgrades(row->downgrades() + 1);
      }
    }
    return true;
  }));
  STEWARD_RETURN_IF_ERROR(bad);
  return ScanTasks(req.realm_id(), since, until, [&](const CareTask& t) {
        resp->set_tasks_created(resp->tasks_created() + 1);
        bool done = t.state() == v1::CARE_TASK_STATE_DONE;
        if (done) resp->set_tasks_done(resp->tasks_done() + 1);
        if (done && t.closed_at_ms() <= t.due_at_ms()) {
          resp->set_tasks_done_on_time(resp->tasks_done_on_time() + 1);
        }
        if (t.state() == v1::CARE_TASK_STATE_UNREACHABLE) {
          resp->set_tasks_unreachable(resp->tasks_unreachable() + 1);
        }
        if (t.kind() == v1::CARE_TASK_KIND_CALLBACK) {
          resp->set_callbacks(resp->callbacks() + 1);
          if (done) resp->set_callbacks_reached(resp->callbacks_reached() + 1);
        }
        return true;
      });
}

absl::Status VipCare::ScanTasks(absl::string_view realm, int64_t since, int64_t until,
                                const std::function<bool(const v1::CareTask&)>& fn) const {
  absl::Status bad;
  std::string prefix = KeyWriter().Byte(kIdxAllTasks).Release();
  STEWARD_RETURN_IF_ERROR(store_->Scan(
      Cf::kVipIndex, KeyWriter(prefix).I64(since).key(), KeyWriter(prefix).I64(until).key(), false,
      [&](absl::string_view key, absl::string_view) {
        KeyReader r(key.substr(prefix.size()));
        r.I64();
        auto id = r.U64();
        CareTask t;
        bad = id ? ReadRecord(*store_, Cf::kCareTasks, *id, "care task", &t)
                 : absl::DataLossError("care task index is unreadable");
        if (!bad.ok()) return false;
        if (!realm.empty() && t.realm_id() != realm) return true;
        return fn(t);
      }));
  return bad;
}

absl::Status VipCare::ScanCallbacksDue(absl::string_view realm, int64_t since, int64_t until,
                                       const std::function<bool(const v1::CareTask&)>& fn) const {
  // A callback is made when its ticket is resolved and due at most the
  // longest callback window later (72 hours for complaints, a tier's own
  // for VIPs), so those due in the period were made in it or that much
  // before.
  int64_t longest_hours = 72;
  for (const auto& tier : options_.tiers) longest_hours = std::max<int64_t>(longest_hours, tier.callback_hours);
  return ScanTasks(realm, since - longest_hours * 3600 * 1000, until, [&](const CareTask& t) {
    if (t.kind() != v1::CARE_TASK_KIND_CALLBACK || t.due_at_ms() < since || t.due_at_ms() >= until) return true;
    return fn(t);
  });
}

void VipCare::AddSummaries(const v1::VipProfile& p, int64_t now, v1::VipProfileResponse* resp) const {
  constexpr size_t kRecent = 5;
  if (tickets_ != nullptr) {
    // Newest first, reading only the few shown.
    absl::Status s = tickets_->ScanPlayer(
        p.realm_id(), p.player_id(),
        [&](const v1::Ticket& t) {
          v1::VipTicketSummary* sum = resp->add_recent_tickets();
          sum->set_ticket_id(t.id());
          sum->set_subject(t.subject());
          sum->set_category(t.category());
          sum->set_status(t.status());
          sum->set_created_at_ms(t.created_at_ms());
          sum->set_satisfaction_score(t.satisfaction().score());
          return static_cast<size_t>(resp->recent_tickets_size()) < kRecent;
        },
        /*newest_first=*/true);
    if (!s.ok()) LogWarning("VIP profile's recent tickets: ", s.ToString());
  }
  if (moderation_ != nullptr) {
    v1::CheckPlayerRequest q;
    q.set_player_id(p.player_id());
    q.set_realm_id(p.realm_id());
    v1::PlayerStatus st;
    moderation_->Evaluate(q, now, &st);
    resp->mutable_sanctions()->set_active(static_cast<uint32_t>(st.restrictions_size()));
    resp->mutable_sanctions()->set_issued_last_30_days(
        static_cast<uint32_t>(moderation_->CountIssuedSince(p.player_id(), now - 30 * kDayMs, 1000)));
  }
}

std::map<std::string, SlaLimits> VipCare::TierLimits() const {
  std::map<std::string, SlaLimits> out;
  for (const auto& tier : options_.tiers) out[tier.name] = {tier.dispatch_ms, tier.answer_ms};
  return out;
}

}  // namespace steward
