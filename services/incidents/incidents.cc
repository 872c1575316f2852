#include "services/incidents/incidents.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/audit/audit.h"
#include "services/common/records.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"
#include "storage/keys.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Incident;
using v1::Ticket;

// Cf::kIncidents layout.
constexpr uint8_t kRecord = 'i';    // U64(id) -> Incident
constexpr uint8_t kLink = 'L';      // U64(incident) U64(ticket) -> "" linked, "d" detached
constexpr uint8_t kCreated = 'c';   // I64(created) U64(id) -> ""
constexpr uint8_t kResolved = 'z';  // I64(resolved) U64(id) -> ""
constexpr size_t kMaxLinkBatch = 1000;
constexpr size_t kMaxWords = 32;
constexpr int64_t kDayMs = 24 * 3600 * 1000;
// A spike is at least this many times the window before it.
constexpr size_t kSpikeOverBaseline = 3;

std::string RecordKeyOf(uint64_t id) { return KeyWriter().Byte(kRecord).U64(id).Release(); }
std::string LinkKey(uint64_t inc, uint64_t ticket) {
  return KeyWriter().Byte(kLink).U64(inc).U64(ticket).Release();
}
std::string Target(uint64_t id) { return absl::StrCat("incident/", id); }

bool IsActive(const Incident& i) {
  return i.state() == v1::INCIDENT_STATE_OPEN || i.state() == v1::INCIDENT_STATE_SUGGESTED;
}

bool IsOpenTicket(v1::TicketStatus s) {
  return s != v1::TICKET_STATUS_RESOLVED && s != v1::TICKET_STATUS_CLOSED;
}

absl::Status LoadIncident(Txn& txn, uint64_t id, Incident* out) {
  std::string v;
  absl::Status got = txn.Get(Cf::kIncidents, RecordKeyOf(id), &v);
  return ParseRecord(got, v, "incident", id, out);
}

void PutIncident(Txn& txn, Incident* inc) {
  inc->set_version(inc->version() + 1);
  txn.Put(Cf::kIncidents, RecordKeyOf(inc->id()), inc->SerializeAsString());
}

bool Matches(const Incident& inc, const Ticket& t) {
  const v1::IncidentFilter& f = inc.filter();
  if (t.context().realm_id() != f.realm_id()) return false;
  if (f.server_ids_size() > 0 &&
      std::find(f.server_ids().begin(), f.server_ids().end(), t.context().server_id()) == f.server_ids().end()) {
    return false;
  }
  if (f.category() != v1::TICKET_CATEGORY_UNSPECIFIED && f.category() != t.category()) return false;
  int64_t from = f.from_ms() != 0 ? f.from_ms() : inc.created_at_ms();
  if (t.created_at_ms() < from) return false;
  if (f.until_ms() != 0 && t.created_at_ms() >= f.until_ms()) return false;
  if (f.words_size() == 0) return true;
  std::string text = absl::AsciiStrToLower(absl::StrCat(t.subject(), "\n", t.description()));
  for (const auto& w : f.words()) {
    if (TextHoldsWord(text, w)) return true;
  }
  return false;
}

absl::Status ValidateFilter(v1::IncidentFilter* f) {
  STEWARD_RETURN_IF_ERROR(CheckId("filter.realm_id", f->realm_id(), true));
  for (const auto& s : f->server_ids()) STEWARD_RETURN_IF_ERROR(CheckId("filter.server_ids", s, true));
  STEWARD_RETURN_IF_ERROR(CheckEnum("filter.category", f->category(),
                                    v1::TicketCategory_IsValid(f->category()), true));
  if (static_cast<size_t>(f->words_size()) > kMaxWords) {
    return absl::InvalidArgumentError(absl::StrCat("filter.words: at most ", kMaxWords));
  }
  for (auto& w : *f->mutable_words()) {
    STEWARD_RETURN_IF_ERROR(CheckText("filter.words", w, 2, kMaxShortTextLen));
    w = absl::AsciiStrToLower(w);
  }
  if (f->from_ms() < 0 || f->until_ms() < 0 || (f->until_ms() != 0 && f->until_ms() <= f->from_ms())) {
    return absl::InvalidArgumentError("filter.until_ms must be after filter.from_ms (or 0)");
  }
  return absl::OkStatus();
}

