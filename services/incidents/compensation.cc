#include "services/incidents/compensation.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/audit/audit.h"
#include "services/common/records.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Grant;
using v1::GrantRecipient;

// Cf::kGrants layout.
constexpr uint8_t kRecord = 'g';     // U64(id) -> Grant
constexpr uint8_t kRecipient = 'R';  // U64(grant) U32(n) -> GrantRecipient
constexpr uint8_t kPerIncident = 'P';  // U64(incident) Str(realm) Str(player) -> U64(grant)
constexpr uint8_t kProposed = 't';   // I64(proposed) U64(id) -> ""
constexpr uint8_t kApproved = 'a';   // I64(approved) U64(id) -> ""
constexpr uint8_t kPending = 'p';    // I64(proposed) U64(id) -> "" while pending
constexpr size_t kMaxPlayers = 10'000;
constexpr size_t kPerDirective = 500;
constexpr size_t kMaxPayload = 4096;
constexpr size_t kMaxAckKeys = 1000;

std::string RecordKeyOf(uint64_t id) { return KeyWriter().Byte(kRecord).U64(id).Release(); }
std::string RecipientKey(uint64_t grant, uint32_t n) {
  return KeyWriter().Byte(kRecipient).U64(grant).U64(n).Release();
}
std::string PerIncidentKey(uint64_t incident, absl::string_view realm, absl::string_view player) {
  return KeyWriter().Byte(kPerIncident).U64(incident).Str(realm).Str(player).Release();
}
std::string Target(uint64_t id) { return absl::StrCat("grant/", id); }
std::string GrantKey(uint64_t grant, uint32_t n) { return absl::StrCat("g", grant, "-", n); }

bool ParseGrantKey(absl::string_view key, uint64_t* grant, uint32_t* n) {
  if (!absl::ConsumePrefix(&key, "g")) return false;
  size_t dash = key.find('-');
  if (dash == absl::string_view::npos) return false;
  return absl::SimpleAtoi(key.substr(0, dash), grant) && absl::SimpleAtoi(key.substr(dash + 1), n);
}

absl::Status LoadGrant(Txn& txn, uint64_t id, Grant* g) {
  std::string v;
  absl::Status got = txn.Get(Cf::kGrants, RecordKeyOf(id), &v);
  return ParseRecord(got, v, "grant", id, g);
}

void PutGrant(Txn& txn, Grant* g) {
  g->set_version(g->version() + 1);
  txn.Put(Cf::kGrants, RecordKeyOf(g->id()), g->SerializeAsString());
}

// Every recipient of a grant, in order, from committed data (a pending
// grant's rows were written by an earlier transaction).
absl::Status ForRecipients(const storage::Store& store, uint64_t grant,
                           const std::function<bool(uint32_t, GrantRecipient&)>& fn) {
  std::string prefix = KeyWriter().Byte(kRecipient).U64(grant).Release();
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store.Scan(Cf::kGrants, prefix, storage::PrefixSuccessor(prefix), false,
                                     [&](absl::string_view key, absl::string_view v) {
                                       auto n = KeyReader(key.substr(prefix.size())).U64();
                                       GrantRecipient r;
                                       if (!n || *n > UINT32_MAX || !r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                         bad = absl::DataLossError(absl::StrCat("grant ", grant, " recipient unreadable"));
                                         return false;
                                       }
                                       return fn(static_cast<uint32_t>(*n), r);
                                     }));
  return bad;
}