std::string CategoryWord(v1::TicketCategory c) {
  std::string n = v1::TicketCategory_Name(c);
  absl::string_view v = n;
  absl::ConsumePrefix(&v, "TICKET_CATEGORY_");
  return absl::AsciiStrToLower(v);
}

}  // namespace

Incidents::Incidents(storage::Store* store, Tickets* tickets, DirectiveHub* hub, IncidentsOptions options)
    : store_(store), tickets_(tickets), hub_(hub), options_(std::move(options)) {}

absl::Status Incidents::Init() {
  std::string prefix = KeyWriter().Byte(kRecord).Release();
  absl::Status bad;
  std::map<uint64_t, Incident> active;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kIncidents, prefix, storage::PrefixSuccessor(prefix), false,
                                       [&](absl::string_view, absl::string_view v) {
                                         Incident inc;
                                         if (!inc.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                           bad = absl::DataLossError("an incident record is unreadable");
                                           return false;
                                         }
                                         if (IsActive(inc)) active[inc.id()] = std::move(inc);
                                         return true;
                                       }));
  absl::MutexLock l(&mu_);
  active_ = std::move(active);
  return bad;
}

void Incidents::Remember(const Incident& inc) const {
  absl::MutexLock l(&mu_);
  if (IsActive(inc)) {
    active_[inc.id()] = inc;
  } else {
    active_.erase(inc.id());
  }
}

void Incidents::Attach(Txn& txn, const Incident& inc, Ticket* t, int64_t now) const {
  t->set_incident_id(inc.id());
  // Rule 4: complaints caused by an outage go up the chain.
  if (inc.cause() == v1::INCIDENT_CAUSE_OUTAGE && t->category() == v1::TICKET_CATEGORY_COMPLAINT &&
      t->escalation_level() < 1) {
    EscalateTicketTo(t, 1, now, "steward", absl::StrCat("complaint caused by an outage (incident ", inc.id(), ")"));
  }
  txn.Put(Cf::kIncidents, LinkKey(inc.id(), t->id()), "");
}

absl::Status Incidents::OnTicketSubmitted(Txn& txn, Ticket* t) const {
  const int64_t now = t->created_at_ms();
  std::optional<Incident> match, suggestion;
  std::vector<uint64_t> spike_tickets;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, inc] : active_) {  // oldest first
      if (Matches(inc, *t)) {
        match = inc;
        break;
      }
    }
    if (!match && options_.spike_count > 0) {
      Spike& sp = spikes_[{t->context().realm_id(), static_cast<int>(t->category())}];
      // Two windows are kept: the one before is the baseline, so a realm
      // whose normal volume is high needs a rise, not just a count.
      const int64_t w = options_.spike_window_ms;
      sp.recent.emplace_back(now, t->id());
      while (!sp.recent.empty() && sp.recent.front().first <= now - 2 * w) sp.recent.pop_front();
      size_t before = 0;
      while (before < sp.recent.size() && sp.recent[before].first <= now - w) ++before;
      const size_t current = sp.recent.size() - before;
      if (current >= static_cast<size_t>(options_.spike_count) && current >= kSpikeOverBaseline * before) {
        for (size_t i = before; i < sp.recent.size(); ++i) spike_tickets.push_back(sp.recent[i].second);
        sp.recent.clear();
        suggestion.emplace();
      }
    }
  }
  if (match) {
    Incident inc;
    STEWARD_RETURN_IF_ERROR(LoadIncident(txn, match->id(), &inc));
    Attach(txn, inc, t, now);
    inc.set_linked(inc.linked() + 1);
    PutIncident(txn, &inc);
    return absl::OkStatus();
  }
  if (!suggestion) return absl::OkStatus();
  // A spike: suggest an incident holding the spike's tickets.
  Incident& inc = *suggestion;
  STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("incident"));
  inc.set_id(id);
  inc.set_state(v1::INCIDENT_STATE_SUGGESTED);
  inc.set_title(absl::StrCat("Many ", CategoryWord(t->category()), " tickets in ", t->context().realm_id()));
  inc.set_created_by("steward");
  inc.set_created_at_ms(now);
  int64_t from = now - options_.spike_window_ms;
  inc.set_suggested_reason(absl::StrCat(spike_tickets.size(), " ", CategoryWord(t->category()),
                                        " tickets in realm ", t->context().realm_id(), " within ",
                                        options_.spike_window_ms / 60000, " min"));
  auto* f = inc.mutable_filter();
  f->set_realm_id(t->context().realm_id());
  f->set_category(t->category());
  f->set_from_ms(from);
  Caller system;
  system.principal = &StewardPrincipal();
  for (uint64_t tid : spike_tickets) {
    if (tid == t->id()) {
      Attach(txn, inc, t, now);
      inc.set_linked(inc.linked() + 1);
      continue;
    }
    Ticket before;
    if (!Tickets::Load(txn, tid, &before).ok()) continue;
    if (before.incident_id() != 0 || !IsOpenTicket(before.status())) continue;
    Ticket after = before;
    Attach(txn, inc, &after, now);
    STEWARD_RETURN_IF_ERROR(tickets_->Save(txn, system, before, &after, "ticket.link_incident",
                                           inc.suggested_reason(), now));
    inc.set_linked(inc.linked() + 1);
  }
  PutIncident(txn, &inc);
  txn.Put(Cf::kIncidents, KeyWriter().Byte(kCreated).I64(now).U64(id).key(), "");
  STEWARD_RETURN_IF_ERROR(AppendAudit(txn, system, now,
                                      {.action = "incident.suggest", .target = Target(id),
                                       .reason = inc.suggested_reason(), .after = &inc}));
  // Matching starts at once (before the commit is durable: a failed
  // commit leaves a suggestion in memory that a restart forgets).
  Remember(inc);
  if (on_suggested_) on_suggested_(inc);
  return absl::OkStatus();
}

absl::Status Incidents::OnTicketDetached(Txn& txn, const Ticket& t, int64_t now) const {
  Incident inc;
  STEWARD_RETURN_IF_ERROR(LoadIncident(txn, t.detached_from_incident(), &inc));
  txn.Put(Cf::kIncidents, LinkKey(inc.id(), t.id()), "d");
  inc.set_linked(inc.linked() > 0 ? inc.linked() - 1 : 0);
  inc.set_detached(inc.detached() + 1);
  PutIncident(txn, &inc);
  return absl::OkStatus();
}