absl::Status ValidateSpec(const v1::GrantSpec& s) {
  STEWARD_RETURN_IF_ERROR(CheckText("spec.item", s.item(), 1, kMaxShortTextLen));
  if (s.payload().size() > kMaxPayload) {
    return absl::InvalidArgumentError(absl::StrCat("spec.payload: at most ", kMaxPayload, " bytes"));
  }
  if (s.value_per_player() <= 0) {
    return absl::InvalidArgumentError("spec.value_per_player must be positive (its worth in the configured unit)");
  }
  STEWARD_RETURN_IF_ERROR(CheckText("spec.reason", s.reason(), 1, kMaxReasonLen));
  int sources = (s.ticket_id() != 0) + (s.incident_id() != 0) + (s.players_size() > 0);
  if (sources != 1) {
    return absl::InvalidArgumentError("spec: name the players one way: ticket_id, incident_id or players");
  }
  if (static_cast<size_t>(s.players_size()) > kMaxPlayers) {
    return absl::InvalidArgumentError(absl::StrCat("spec.players: at most ", kMaxPlayers));
  }
  for (const auto& p : s.players()) {
    STEWARD_RETURN_IF_ERROR(CheckId("spec.players.realm_id", p.realm_id(), true));
    STEWARD_RETURN_IF_ERROR(CheckId("spec.players.player_id", p.player_id(), true));
  }
  if (s.force()) STEWARD_RETURN_IF_ERROR(CheckText("spec.force_reason", s.force_reason(), 1, kMaxReasonLen));
  return absl::OkStatus();
}

}  // namespace

Compensation::Compensation(storage::Store* store, DirectiveHub* hub, const Incidents* incidents,
                           CompensationOptions options)
    : store_(store), hub_(hub), incidents_(incidents), options_(std::move(options)) {}

absl::StatusOr<uint64_t> Compensation::Send(Txn& txn, Grant* g, std::vector<Numbered> recipients,
                                             int64_t now) const {
  // Recipients grouped by realm, 500 to a directive.
  std::map<std::string, std::vector<Numbered>> by_realm;
  for (auto& nr : recipients) by_realm[nr.second.realm_id()].push_back(std::move(nr));
  uint64_t last = 0;
  for (auto& [realm, rs] : by_realm) {
    for (size_t at = 0; at < rs.size(); at += kPerDirective) {
      v1::Directive d;
      d.mutable_target()->set_realm_id(realm);
      auto* cg = d.mutable_compensation();
      cg->set_grant_id(g->id());
      cg->set_item(g->spec().item());
      cg->set_payload(g->spec().payload());
      cg->set_value_per_player(g->spec().value_per_player());
      cg->set_reason(g->spec().reason());
      size_t end = std::min(rs.size(), at + kPerDirective);
      for (size_t i = at; i < end; ++i) {
        auto* e = cg->add_entries();
        e->set_player_id(rs[i].second.player_id());
        e->set_grant_key(rs[i].second.grant_key());
      }
      STEWARD_RETURN_IF_ERROR(hub_->Append(txn, now, &d));
      last = d.seq();
      for (size_t i = at; i < end; ++i) {
        GrantRecipient& r = rs[i].second;
        r.set_directive_seq(d.seq());
        r.set_state(v1::RECIPIENT_STATE_QUEUED);
        txn.Put(Cf::kGrants, RecipientKey(g->id(), rs[i].first), r.SerializeAsString());
      }
    }
  }
  txn.Put(Cf::kGrants, KeyWriter().Byte(kApproved).I64(now).U64(g->id()).key(), "");
  return last;
}