void Incidents::Open(const Caller& c, const v1::OpenIncidentRequest& req, v1::IncidentResponse* resp,
                     storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "OpenIncident");
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok()) s = CheckText("title", req.title(), 1, kMaxSubjectLen);
  if (s.ok()) s = CheckEnum("cause", req.cause(), v1::IncidentCause_IsValid(req.cause()), true);
  auto filter = std::make_shared<v1::IncidentFilter>(req.filter());
  if (s.ok()) s = ValidateFilter(filter.get());
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp, filter](Txn& txn) -> absl::Status {
        std::string idem = KeyWriter().Str(c.name()).Str("incident").Str(req.idempotency_key()).Release();
        STEWARD_ASSIGN_OR_RETURN(uint64_t existing, FindIdempotent(txn, idem));
        if (existing != 0) {
          resp->set_deduplicated(true);
          return LoadIncident(txn, existing, resp->mutable_incident());
        }
        const int64_t now = Now();
        Incident& inc = *resp->mutable_incident();
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("incident"));
        inc.set_id(id);
        inc.set_title(req.title());
        inc.set_cause(req.cause());
        inc.set_state(v1::INCIDENT_STATE_OPEN);
        *inc.mutable_filter() = *filter;
        inc.set_created_by(c.name());
        inc.set_created_at_ms(now);
        inc.set_confirmed_by(c.name());
        inc.set_confirmed_at_ms(now);
        if (req.link_existing()) {
          // Open tickets of the realm filed since the filter's start (at
          // most a day back) that match and are not linked elsewhere.
          int64_t from = std::max(filter->from_ms(), now - kDayMs);
          Incident probe = inc;
          probe.mutable_filter()->set_from_ms(from);
          std::vector<uint64_t> ids;
          STEWARD_RETURN_IF_ERROR(tickets_->ScanCreated(from, now + 1, [&](const Ticket& t) {
            if (t.incident_id() == 0 && IsOpenTicket(t.status()) && Matches(probe, t)) ids.push_back(t.id());
            return ids.size() < 20000;
          }));
          for (uint64_t tid : ids) {
            Ticket before;
            STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &before));
            if (before.incident_id() != 0) continue;
            Ticket after = before;
            Attach(txn, inc, &after, now);
            STEWARD_RETURN_IF_ERROR(tickets_->Save(txn, c, before, &after, "ticket.link_incident",
                                                   Target(id), now));
            inc.set_linked(inc.linked() + 1);
          }
          resp->set_tickets_changed(inc.linked());
        }
        PutIncident(txn, &inc);
        txn.Put(Cf::kIncidents, KeyWriter().Byte(kCreated).I64(now).U64(id).key(), "");
        RecordIdempotent(txn, idem, id, now);
        return AppendAudit(txn, c, now, {.action = "incident.open", .target = Target(id), .after = &inc});
      },
      [this, resp, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) Remember(resp->incident());
        done(s);
      });
}

void Incidents::Change(const Caller& c, uint64_t id, v1::IncidentResponse* resp, storage::DoneFn done,
                       std::function<absl::Status(Txn&, Incident*, uint64_t*)> fn) {
  if (id == 0) return done(absl::InvalidArgumentError("incident_id is required"));
  auto reply_seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, id, resp, reply_seq, fn = std::move(fn)](Txn& txn) -> absl::Status {
        Incident* inc = resp->mutable_incident();
        STEWARD_RETURN_IF_ERROR(LoadIncident(txn, id, inc));
        STEWARD_RETURN_IF_ERROR(fn(txn, inc, reply_seq.get()));
        PutIncident(txn, inc);
        return absl::OkStatus();
      },
      [this, resp, reply_seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          Remember(resp->incident());
          if (*reply_seq != 0) hub_->Published(*reply_seq);
        }
        done(s);
      },
      // Replies and resolutions write every linked ticket.
      storage::Store::kDefaultWriteBytes * 16);
}

void Incidents::Confirm(const Caller& c, const v1::ConfirmIncidentRequest& req, v1::IncidentResponse* resp,
                        storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "ConfirmIncident");
  if (s.ok()) s = CheckText("title", req.title(), 0, kMaxSubjectLen);
  if (s.ok()) s = CheckEnum("cause", req.cause(), v1::IncidentCause_IsValid(req.cause()), true);
  if (!s.ok()) return done(s);
  Change(c, req.incident_id(), resp, std::move(done), [this, c, &req](Txn& txn, Incident* inc, uint64_t*) -> absl::Status {
    if (inc->state() != v1::INCIDENT_STATE_SUGGESTED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "incident ", inc->id(), " is ", v1::IncidentState_Name(inc->state()), "; only a suggested one is confirmed"));
    }
    Incident before = *inc;
    const int64_t now = Now();
    inc->set_state(v1::INCIDENT_STATE_OPEN);
    if (!req.title().empty()) inc->set_title(req.title());
    if (req.cause() != v1::INCIDENT_CAUSE_UNSPECIFIED) inc->set_cause(req.cause());
    inc->set_confirmed_by(c.name());
    inc->set_confirmed_at_ms(now);
    if (inc->cause() == v1::INCIDENT_CAUSE_OUTAGE) {
      // Rule 4: the complaints already linked escalate now the cause is known.
      std::vector<std::pair<uint64_t, bool>> links;
      STEWARD_RETURN_IF_ERROR(Links(inc->id(), &links));
      for (const auto& [tid, detached] : links) {
        if (detached) continue;
        Ticket tb;
        STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &tb));
        if (tb.incident_id() != inc->id() || tb.category() != v1::TICKET_CATEGORY_COMPLAINT ||
            tb.escalation_level() >= 1 || !IsOpenTicket(tb.status())) {
          continue;
        }
        Ticket ta = tb;
        EscalateTicketTo(&ta, 1, now, "steward", absl::StrCat("complaint caused by an outage (incident ", inc->id(), ")"));
        STEWARD_RETURN_IF_ERROR(tickets_->Save(txn, c, tb, &ta, "ticket.escalate", ta.escalations().rbegin()->reason(), now));
      }
    }
    return AppendAudit(txn, c, now, {.action = "incident.confirm", .target = Target(inc->id()),
                                     .before = &before, .after = inc});
  });
}