void Compensation::Propose(const Caller& c, const v1::ProposeGrantRequest& req, v1::GrantResponse* resp,
                           storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "ProposeGrant");
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok()) s = ValidateSpec(req.spec());
  if (!s.ok()) return done(s);
  auto seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, c, &req, resp, seq](Txn& txn) -> absl::Status {
        std::string idem = KeyWriter().Str(c.name()).Str("grant").Str(req.idempotency_key()).Release();
        STEWARD_ASSIGN_OR_RETURN(uint64_t existing, FindIdempotent(txn, idem));
        if (existing != 0) {
          resp->set_deduplicated(true);
          return LoadGrant(txn, existing, resp->mutable_grant());
        }
        const int64_t now = Now();
        const v1::GrantSpec& spec = req.spec();
        Grant& g = *resp->mutable_grant();
        std::vector<std::pair<std::string, std::string>> players;
        uint64_t incident = spec.incident_id();
        if (spec.ticket_id() != 0) {
          v1::Ticket t;
          STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, spec.ticket_id(), &t));
          players.emplace_back(t.context().realm_id(), t.player_id());
          if (incident == 0) incident = t.incident_id();
        } else if (spec.incident_id() != 0) {
          STEWARD_RETURN_IF_ERROR(incidents_->LinkedPlayers(txn, spec.incident_id(), &players));
          if (players.empty()) {
            return absl::FailedPreconditionError(absl::StrCat("incident ", spec.incident_id(), " has no tickets linked"));
          }
        } else {
          std::set<std::pair<std::string, std::string>> seen;
          for (const auto& p : spec.players()) {
            if (seen.emplace(p.realm_id(), p.player_id()).second) players.emplace_back(p.realm_id(), p.player_id());
          }
        }
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("grant"));
        g.set_id(id);
        // One grant per incident and player, unless forced.
        uint64_t earlier = 0;
        std::vector<std::pair<std::string, std::string>> kept;
        for (auto& p : players) {
          if (incident != 0) {
            std::string v;
            std::string k = PerIncidentKey(incident, p.first, p.second);
            absl::Status got = txn.Get(Cf::kGrants, k, &v);
            if (got.ok() && !spec.force()) {
              if (auto e = KeyReader(v).U64()) earlier = *e;
              auto* sk = g.add_skipped();
              sk->set_realm_id(p.first);
              sk->set_player_id(p.second);
              continue;
            }
            if (!got.ok() && !absl::IsNotFound(got)) return got;
            txn.Put(Cf::kGrants, k, KeyWriter().U64(id).key());
          }
          kept.push_back(std::move(p));
        }
        if (kept.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "every player named already has a grant for incident ", incident, " (grant ", earlier,
              "); set force with a force_reason to grant again"));
        }
        *g.mutable_spec() = spec;
        g.mutable_spec()->clear_players();
        g.set_incident_id(incident);
        g.set_proposed_by(c.name());
        g.set_proposed_at_ms(now);
        g.set_recipients(static_cast<uint32_t>(kept.size()));
        const int64_t total = spec.value_per_player() > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(kept.size())
                                  ? std::numeric_limits<int64_t>::max()
                                  : spec.value_per_player() * static_cast<int64_t>(kept.size());
        g.set_total_value(total);
        GrantLimit lim;
        if (auto it = options_.limits.find(c.principal->role); it != options_.limits.end()) lim = it->second;
        std::string why;
        if (spec.value_per_player() > lim.per_player) {
          why = absl::StrCat(spec.value_per_player(), " ", options_.unit, " per player is above the ",
                             RoleName(c.principal->role), " limit of ", lim.per_player);
        } else if (total > lim.total) {
          why = absl::StrCat("total ", total, " ", options_.unit, " is above the ", RoleName(c.principal->role),
                             " limit of ", lim.total);
        }
        g.set_why_approval(why);
        g.set_state(why.empty() ? v1::GRANT_STATE_APPROVED : v1::GRANT_STATE_PENDING_APPROVAL);
        uint32_t n = 0;
        std::vector<Numbered> recipients;
        for (const auto& [realm, player] : kept) {
          GrantRecipient r;
          r.set_grant_id(id);
          r.set_realm_id(realm);
          r.set_player_id(player);
          r.set_grant_key(GrantKey(id, n));
          r.set_state(v1::RECIPIENT_STATE_PENDING);
          (*g.mutable_players_by_realm())[realm] += 1;
          txn.Put(Cf::kGrants, RecipientKey(id, n), r.SerializeAsString());
          recipients.emplace_back(n, std::move(r));
          ++n;
        }
        txn.Put(Cf::kGrants, KeyWriter().Byte(kProposed).I64(now).U64(id).key(), "");
        if (why.empty()) {
          g.set_decided_by(c.name());
          g.set_decided_at_ms(now);
          g.set_decision_reason("within the proposer's limits");
          STEWARD_ASSIGN_OR_RETURN(*seq, Send(txn, &g, std::move(recipients), now));
        } else {
          txn.Put(Cf::kGrants, KeyWriter().Byte(kPending).I64(now).U64(id).key(), "");
        }
        PutGrant(txn, &g);
        RecordIdempotent(txn, idem, id, now);
        return AppendAudit(txn, c, now,
                           {.action = "grant.propose", .target = Target(id),
                            .reason = spec.force() ? absl::StrCat("forced: ", spec.force_reason()) : spec.reason(),
                            .after = &g});
      },
      [this, seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok() && *seq != 0) hub_->Published(*seq);
        done(s);
      },
      storage::Store::kDefaultWriteBytes + req.ByteSizeLong() * 2);
}

void Compensation::Decide(const Caller& c, const v1::DecideGrantRequest& req, v1::GrantResponse* resp,
                          storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kSupervisor, "DecideGrant");
  if (s.ok() && req.grant_id() == 0) s = absl::InvalidArgumentError("grant_id is required");
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  auto seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, c, &req, resp, seq](Txn& txn) -> absl::Status {
        Grant& g = *resp->mutable_grant();
        STEWARD_RETURN_IF_ERROR(LoadGrant(txn, req.grant_id(), &g));
        if (g.state() != v1::GRANT_STATE_PENDING_APPROVAL) {
          return absl::FailedPreconditionError(absl::StrCat("grant ", g.id(), " is ", v1::GrantState_Name(g.state()),
                                                            "; only a pending grant is decided"));
        }
        if (g.proposed_by() == c.name()) {
          return absl::PermissionDeniedError("a second GM must decide: the proposer cannot approve their own grant");
        }
        Grant before = g;
        const int64_t now = Now();
        g.set_decided_by(c.name());
        g.set_decided_at_ms(now);
        g.set_decision_reason(req.reason());
        txn.Delete(Cf::kGrants, KeyWriter().Byte(kPending).I64(g.proposed_at_ms()).U64(g.id()).key());
        if (req.approve()) {
          g.set_state(v1::GRANT_STATE_APPROVED);
          std::vector<Numbered> recipients;
          STEWARD_RETURN_IF_ERROR(ForRecipients(*store_, g.id(), [&](uint32_t n, GrantRecipient& r) {
            recipients.emplace_back(n, std::move(r));
            return true;
          }));
          STEWARD_ASSIGN_OR_RETURN(*seq, Send(txn, &g, std::move(recipients), now));
        } else {
          g.set_state(v1::GRANT_STATE_REJECTED);
          STEWARD_RETURN_IF_ERROR(ForRecipients(*store_, g.id(), [&](uint32_t n, GrantRecipient& r) {
            r.set_state(v1::RECIPIENT_STATE_CANCELLED);
            txn.Put(Cf::kGrants, RecipientKey(g.id(), n), r.SerializeAsString());
            // The player may be granted again for the incident.
            if (g.incident_id() != 0) {
              std::string k = PerIncidentKey(g.incident_id(), r.realm_id(), r.player_id());
              std::string v;
              if (txn.Get(Cf::kGrants, k, &v).ok() && KeyReader(v).U64() == g.id()) txn.Delete(Cf::kGrants, k);
            }
            return true;
          }));
        }
        PutGrant(txn, &g);
        return AppendAudit(txn, c, now, {.action = req.approve() ? "grant.approve" : "grant.reject",
                                         .target = Target(g.id()), .reason = req.reason(),
                                         .before = &before, .after = &g});
      },
      [this, seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok() && *seq != 0) hub_->Published(*seq);
        done(s);
      },
      storage::Store::kDefaultWriteBytes * 16);
}