absl::Status Incidents::Links(uint64_t id, std::vector<std::pair<uint64_t, bool>>* out) const {
  std::string prefix = KeyWriter().Byte(kLink).U64(id).Release();
  return store_->Scan(Cf::kIncidents, prefix, storage::PrefixSuccessor(prefix), false,
                      [&](absl::string_view key, absl::string_view v) {
                        KeyReader r(key.substr(prefix.size()));
                        if (auto t = r.U64()) out->emplace_back(*t, v == "d");
                        return true;
                      });
}

void Incidents::Dismiss(const Caller& c, const v1::DismissIncidentRequest& req, v1::IncidentResponse* resp,
                        storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "DismissIncident");
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  Change(c, req.incident_id(), resp, std::move(done), [this, c, &req, resp](Txn& txn, Incident* inc, uint64_t*) {
    if (!IsActive(*inc)) {
      return absl::FailedPreconditionError(absl::StrCat("incident ", inc->id(), " is already ",
                                                        v1::IncidentState_Name(inc->state())));
    }
    Incident before = *inc;
    const int64_t now = Now();
    std::vector<std::pair<uint64_t, bool>> links;
    STEWARD_RETURN_IF_ERROR(Links(inc->id(), &links));
    for (const auto& [tid, detached] : links) {
      txn.Delete(Cf::kIncidents, LinkKey(inc->id(), tid));
      if (detached) continue;
      Ticket tb;
      STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &tb));
      if (tb.incident_id() != inc->id()) continue;
      Ticket ta = tb;
      ta.set_incident_id(0);
      STEWARD_RETURN_IF_ERROR(tickets_->Save(txn, c, tb, &ta, "ticket.unlink_incident",
                                             absl::StrCat("incident ", inc->id(), " dismissed"), now));
      resp->set_tickets_changed(resp->tickets_changed() + 1);
    }
    inc->set_state(v1::INCIDENT_STATE_DISMISSED);
    inc->set_linked(0);
    inc->set_resolved_by(c.name());
    inc->set_resolved_at_ms(now);
    inc->set_resolution(req.reason());
    return AppendAudit(txn, c, now, {.action = "incident.dismiss", .target = Target(inc->id()),
                                     .reason = req.reason(), .before = &before, .after = inc});
  });
}

void Incidents::Link(const Caller& c, const v1::LinkTicketsRequest& req, v1::IncidentResponse* resp,
                     storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "LinkTickets");
  if (s.ok() && (req.ticket_ids().empty() || static_cast<size_t>(req.ticket_ids_size()) > kMaxLinkBatch)) {
    s = absl::InvalidArgumentError(absl::StrCat("ticket_ids: 1 to ", kMaxLinkBatch, " tickets"));
  }
  if (!s.ok()) return done(s);
  Change(c, req.incident_id(), resp, std::move(done), [this, c, &req, resp](Txn& txn, Incident* inc, uint64_t*) {
    if (!IsActive(*inc)) {
      return absl::FailedPreconditionError(absl::StrCat("incident ", inc->id(), " is ",
                                                        v1::IncidentState_Name(inc->state()),
                                                        "; tickets link only to a suggested or open one"));
    }
    const int64_t now = Now();
    std::set<uint64_t> seen;
    for (uint64_t tid : req.ticket_ids()) {
      if (!seen.insert(tid).second) continue;
      Ticket before;
      STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &before));
      if (before.incident_id() == inc->id()) continue;
      if (before.incident_id() != 0) {
        return absl::FailedPreconditionError(absl::StrCat("ticket ", tid, " is linked to incident ",
                                                          before.incident_id(), "; it belongs to one incident"));
      }
      if (before.context().realm_id() != inc->filter().realm_id()) {
        return absl::InvalidArgumentError(absl::StrCat("ticket ", tid, " is in realm ", before.context().realm_id(),
                                                       ", the incident in ", inc->filter().realm_id()));
      }
      if (!IsOpenTicket(before.status())) {
        return absl::FailedPreconditionError(absl::StrCat("ticket ", tid, " is ", v1::TicketStatus_Name(before.status()),
                                                          "; only open tickets are linked"));
      }
      Ticket after = before;
      Attach(txn, *inc, &after, now);
      STEWARD_RETURN_IF_ERROR(tickets_->Save(txn, c, before, &after, "ticket.link_incident", Target(inc->id()), now));
      inc->set_linked(inc->linked() + 1);
      resp->set_tickets_changed(resp->tickets_changed() + 1);
    }
    return AppendAudit(txn, c, now, {.action = "incident.link", .target = Target(inc->id()),
                                     .reason = absl::StrCat(resp->tickets_changed(), " tickets")});
  });
}

void Incidents::Reply(const Caller& c, const v1::ReplyToIncidentRequest& req, v1::IncidentResponse* resp,
                      storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "ReplyToIncident");
  if (s.ok()) s = CheckText("body", req.body(), req.kb_entry_id() != 0 ? 0 : 1, kMaxTextLen);
  if (!s.ok()) return done(s);
  Change(c, req.incident_id(), resp, std::move(done),
         [this, c, &req, resp](Txn& txn, Incident* inc, uint64_t* reply_seq) {
           if (!IsActive(*inc)) {
             return absl::FailedPreconditionError(absl::StrCat("incident ", inc->id(), " is ",
                                                               v1::IncidentState_Name(inc->state())));
           }
           const int64_t now = Now();
           std::vector<std::pair<uint64_t, bool>> links;
           STEWARD_RETURN_IF_ERROR(Links(inc->id(), &links));
           v1::AddMessageRequest m;
           m.set_body(req.body());
           m.set_visibility(v1::MESSAGE_VISIBILITY_PUBLIC);
           m.set_kb_entry_id(req.kb_entry_id());
           m.set_await_player(req.await_player());
           for (const auto& [tid, detached] : links) {
             if (detached) continue;
             Ticket t;
             STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &t));
             // Closed meanwhile, or moved to another incident: not this reply's;
             // one resolved on its own is not put back to waiting on the player.
             if (t.status() == v1::TICKET_STATUS_CLOSED || t.incident_id() != inc->id() ||
                 (req.await_player() && !IsOpenTicket(t.status()))) {
               continue;
             }
             m.set_ticket_id(tid);
             v1::AddMessageResponse out;
             uint64_t seq = 0;
             STEWARD_RETURN_IF_ERROR(tickets_->AppendMessage(txn, c, m, inc->id(), now, &out, &seq));
             *reply_seq = std::max(*reply_seq, seq);
             resp->set_tickets_changed(resp->tickets_changed() + 1);
           }
           inc->set_replies(inc->replies() + 1);
           return AppendAudit(txn, c, now, {.action = "incident.reply", .target = Target(inc->id()),
                                            .reason = absl::StrCat("to ", resp->tickets_changed(), " tickets")});
         });
}