void Compensation::Ack(const Caller& c, const v1::AckGrantsRequest& req, v1::AckGrantsResponse* resp,
                       storage::DoneFn done) {
  absl::Status s = c.is_game_server() ? absl::OkStatus()
                                      : absl::PermissionDeniedError("AckGrants is for game servers");
  if (s.ok()) s = CheckId("server_id", req.server_id(), true);
  if (s.ok()) s = RequireGameServerScope(c, c.principal->realm, req.server_id(), "acknowledge grants");
  if (s.ok() && (req.grant_keys().empty() || static_cast<size_t>(req.grant_keys_size()) > kMaxAckKeys)) {
    s = absl::InvalidArgumentError(absl::StrCat("grant_keys: 1 to ", kMaxAckKeys, " keys"));
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        const int64_t now = Now();
        std::map<uint64_t, Grant> grants;
        std::map<uint64_t, uint32_t> newly;
        for (const std::string& key : req.grant_keys()) {
          uint64_t gid = 0;
          uint32_t n = 0;
          std::string v;
          GrantRecipient r;
          if (!ParseGrantKey(key, &gid, &n) || !txn.Get(Cf::kGrants, RecipientKey(gid, n), &v).ok() ||
              !r.ParseFromString(v) || r.realm_id() != c.principal->realm ||
              r.state() == v1::RECIPIENT_STATE_PENDING || r.state() == v1::RECIPIENT_STATE_CANCELLED) {
            resp->add_unknown_keys(key);
            continue;
          }
          if (r.state() == v1::RECIPIENT_STATE_ACKNOWLEDGED) continue;  // applied before
          r.set_state(v1::RECIPIENT_STATE_ACKNOWLEDGED);
          r.set_acknowledged_at_ms(now);
          r.set_acknowledged_by(req.server_id());
          txn.Put(Cf::kGrants, RecipientKey(gid, n), r.SerializeAsString());
          newly[gid] += 1;
          resp->set_newly_acknowledged(resp->newly_acknowledged() + 1);
        }
        for (const auto& [gid, count] : newly) {
          Grant& g = grants[gid];
          STEWARD_RETURN_IF_ERROR(LoadGrant(txn, gid, &g));
          g.set_acknowledged(g.acknowledged() + count);
          PutGrant(txn, &g);
          STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                              {.action = "grant.ack", .target = Target(gid),
                                               .reason = absl::StrCat(count, " players, by server ", req.server_id())}));
        }
        return absl::OkStatus();
      },
      std::move(done));
}

v1::RecipientState Compensation::Shown(const GrantRecipient& r) const {
  if (r.state() == v1::RECIPIENT_STATE_QUEUED && acked_seq_ && r.directive_seq() != 0 &&
      acked_seq_(r.realm_id()) >= r.directive_seq()) {
    return v1::RECIPIENT_STATE_DELIVERED;
  }
  return r.state();
}

absl::Status Compensation::CountDelivered(Grant* g) const {
  if (g->state() != v1::GRANT_STATE_APPROVED) return absl::OkStatus();
  uint32_t delivered = 0;
  STEWARD_RETURN_IF_ERROR(ForRecipients(*store_, g->id(), [&](uint32_t, GrantRecipient& r) {
    v1::RecipientState st = Shown(r);
    if (st == v1::RECIPIENT_STATE_DELIVERED || st == v1::RECIPIENT_STATE_ACKNOWLEDGED) ++delivered;
    return true;
  }));
  g->set_delivered(delivered);
  return absl::OkStatus();
}

absl::Status Compensation::Get(const Caller& c, const v1::GetGrantRequest& req, v1::GrantResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "GetGrant"));
  if (req.grant_id() == 0) return absl::InvalidArgumentError("grant_id is required");
  std::string v;
  STEWARD_RETURN_IF_ERROR(ParseRecord(store_->Get(Cf::kGrants, RecordKeyOf(req.grant_id()), &v), v, "grant",
                                      req.grant_id(), resp->mutable_grant()));
  return CountDelivered(resp->mutable_grant());
}