void Incidents::Resolve(const Caller& c, const v1::ResolveIncidentRequest& req, v1::IncidentResponse* resp,
                        storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "ResolveIncident");
  if (s.ok()) s = CheckText("resolution", req.resolution(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  Change(c, req.incident_id(), resp, std::move(done), [this, c, &req, resp](Txn& txn, Incident* inc, uint64_t*) {
    if (inc->state() != v1::INCIDENT_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(
          "incident ", inc->id(), " is ", v1::IncidentState_Name(inc->state()),
          inc->state() == v1::INCIDENT_STATE_SUGGESTED ? "; confirm it first" : ""));
    }
    Incident before = *inc;
    const int64_t now = Now();
    std::vector<std::pair<uint64_t, bool>> links;
    STEWARD_RETURN_IF_ERROR(Links(inc->id(), &links));
    v1::UpdateTicketStatusRequest u;
    u.set_status(v1::TICKET_STATUS_RESOLVED);
    u.set_reason(absl::StrCat("incident ", inc->id(), " resolved: ", req.resolution()));
    for (const auto& [tid, detached] : links) {
      if (detached) continue;
      Ticket t;
      STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &t));
      if (!IsOpenTicket(t.status()) || t.incident_id() != inc->id()) continue;
      u.set_ticket_id(tid);
      v1::UpdateTicketStatusResponse out;
      STEWARD_RETURN_IF_ERROR(tickets_->ChangeStatus(txn, c, u, now, &out));
      resp->set_tickets_changed(resp->tickets_changed() + 1);
    }
    inc->set_state(v1::INCIDENT_STATE_RESOLVED);
    inc->set_resolved_by(c.name());
    inc->set_resolved_at_ms(now);
    inc->set_resolution(req.resolution());
    txn.Put(Cf::kIncidents, KeyWriter().Byte(kResolved).I64(now).U64(inc->id()).key(), "");
    return AppendAudit(txn, c, now, {.action = "incident.resolve", .target = Target(inc->id()),
                                     .reason = req.resolution(), .before = &before, .after = inc});
  });
}

absl::Status Incidents::Get(const Caller& c, const v1::GetIncidentRequest& req, v1::IncidentResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "GetIncident"));
  if (req.incident_id() == 0) return absl::InvalidArgumentError("incident_id is required");
  std::string v;
  absl::Status got = store_->Get(Cf::kIncidents, RecordKeyOf(req.incident_id()), &v);
  return ParseRecord(got, v, "incident", req.incident_id(), resp->mutable_incident());
}

absl::Status Incidents::List(const Caller& c, const v1::ListIncidentsRequest& req,
                             v1::ListIncidentsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListIncidents"));
  STEWARD_RETURN_IF_ERROR(CheckEnum("state", req.state(), v1::IncidentState_IsValid(req.state()), true));
  TimeScan scan;
  scan.cf = Cf::kIncidents;
  scan.prefix = KeyWriter().Byte(kCreated).Release();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  STEWARD_ASSIGN_OR_RETURN(
      std::string next,
      ScanByTime(*store_, scan, [&](int64_t, uint64_t id, absl::string_view, absl::string_view) -> absl::StatusOr<bool> {
        Incident inc;
        std::string v;
        STEWARD_RETURN_IF_ERROR(ParseRecord(store_->Get(Cf::kIncidents, RecordKeyOf(id), &v), v, "incident", id, &inc));
        if (req.state() != v1::INCIDENT_STATE_UNSPECIFIED && inc.state() != req.state()) return false;
        if (!req.realm_id().empty() && inc.filter().realm_id() != req.realm_id()) return false;
        *resp->add_incidents() = std::move(inc);
        return true;
      }));
  resp->set_next_page_token(next);
  return absl::OkStatus();
}