absl::Status Compensation::List(const Caller& c, const v1::ListGrantsRequest& req, v1::ListGrantsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListGrants"));
  TimeScan scan;
  scan.cf = Cf::kGrants;
  scan.prefix = KeyWriter().Byte(req.pending_only() ? kPending : kProposed).Release();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  STEWARD_ASSIGN_OR_RETURN(
      std::string next,
      ScanByTime(*store_, scan, [&](int64_t, uint64_t id, absl::string_view, absl::string_view) -> absl::StatusOr<bool> {
        Grant g;
        std::string v;
        STEWARD_RETURN_IF_ERROR(ParseRecord(store_->Get(Cf::kGrants, RecordKeyOf(id), &v), v, "grant", id, &g));
        if (req.incident_id() != 0 && g.incident_id() != req.incident_id()) return false;
        STEWARD_RETURN_IF_ERROR(CountDelivered(&g));
        *resp->add_grants() = std::move(g);
        return true;
      }));
  resp->set_next_page_token(next);
  return absl::OkStatus();
}

absl::Status Compensation::Recipients(const Caller& c, const v1::ListGrantRecipientsRequest& req,
                                      v1::ListGrantRecipientsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListGrantRecipients"));
  if (req.grant_id() == 0) return absl::InvalidArgumentError("grant_id is required");
  size_t page = req.page_size() == 0 ? 100 : std::min<size_t>(req.page_size(), 1000);
  uint32_t from = 0;
  if (!req.page_token().empty() && !absl::SimpleAtoi(req.page_token(), &from)) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  std::string lo = RecipientKey(req.grant_id(), from);
  std::string prefix = KeyWriter().Byte(kRecipient).U64(req.grant_id()).Release();
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kGrants, lo, storage::PrefixSuccessor(prefix), false,
                                       [&](absl::string_view key, absl::string_view v) {
                                         auto n = KeyReader(key.substr(prefix.size())).U64();
                                         if (static_cast<size_t>(resp->recipients_size()) >= page) {
                                           resp->set_next_page_token(absl::StrCat(n.value_or(0)));
                                           return false;
                                         }
                                         GrantRecipient* r = resp->add_recipients();
                                         if (!r->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                           bad = absl::DataLossError("a grant recipient is unreadable");
                                           return false;
                                         }
                                         r->set_state(Shown(*r));
                                         return true;
                                       }));
  return bad;
}

absl::Status Compensation::Report(const Caller& c, const v1::GrantReportRequest& req,
                                  v1::GrantReportResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kLead, "GrantReport"));
  int64_t to = req.to_ms() != 0 ? req.to_ms() : Now() + 1;
  if (req.from_ms() < 0 || to <= req.from_ms()) return absl::InvalidArgumentError("to_ms must be after from_ms");
  resp->set_unit(options_.unit);
  std::map<std::pair<std::string, std::string>, v1::GrantTotal> totals;
  std::string lo = KeyWriter().Byte(kApproved).I64(req.from_ms()).Release();
  std::string hi = KeyWriter().Byte(kApproved).I64(to).Release();
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kGrants, lo, hi, false, [&](absl::string_view key, absl::string_view) {
    KeyReader r(key.substr(1));
    r.I64();
    auto id = r.U64();
    if (!id) return true;
    Grant g;
    std::string v;
    bad = ParseRecord(store_->Get(Cf::kGrants, RecordKeyOf(*id), &v), v, "grant", *id, &g);
    if (!bad.ok()) return false;
    for (const auto& [realm, players] : g.players_by_realm()) {
      if (!req.realm_id().empty() && realm != req.realm_id()) continue;
      v1::GrantTotal& t = totals[{realm, g.proposed_by()}];
      t.set_realm_id(realm);
      t.set_gm(g.proposed_by());
      t.set_grants(t.grants() + 1);
      t.set_players(t.players() + players);
      int64_t value = g.spec().value_per_player() * players;
      t.set_value(t.value() + value);
      resp->set_total_value(resp->total_value() + value);
    }
    return true;
  }));
  STEWARD_RETURN_IF_ERROR(bad);
  for (auto& [k, t] : totals) *resp->add_totals() = std::move(t);
  std::string pending = KeyWriter().Byte(kPending).Release();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kGrants, pending, storage::PrefixSuccessor(pending), false,
                                       [&](absl::string_view, absl::string_view) {
                                         resp->set_pending(resp->pending() + 1);
                                         return true;
                                       }));
  return absl::OkStatus();
}

}  // namespace steward