absl::Status Incidents::ListTickets(const Caller& c, const v1::ListIncidentTicketsRequest& req,
                                    v1::ListIncidentTicketsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListIncidentTickets"));
  if (req.incident_id() == 0) return absl::InvalidArgumentError("incident_id is required");
  size_t page = req.page_size() == 0 ? 100 : std::min<size_t>(req.page_size(), 1000);
  uint64_t after = 0;
  if (!req.page_token().empty()) {
    auto r = KeyReader(req.page_token()).U64();
    if (!r) return absl::InvalidArgumentError("page_token is not one this server issued");
    after = *r;
  }
  std::vector<std::pair<uint64_t, bool>> links;
  STEWARD_RETURN_IF_ERROR(Links(req.incident_id(), &links));
  for (const auto& [tid, detached] : links) {
    v1::GetTicketResponse got;
    v1::GetTicketRequest g;
    g.set_ticket_id(tid);
    STEWARD_RETURN_IF_ERROR(tickets_->Get(c, g, &got));
    v1::DeliveryState state = v1::DELIVERY_STATE_UNSPECIFIED;
    for (const auto& m : got.messages()) {
      if (m.incident_id() == req.incident_id()) state = m.delivery();
    }
    if (state == v1::DELIVERY_STATE_QUEUED) resp->set_queued(resp->queued() + 1);
    if (state == v1::DELIVERY_STATE_DELIVERED) resp->set_delivered(resp->delivered() + 1);
    if (state == v1::DELIVERY_STATE_READ) resp->set_read(resp->read() + 1);
    if (tid <= after || static_cast<size_t>(resp->tickets_size()) >= page) continue;
    auto* it = resp->add_tickets();
    it->set_ticket_id(tid);
    it->set_player_id(got.ticket().player_id());
    it->set_server_id(got.ticket().context().server_id());
    it->set_status(got.ticket().status());
    it->set_detached(detached);
    it->set_reply_delivery(state);
  }
  if (!links.empty() && static_cast<size_t>(resp->tickets_size()) >= page &&
      resp->tickets(resp->tickets_size() - 1).ticket_id() != links.back().first) {
    resp->set_next_page_token(KeyWriter().U64(resp->tickets(resp->tickets_size() - 1).ticket_id()).Release());
  }
  return absl::OkStatus();
}

absl::Status Incidents::LinkedPlayers(Txn& txn, uint64_t id,
                                      std::vector<std::pair<std::string, std::string>>* out) const {
  Incident inc;
  STEWARD_RETURN_IF_ERROR(LoadIncident(txn, id, &inc));
  std::vector<std::pair<uint64_t, bool>> links;
  STEWARD_RETURN_IF_ERROR(Links(id, &links));
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& [tid, detached] : links) {
    Ticket t;
    STEWARD_RETURN_IF_ERROR(Tickets::Load(txn, tid, &t));
    if (seen.emplace(t.context().realm_id(), t.player_id()).second) {
      out->emplace_back(t.context().realm_id(), t.player_id());
    }
  }
  return absl::OkStatus();
}

std::vector<Incident> Incidents::Active() const {
  std::vector<Incident> out;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, inc] : active_) out.push_back(inc);
  }
  std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
    if (a.state() != b.state()) return a.state() == v1::INCIDENT_STATE_SUGGESTED;
    return a.created_at_ms() > b.created_at_ms();
  });
  if (out.size() > 50) out.resize(50);
  return out;
}

namespace {
absl::Status ScanIndexed(const storage::Store& store, uint8_t family, int64_t from, int64_t to,
                         const std::function<void(const Incident&)>& fn) {
  std::string lo = KeyWriter().Byte(family).I64(from).Release();
  std::string hi = KeyWriter().Byte(family).I64(to).Release();
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store.Scan(Cf::kIncidents, lo, hi, false, [&](absl::string_view key, absl::string_view) {
    KeyReader r(key.substr(1));
    r.I64();
    auto id = r.U64();
    if (!id) return true;
    std::string v;
    Incident inc;
    bad = ParseRecord(store.Get(Cf::kIncidents, RecordKeyOf(*id), &v), v, "incident", *id, &inc);
    if (!bad.ok()) return false;
    fn(inc);
    return true;
  }));
  return bad;
}
}  // namespace

absl::Status Incidents::ScanCreated(int64_t from, int64_t to, const std::function<void(const Incident&)>& fn) const {
  return ScanIndexed(*store_, kCreated, from, to, fn);
}

absl::Status Incidents::ScanResolved(int64_t from, int64_t to, const std::function<void(const Incident&)>& fn) const {
  return ScanIndexed(*store_, kResolved, from, to, fn);
}

}  // namespace steward
