#include "services/tickets/tickets.h"
#include "services/tickets/tickets_internal.h"

#include "services/desk/knowledge.h"

#include <atomic>
#include <cmath>
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/pagination.h"
#include "services/common/records.h"
#include "services/common/validation.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {

using namespace tickets_internal;  // the key layout, shared with ticket_scans.cc

namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Ticket;
using v1::TicketStatus;

std::string Target(uint64_t id) { return absl::StrCat("ticket/", id); }

std::string PlayerPrefix(absl::string_view realm, absl::string_view player) {
  return KeyWriter().Byte(kIdxPlayer).Str(realm).Str(player).Release();
}

bool IsOpen(TicketStatus s) {
  return s != v1::TICKET_STATUS_RESOLVED && s != v1::TICKET_STATUS_CLOSED;
}

// The earliest deadline still running, or 0.
int64_t NextDeadline(const Ticket& t) {
  if (!IsOpen(t.status())) return 0;
  const auto& s = t.sla();
  int64_t next = 0;
  auto consider = [&next](int64_t due) {
    if (due != 0 && (next == 0 || due < next)) next = due;
  };
  if (s.dispatched_at_ms() == 0 && !s.dispatch_breached()) consider(s.dispatch_due_ms());
  if (s.answered_at_ms() == 0 && !s.answer_breached() && s.paused_since_ms() == 0) {
    consider(s.answer_due_ms());
  }
  return next;
}

std::vector<std::string> IndexKeys(const Ticket& t) {
  auto tail = [&t](KeyWriter w) {
    return w.I64(t.created_at_ms()).U64(t.id()).Release();
  };
  std::vector<std::string> keys;
  keys.push_back(tail(KeyWriter().Byte(kIdxAll)));
  keys.push_back(tail(KeyWriter().Byte(kIdxStatus).Byte(t.status())));
  keys.push_back(tail(KeyWriter().Byte(kIdxCategory).Byte(t.category())));
  if (!t.assignee().empty()) {
    keys.push_back(tail(KeyWriter().Byte(kIdxAssignee).Str(t.assignee())));
  }
  keys.push_back(tail(KeyWriter(PlayerPrefix(t.context().realm_id(), t.player_id()))));
  if (int64_t due = NextDeadline(t); due != 0) {
    keys.push_back(KeyWriter().Byte(kIdxDeadline).I64(due).U64(t.id()).Release());
  }
  if (IsOpen(t.status())) {
    keys.push_back(tail(KeyWriter().Byte(kIdxOpen)));
    if (t.escalation_level() > 0) {
      keys.push_back(tail(KeyWriter().Byte(kIdxEscalated).Byte(3 - std::clamp(t.escalation_level(), 0, 3))));
    }
    if (t.sla().dispatch_breached() || t.sla().answer_breached()) {
      keys.push_back(tail(KeyWriter().Byte(kIdxBreached)));
    }
  }
  if (t.resolved_at_ms() != 0) {
    keys.push_back(KeyWriter().Byte(kIdxResolved).I64(t.resolved_at_ms()).U64(t.id()).Release());
  }
  if (!t.reported_player_id().empty()) {
    keys.push_back(tail(KeyWriter().Byte(kIdxReported).Str(t.context().realm_id()).Str(t.reported_player_id())));
  }
  // The pull queue ranks by the dispatch deadline, breached or not, so a
  // ticket that has waited past its limit stays ahead of fresher ones.
  if (t.assignee().empty() && IsOpen(t.status())) {
    int64_t rank = t.sla().dispatch_due_ms() != 0 ? t.sla().dispatch_due_ms() : t.created_at_ms();
    keys.push_back(KeyWriter().Byte(kIdxQueue).I64(rank).U64(t.id()).Release());
  }
  return keys;
}

// Writes `after` and moves its index entries from `before` (null for a new
// ticket). Bumps version and updated_at.
void WriteTicket(Txn& txn, const Ticket* before, Ticket& after, int64_t now) {
  // A new owner has read nothing of the player's yet, unless this very
  // change is theirs (a reply moves their read mark).
  if (before != nullptr && before->assignee() != after.assignee() &&
      after.owner_read_seq() == before->owner_read_seq()) {
    after.set_owner_read_seq(0);
    after.set_unread_for_owner(after.player_message_count());
  }
  after.set_version(after.version() + 1);
  after.set_updated_at_ms(now);
  std::vector<std::string> old_keys;
  if (before != nullptr) old_keys = IndexKeys(*before);
  std::vector<std::string> new_keys = IndexKeys(after);
  for (const auto& k : old_keys) {
    if (std::find(new_keys.begin(), new_keys.end(), k) == new_keys.end()) {
      txn.Delete(Cf::kTicketIndex, k);
    }
  }
  for (const auto& k : new_keys) {
    if (std::find(old_keys.begin(), old_keys.end(), k) == old_keys.end()) {
      txn.Put(Cf::kTicketIndex, k, "");
    }
  }
  txn.Put(Cf::kTickets, TicketKey(after.id()), after.SerializeAsString());
}

std::string PriorityWord(v1::Priority p) {
  return absl::AsciiStrToLower(v1::Priority_Name(p).substr(sizeof("PRIORITY_") - 1));
}


// From what the game server asked and the category. VIP tier and report
// volume raise it further when the ticket is stored.
void SetPriority(const v1::SubmitTicketRequest& req, v1::Ticket* t) {
  if (req.priority() != v1::PRIORITY_UNSPECIFIED) {
    t->set_priority(req.priority());
    t->add_priority_reasons(absl::StrCat("asked by the game server: ", PriorityWord(req.priority())));
  } else {
    t->set_priority(v1::PRIORITY_NORMAL);
    t->add_priority_reasons("default: normal");
  }
  switch (req.category()) {
    case v1::TICKET_CATEGORY_COMPLAINT:
      RaiseTicketPriority(t, v1::PRIORITY_HIGH, "complaint (dispatched within the hour)");
      break;
    case v1::TICKET_CATEGORY_PAYMENT:
      RaiseTicketPriority(t, v1::PRIORITY_HIGH, "payment (money at stake)");
      break;
    case v1::TICKET_CATEGORY_ACCOUNT:
      RaiseTicketPriority(t, v1::PRIORITY_HIGH, "account access");
      break;
    default:
      break;
  }
}

absl::Status LoadTicket(Txn& txn, uint64_t id, Ticket* t) {
  std::string v;
  absl::Status s = txn.Get(Cf::kTickets, TicketKey(id), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("ticket ", id, " not found"));
  }
  STEWARD_RETURN_IF_ERROR(s);
  return ParseTicket(v, id, t);
}

absl::Status CheckTicketId(uint64_t id) {
  return id == 0 ? absl::InvalidArgumentError("ticket_id is required")
                 : absl::OkStatus();
}

// A game server acting for a player may touch only that player's tickets
// in its own realm.
absl::Status CheckPlayerOwns(const Caller& c, const Ticket& t) {
  if (t.player_id() != c.player_id ||
      t.context().realm_id() != c.principal->realm) {
    return absl::PermissionDeniedError(absl::StrCat(
        "ticket ", t.id(), " does not belong to player ", c.player_id));
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(const Ticket& t, uint64_t expected) {
  if (expected != 0 && expected != t.version()) {
    return absl::AbortedError(absl::StrCat(
        "ticket ", t.id(), " changed meanwhile (version ", t.version(),
        ", expected ", expected, "); reload it and retry"));
  }
  return absl::OkStatus();
}

// Contact details go only to the player, the ticket's owner and leads up.
void Redact(const Caller& c, Ticket* t) {
  if (c.is_game_server()) {  // already limited to the player's own
    t->clear_sensitive_reasons();  // the desk's judgement, not the player's business
    return;
  }
  if (c.HasRole(Role::kLead) || t->assignee() == c.name()) return;
  t->clear_contact();
}

// What the player sees of a reply: the text, not the desk's bookkeeping
// (which unified answer it came from, whether it bent rule 13).
void ForPlayer(v1::TicketMessage* m) {
  m->clear_kb_entry_id();
  m->clear_kb_entry_version();
  m->clear_sensitive_free_answer();
  m->clear_incident_id();
}

// Sets sla.at_risk for a reader at `now`.
void MarkRisk(Ticket* t, int64_t now) {
  auto* s = t->mutable_sla();
  int64_t due = NextDeadline(*t);
  bool risk = false;
  if (due != 0) {
    int64_t margin = std::max<int64_t>(15 * 60 * 1000, (due - t->created_at_ms()) / 5);
    risk = due - now <= margin;
  }
  s->set_at_risk(risk);
}

// Moves the ticket's clocks for the change before -> after (before null
// for a new ticket).
void UpdateSla(const Ticket* before, Ticket* after, int64_t now, const SlaPolicy& policy) {
  auto* s = after->mutable_sla();
  SlaLimits limits = policy.For(after->category(), after->priority(), after->vip_tier());
  if (before == nullptr) {
    s->set_dispatch_due_ms(policy.Due(now, limits.dispatch_ms));
    s->set_answer_due_ms(policy.Due(now, limits.answer_ms));
  }
  if (s->dispatched_at_ms() == 0 && !after->assignee().empty()) s->set_dispatched_at_ms(now);
  bool was_waiting = before != nullptr && before->status() == v1::TICKET_STATUS_WAITING_PLAYER;
  bool waiting = after->status() == v1::TICKET_STATUS_WAITING_PLAYER;
  if (!was_waiting && waiting) s->set_paused_since_ms(now);
  if (was_waiting && !waiting && s->paused_since_ms() != 0) {
    // What was left of the limit when the pause began is left now.
    int64_t left = policy.Counted(s->paused_since_ms(), s->answer_due_ms());
    s->set_answer_due_ms(policy.Due(now, left));
    s->set_paused_total_ms(s->paused_total_ms() + (now - s->paused_since_ms()));
    s->set_paused_since_ms(0);
  }
  bool was_open = before == nullptr || IsOpen(before->status());
  bool open = IsOpen(after->status());
  if (was_open && !open && s->answered_at_ms() == 0) s->set_answered_at_ms(now);
  if (!was_open && open) {  // reopened: a fresh answer is due
    s->set_answered_at_ms(0);
    s->set_answer_breached(false);
    s->set_answer_due_ms(policy.Due(now, limits.answer_ms));
  }
}

}  // namespace

void EscalateTicketTo(Ticket* t, int level, int64_t now, absl::string_view by, absl::string_view reason) {
  for (int l = t->escalation_level() + 1; l <= level; ++l) {
    auto* e = t->add_escalations();
    e->set_level(l);
    e->set_at_ms(now);
    e->set_by(std::string(by));
    e->set_reason(std::string(reason));
    e->set_skipped(l < level);
  }
  t->set_escalation_level(std::max(t->escalation_level(), level));
}

namespace {

// The common end of every change to an existing ticket: write it with its
// indexes, audit before/after, and trim what the caller may not see.
absl::Status FinishChange(Txn& txn, const Caller& caller, const Ticket& before, Ticket* after,
                          absl::string_view action, absl::string_view reason, int64_t now,
                          const SlaPolicy& policy) {
  UpdateSla(&before, after, now, policy);
  WriteTicket(txn, &before, *after, now);
  STEWARD_RETURN_IF_ERROR(AppendAudit(txn, caller, now,
                              {.action = action, .target = Target(before.id()),
                               .reason = reason, .before = &before, .after = after}));
  Redact(caller, after);
  return absl::OkStatus();
}

// Reopening returns the ticket to its owner, or to the queue when it has
// none.
void Reopen(Ticket* t) {
  t->set_status(t->assignee().empty() ? v1::TICKET_STATUS_NEW
                                      : v1::TICKET_STATUS_IN_PROGRESS);
  t->set_reopen_count(t->reopen_count() + 1);
  t->set_resolved_at_ms(0);
  t->set_closed_at_ms(0);
}

void ApplyStatus(Ticket* t, TicketStatus to, int64_t now) {
  TicketStatus from = t->status();
  if (!IsOpen(from) && to == v1::TICKET_STATUS_IN_PROGRESS) {
    Reopen(t);
    return;
  }
  t->set_status(to);
  if (to == v1::TICKET_STATUS_RESOLVED) t->set_resolved_at_ms(now);
  if (to == v1::TICKET_STATUS_CLOSED) t->set_closed_at_ms(now);
}

}  // namespace

void RedactTicketFor(const Caller& c, v1::Ticket* t) { Redact(c, t); }

void RaiseTicketPriority(v1::Ticket* t, v1::Priority p, absl::string_view why) {
  if (t->priority() >= p) return;
  t->set_priority(p);
  t->add_priority_reasons(absl::StrCat(why, ": ", PriorityWord(p)));
}

void Tickets::Submit(const Caller& caller, const v1::SubmitTicketRequest& req,
                        v1::SubmitTicketResponse* resp, storage::DoneFn done) {
  if (auto s = ValidateSubmit(caller, req, Now()); !s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        // Idempotency keys are scoped to the submitting game server.
        std::string idem = KeyWriter().Str(caller.name()).Str(req.idempotency_key()).Release();
        std::string existing;
        absl::Status s = GetIdempotent(txn, idem, &existing);
        if (s.ok()) {
          auto id = KeyReader(existing).U64();
          if (!id) return absl::DataLossError("idempotency record is unreadable");
          Ticket* t = resp->mutable_ticket();
          STEWARD_RETURN_IF_ERROR(LoadTicket(txn, *id, t));
          if (t->player_id() != caller.player_id) {
            resp->Clear();
            return absl::AlreadyExistsError(absl::StrCat(
                "idempotency_key ", req.idempotency_key(),
                " was already used for another player's ticket"));
          }
          resp->set_deduplicated(true);
          return absl::OkStatus();
        }
        if (!absl::IsNotFound(s)) return s;

        int64_t now = Now();
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("ticket"));
        Ticket* t = resp->mutable_ticket();
        t->set_id(id);
        t->set_category(req.category());
        t->set_status(v1::TICKET_STATUS_NEW);
        SetPriority(req, t);
        t->set_player_id(caller.player_id);
        *t->mutable_context() = req.context();
        if (t->context().server_id().empty() && !caller.principal->server.empty()) {
          t->mutable_context()->set_server_id(caller.principal->server);
        }
        t->set_subject(req.subject());
        t->set_description(req.description());
        t->set_occurred_at_ms(req.occurred_at_ms());
        t->set_created_at_ms(now);
        t->set_submitted_by(caller.name());
        t->set_contact(req.contact());
        t->set_reported_player_id(req.reported_player_id());
        MarkSensitive(options_.sensitive, t);
        for (const TicketHooks* h : hooks_) STEWARD_RETURN_IF_ERROR(h->OnTicketSubmitted(txn, t));
        if (t->category() == v1::TICKET_CATEGORY_PLAYER_REPORT && !t->reported_player_id().empty()) {
          STEWARD_RETURN_IF_ERROR(RaiseForReportVolume(txn, now, t));
        }
        UpdateSla(nullptr, t, now, options_.sla);
        WriteTicket(txn, nullptr, *t, now);
        RecordIdempotent(txn, idem, id, now);
        return AppendAudit(txn, caller, now,
                           {.action = "ticket.submit", .target = Target(id), .after = t});
      },
      std::move(done),
      req.ByteSizeLong() + storage::Store::kDefaultWriteBytes);
}

void Tickets::SubmitForPlayer(const Caller& caller, const v1::PlayerTicket& item,
                                 v1::SubmitTicketResponse* resp, storage::DoneFn done) {
  if (!caller.is_game_server()) {
    return done(absl::PermissionDeniedError("submitting for players is for game servers"));
  }
  if (absl::Status s = CheckId("player_id", item.player_id(), true); !s.ok()) return done(s);
  Caller for_player = caller;
  for_player.player_id = item.player_id();
  Submit(for_player, item.ticket(), resp, std::move(done));
}

void Tickets::SubmitBatch(const Caller& caller, const v1::SubmitTicketsRequest& req,
                             v1::SubmitTicketsResponse* resp, storage::DoneFn done) {
  if (!caller.is_game_server()) {
    return done(absl::PermissionDeniedError("SubmitTickets is for game servers"));
  }
  if (req.tickets().empty() || req.tickets_size() > static_cast<int>(kMaxBatchTickets)) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "tickets must hold 1 to ", kMaxBatchTickets, " entries, not ", req.tickets_size())));
  }
  struct Batch {
    std::atomic<int> left;
    std::vector<v1::SubmitTicketResponse> outs;
    storage::DoneFn done;
  };
  const int n = req.tickets_size();
  auto* batch = new Batch{{n}, std::vector<v1::SubmitTicketResponse>(n), std::move(done)};
  for (int i = 0; i < n; ++i) resp->add_results();
  for (int i = 0; i < n; ++i) {
    // Each result is written by its own completion; the last one answers.
    SubmitForPlayer(caller, req.tickets(i), &batch->outs[i], [batch, resp, i](absl::Status s) {
      SetSubmitResult(s, &batch->outs[i], resp->mutable_results(i));
      if (batch->left.fetch_sub(1) == 1) {
        batch->done(absl::OkStatus());
        delete batch;
      }
    });
  }
}

void Tickets::Assign(const Caller& caller, const v1::AssignTicketRequest& req,
                        v1::AssignTicketResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(caller, Role::kAgent, "AssignTicket");
  if (s.ok()) s = CheckTicketId(req.ticket_id());
  if (s.ok()) s = CheckId("assignee", req.assignee(), true);
  if (s.ok()) s = CheckText("reason", req.reason(), 0, kMaxReasonLen);
  if (s.ok() && !auth_->IsGm(req.assignee())) {
    s = absl::InvalidArgumentError(absl::StrCat("assignee ", req.assignee(), " is not a known GM"));
  }
  if (s.ok() && !caller.HasRole(Role::kLead) && req.assignee() != caller.name()) {
    s = absl::PermissionDeniedError(
        "agents can only take tickets for themselves; a lead assigns to others");
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        Ticket before;
        STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
        STEWARD_RETURN_IF_ERROR(CheckVersion(before, req.expected_version()));
        if (!IsOpen(before.status())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "ticket ", before.id(), " is ", v1::TicketStatus_Name(before.status()),
              "; reopen it before assigning"));
        }
        Ticket* after = resp->mutable_ticket();
        *after = before;
        if (before.assignee() == req.assignee()) {
          Redact(caller, after);
          return absl::OkStatus();  // already so; nothing to record
        }
        if (!before.assignee().empty()) {
          if (!caller.HasRole(Role::kLead)) {
            return absl::PermissionDeniedError(absl::StrCat(
                "ticket ", before.id(), " is owned by ", before.assignee(),
                "; only a lead can transfer it"));
          }
          if (req.reason().empty()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "reason is required to transfer a ticket from ", before.assignee()));
          }
        }
        // The player rejected this GM's solution: someone else is offered
        // the ticket, unless a lead decides otherwise.
        if (!caller.HasRole(Role::kLead) &&
            std::find(before.rejected_assignees().begin(), before.rejected_assignees().end(),
                      req.assignee()) != before.rejected_assignees().end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the player rejected ", req.assignee(), "'s solution of ticket ", before.id(),
              "; another GM takes it (or a lead assigns it)"));
        }
        int64_t now = Now();
        after->set_assignee(req.assignee());
        if (before.status() == v1::TICKET_STATUS_NEW) {
          after->set_status(v1::TICKET_STATUS_ASSIGNED);
        }
        return FinishChange(txn, caller, before, after, "ticket.assign", req.reason(), now, options_.sla);
      },
      std::move(done));
}

void Tickets::AddMessage(const Caller& caller, const v1::AddMessageRequest& req,
                            v1::AddMessageResponse* resp, storage::DoneFn done) {
  absl::Status s = CheckTicketId(req.ticket_id());
  if (s.ok()) s = CheckText("body", req.body(), req.kb_entry_id() != 0 ? 0 : 1, kMaxTextLen);
  if (s.ok()) {
    s = CheckEnum("visibility", req.visibility(),
                  v1::MessageVisibility_IsValid(req.visibility()), !caller.is_gm());
  }
  if (s.ok() && !caller.is_gm()) {
    s = RequireGameServerWithPlayer(caller, "AddMessage");
    if (s.ok() && req.visibility() == v1::MESSAGE_VISIBILITY_INTERNAL) {
      s = absl::PermissionDeniedError("players cannot write internal notes");
    }
    if (s.ok() && req.await_player()) {
      s = absl::InvalidArgumentError("await_player is for GM replies");
    }
  }
  if (s.ok() && req.await_player() && req.visibility() != v1::MESSAGE_VISIBILITY_PUBLIC) {
    s = absl::InvalidArgumentError("await_player needs a public reply, not an internal note");
  }
  if (s.ok() && req.kb_entry_id() != 0 &&
      (!caller.is_gm() || req.visibility() != v1::MESSAGE_VISIBILITY_PUBLIC)) {
    s = absl::InvalidArgumentError("kb_entry_id: only a GM's public reply cites the knowledge base");
  }
  if (!s.ok()) return done(s);
  auto reply_seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, caller, &req, resp, reply_seq](Txn& txn) -> absl::Status {
        return AppendMessage(txn, caller, req, 0, Now(), resp, reply_seq.get());
      },
      [this, reply_seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok() && *reply_seq != 0) hub_->Published(*reply_seq);
        done(s);
      });
}

absl::Status Tickets::AppendMessage(Txn& txn, const Caller& caller, const v1::AddMessageRequest& req,
                                    uint64_t incident_id, int64_t now, v1::AddMessageResponse* resp,
                                    uint64_t* reply_seq) const {
  Ticket before;
  STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
  if (!caller.is_gm()) STEWARD_RETURN_IF_ERROR(CheckPlayerOwns(caller, before));
  if (before.status() == v1::TICKET_STATUS_CLOSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ticket ", before.id(), " is closed; reopen it to continue the conversation"));
  }
  if (before.message_count() >= kMaxMessagesPerTicket) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "ticket ", before.id(), " has reached ", kMaxMessagesPerTicket, " messages"));
  }
  bool is_public = req.visibility() != v1::MESSAGE_VISIBILITY_INTERNAL;
  Ticket* after = resp->mutable_ticket();
  *after = before;
  absl::string_view action;
  std::string reason;
  bool free_answer = false;
  if (caller.is_gm()) {
    action = is_public ? "ticket.reply" : "ticket.note";
    if (is_public && before.sensitive_reasons_size() > 0 && req.kb_entry_id() == 0) {
      // Support rule 13: sensitive questions get the unified answer or go
      // up the chain; a lead's free answer is allowed and recorded.
      if (!caller.HasRole(Role::kLead)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ticket ", before.id(), " is sensitive (", absl::StrJoin(before.sensitive_reasons(), "; "),
            "): rule 13 says such questions are answered only with a unified answer; cite one "
            "(kb_entry_id) or escalate the ticket"));
      }
      free_answer = true;
      reason = "sensitive ticket answered without a unified answer";
    }
    if (incident_id != 0) {
      reason = absl::StrCat("reply to incident ", incident_id, reason.empty() ? "" : "; ", reason);
    }
    if (is_public) {
      if (!before.assignee().empty() && before.assignee() != caller.name() &&
          !caller.HasRole(Role::kLead)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "ticket ", before.id(), " is owned by ", before.assignee(),
            "; add an internal note or ask a lead to transfer it"));
      }
      // First contact: whoever answers an unowned ticket owns it.
      if (before.assignee().empty()) after->set_assignee(caller.name());
      if (IsOpen(before.status())) {
        after->set_status(req.await_player() ? v1::TICKET_STATUS_WAITING_PLAYER
                                             : v1::TICKET_STATUS_IN_PROGRESS);
      } else if (req.await_player()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ticket ", before.id(), " is resolved; reopen it to wait on the player"));
      }
    }
  } else {
    action = "ticket.player_message";
    if (before.incident_id() != 0) {
      // The player wrote again: handled on its own from now on.
      after->set_detached_from_incident(before.incident_id());
      after->set_incident_id(0);
      reason = absl::StrCat("left incident ", before.incident_id(), ": the player wrote again");
      for (const TicketHooks* h : hooks_) STEWARD_RETURN_IF_ERROR(h->OnTicketDetached(txn, *after, now));
    }
    if (before.status() == v1::TICKET_STATUS_WAITING_PLAYER) {
      after->set_status(v1::TICKET_STATUS_IN_PROGRESS);
    } else if (before.status() == v1::TICKET_STATUS_RESOLVED) {
      Reopen(after);  // the player is not satisfied
    }
  }
  v1::TicketMessage* m = resp->mutable_message();
  m->set_ticket_id(before.id());
  m->set_seq(before.message_count() + 1);
  m->set_author_kind(caller.is_gm() ? v1::AUTHOR_KIND_GM : v1::AUTHOR_KIND_PLAYER);
  m->set_author(caller.is_gm() ? caller.name() : caller.player_id);
  m->set_visibility(is_public ? v1::MESSAGE_VISIBILITY_PUBLIC
                              : v1::MESSAGE_VISIBILITY_INTERNAL);
  m->set_body(req.body());
  m->set_created_at_ms(now);
  if (req.kb_entry_id() != 0) {
    v1::KbEntry kb;
    STEWARD_RETURN_IF_ERROR(LoadCitableEntry(txn, req.kb_entry_id(), now, &kb));
    m->set_kb_entry_id(kb.id());
    m->set_kb_entry_version(kb.version());
    if (m->body().empty()) m->set_body(kb.body());
  }
  m->set_incident_id(incident_id);
  m->set_sensitive_free_answer(free_answer);
  after->set_message_count(m->seq());
  if (caller.is_gm() && is_public && after->first_response_at_ms() == 0) {
    after->set_first_response_at_ms(now);
  }
  // Whoever writes has read what came before; the other side has one
  // more to read.
  if (caller.is_gm()) {
    if (after->assignee() == caller.name()) {
      after->set_owner_read_seq(m->seq());
      after->set_unread_for_owner(0);
    }
    if (is_public) after->set_unread_for_player(after->unread_for_player() + 1);
  } else {
    after->set_player_message_count(after->player_message_count() + 1);
    after->set_player_read_seq(m->seq());
    after->set_unread_for_player(0);
    after->set_unread_for_owner(after->unread_for_owner() + 1);
  }
  STEWARD_RETURN_IF_ERROR(FinishChange(txn, caller, before, after, action, reason, now, options_.sla));
  if (caller.is_gm() && is_public) {
    // The reply reaches the player in game through their server
    // (the realm's servers when the ticket names none).
    v1::Directive d;
    d.mutable_target()->set_realm_id(after->context().realm_id());
    d.mutable_target()->set_server_id(after->context().server_id());
    auto* r = d.mutable_ticket_reply();
    r->set_ticket_id(after->id());
    r->set_player_id(after->player_id());
    r->set_subject(after->subject());
    *r->mutable_message() = *m;
    ForPlayer(r->mutable_message());
    r->set_status(after->status());
    STEWARD_RETURN_IF_ERROR(hub_->Append(txn, now, &d));
    *reply_seq = d.seq();
    m->set_directive_seq(d.seq());
  }
  txn.Put(Cf::kTicketMessages, KeyWriter().U64(before.id()).U64(m->seq()).key(),
          m->SerializeAsString());
  return absl::OkStatus();
}

void Tickets::UpdateStatus(const Caller& caller, const v1::UpdateTicketStatusRequest& req,
                              v1::UpdateTicketStatusResponse* resp, storage::DoneFn done) {
  absl::Status s = CheckTicketId(req.ticket_id());
  if (s.ok()) {
    s = CheckEnum("status", req.status(), v1::TicketStatus_IsValid(req.status()), false);
  }
  if (s.ok()) s = CheckText("reason", req.reason(), 0, kMaxReasonLen);
  if (s.ok() && req.status() == v1::TICKET_STATUS_ASSIGNED) {
    s = absl::InvalidArgumentError("use AssignTicket to assign a ticket");
  }
  if (s.ok() && !caller.is_gm()) s = RequireGameServerWithPlayer(caller, "UpdateTicketStatus");
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        return ChangeStatus(txn, caller, req, Now(), resp);
      },
      std::move(done));
}

absl::Status Tickets::ChangeStatus(Txn& txn, const Caller& caller, const v1::UpdateTicketStatusRequest& req,
                                   int64_t now, v1::UpdateTicketStatusResponse* resp) const {
  Ticket before;
  STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
  if (!caller.is_gm()) STEWARD_RETURN_IF_ERROR(CheckPlayerOwns(caller, before));
  STEWARD_RETURN_IF_ERROR(CheckVersion(before, req.expected_version()));
  TicketStatus from = before.status(), to = req.status();
  if (!TicketTransitionAllowed(from, to)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ticket ", before.id(), " cannot move from ", v1::TicketStatus_Name(from),
        " to ", v1::TicketStatus_Name(to)));
  }
  if (caller.is_gm()) {
    if (!caller.HasRole(Role::kLead) && !before.assignee().empty() &&
        before.assignee() != caller.name()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "ticket ", before.id(), " is owned by ", before.assignee(),
          "; only its owner or a lead can change its status"));
    }
    if (from == v1::TICKET_STATUS_CLOSED && !caller.HasRole(Role::kLead)) {
      return absl::PermissionDeniedError("reopening a closed ticket needs role lead or above");
    }
  } else if (from != v1::TICKET_STATUS_RESOLVED ||
        (to != v1::TICKET_STATUS_CLOSED && to != v1::TICKET_STATUS_IN_PROGRESS)) {
    return absl::PermissionDeniedError(
        "a player may only accept (CLOSED) or reopen (IN_PROGRESS) a resolved ticket");
  }
  Ticket* after = resp->mutable_ticket();
  *after = before;
  // First contact: a GM acting on an unowned ticket takes it, whatever
  // the move (one resolved straight away still needs an owner for its
  // callback, the desk reports and quality sampling).
  if (caller.is_gm() && before.assignee().empty()) {
    after->set_assignee(caller.name());
  }
  ApplyStatus(after, to, now);
  if (after->status() == v1::TICKET_STATUS_RESOLVED && before.status() != v1::TICKET_STATUS_RESOLVED) {
    for (const TicketHooks* h : hooks_) STEWARD_RETURN_IF_ERROR(h->OnTicketResolved(txn, *after, now));
  }
  return FinishChange(txn, caller, before, after, "ticket.status", req.reason(), now, options_.sla);
}

void Tickets::Rate(const Caller& caller, const v1::RateTicketRequest& req,
                      v1::RateTicketResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGameServerWithPlayer(caller, "RateTicket");
  if (s.ok()) s = CheckTicketId(req.ticket_id());
  if (s.ok() && (req.score() < 1 || req.score() > 5)) {
    s = absl::InvalidArgumentError("score must be 1 to 5");
  }
  if (s.ok()) s = CheckText("comment", req.comment(), 0, kMaxReasonLen);
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        Ticket before;
        STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
        STEWARD_RETURN_IF_ERROR(CheckPlayerOwns(caller, before));
        if (before.status() != v1::TICKET_STATUS_RESOLVED &&
            before.status() != v1::TICKET_STATUS_CLOSED) {
          return absl::FailedPreconditionError(
              absl::StrCat("ticket ", before.id(), " is not resolved yet; rate it once it is"));
        }
        if (before.satisfaction().score() != 0) {
          return absl::AlreadyExistsError(absl::StrCat("ticket ", before.id(), " was already rated"));
        }
        int64_t now = Now();
        if (now - before.resolved_at_ms() > options_.csat_window_ms) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the rating window of ticket ", before.id(), " closed ",
              (now - before.resolved_at_ms() - options_.csat_window_ms) / 3'600'000, " h ago"));
        }
        Ticket* after = resp->mutable_ticket();
        *after = before;
        auto* sat = after->mutable_satisfaction();
        sat->set_score(req.score());
        sat->set_comment(req.comment());
        sat->set_rejected(req.reject() || req.score() <= 2);
        sat->set_rated_at_ms(now);
        sat->set_rated_assignee(before.assignee());
        if (sat->rejected()) {
          // Reopened for someone else: unassigned, back in the queue, with
          // the rejected GM on record so assignment can offer another.
          if (!before.assignee().empty()) after->add_rejected_assignees(before.assignee());
          after->clear_assignee();
          Reopen(after);
          resp->set_reopened(true);
        }
        return FinishChange(txn, caller, before, after,
                            sat->rejected() ? "ticket.rate_reject" : "ticket.rate", req.comment(), now, options_.sla);
      },
      std::move(done));
}

namespace {
// Breaches are the service's own doing: audited as "steward".
constexpr const char* kLevelNames[] = {"none", "lead", "supervisor", "manager"};
}  // namespace

Tickets::~Tickets() { sla_scheduler_.Stop(); }

void Tickets::StartSlaScheduler(absl::Duration every) {
  // A failing store is retried on the next round.
  sla_scheduler_.Start(every, [this] { sla_failures_.Report(RunSlaOnce()); });
}

absl::StatusOr<int> Tickets::RunSlaOnce() {
  const int64_t now = Now();
  std::string prefix = KeyWriter().Byte(kIdxDeadline).Release();
  std::vector<uint64_t> due;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kTicketIndex, prefix, KeyWriter(prefix).I64(now + 1).key(), false,
                               [&](absl::string_view key, absl::string_view) {
                                 KeyReader r(key.substr(prefix.size()));
                                 r.I64();
                                 if (auto id = r.U64()) due.push_back(*id);
                                 return due.size() < 1000;
                               }));
  int breaches = 0;
  Caller system;
  system.principal = &StewardPrincipal();
  for (uint64_t id : due) {
    int found = 0;
    STEWARD_RETURN_IF_ERROR(store_->CommitAndWait([&](Txn& txn) -> absl::Status {
      found = 0;
      Ticket before;
      STEWARD_RETURN_IF_ERROR(LoadTicket(txn, id, &before));
      Ticket after = before;
      auto* s = after.mutable_sla();
      std::string what;
      if (IsOpen(after.status()) && s->dispatched_at_ms() == 0 && !s->dispatch_breached() &&
          s->dispatch_due_ms() != 0 && s->dispatch_due_ms() <= now) {
        s->set_dispatch_breached(true);
        what = "no owner within the dispatch time limit";
        ++found;
      }
      if (IsOpen(after.status()) && s->answered_at_ms() == 0 && !s->answer_breached() &&
          s->paused_since_ms() == 0 && s->answer_due_ms() != 0 && s->answer_due_ms() <= now) {
        s->set_answer_breached(true);
        what = what.empty() ? "not resolved within the answer time limit"
                            : what + "; not resolved within the answer time limit";
        ++found;
      }
      if (found == 0) return absl::OkStatus();  // moved on meanwhile
      int level = std::min(3, after.escalation_level() + 1);
      EscalateTicketTo(&after, level, now, "steward", absl::StrCat(what, " (to ", kLevelNames[level], ")"));
      return FinishChange(txn, system, before, &after, "ticket.sla_breach", what, now, options_.sla);
    }));
    breaches += found;
    sla_breaches_.fetch_add(static_cast<uint64_t>(found), std::memory_order_relaxed);
  }
  return breaches;
}

void Tickets::set_vip(const TicketHooks* hooks,
                         const std::map<std::string, SlaLimits>& tier_limits) {
  add_hooks(hooks);
  for (const auto& [tier, limits] : tier_limits) options_.sla.by_vip_tier[tier] = limits;
}

void Tickets::MarkRead(const Caller& caller, const v1::MarkTicketReadRequest& req,
                          v1::MarkTicketReadResponse* resp, storage::DoneFn done) {
  absl::Status s = CheckTicketId(req.ticket_id());
  if (s.ok() && !caller.is_gm()) s = RequireGameServerWithPlayer(caller, "MarkTicketRead");
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        Ticket before;
        STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
        if (!caller.is_gm()) {
          STEWARD_RETURN_IF_ERROR(CheckPlayerOwns(caller, before));
        } else if (before.assignee() != caller.name()) {
          return absl::PermissionDeniedError(absl::StrCat(
              "ticket ", before.id(), " is owned by ",
              before.assignee().empty() ? "no one" : before.assignee(),
              "; read state is kept for the player and the owner only"));
        }
        if (req.up_to_seq() > before.message_count()) {
          return absl::InvalidArgumentError(absl::StrCat("up_to_seq: ticket ", before.id(), " has only ",
                                                         before.message_count(), " messages"));
        }
        uint32_t up_to = req.up_to_seq() == 0 ? before.message_count() : req.up_to_seq();
        bool player = !caller.is_gm();
        uint32_t read = player ? before.player_read_seq() : before.owner_read_seq();
        Ticket* after = resp->mutable_ticket();
        *after = before;
        if (up_to <= read) {  // never backwards; nothing to record
          Redact(caller, after);
          return absl::OkStatus();
        }
        // Count what is still unread after the new mark.
        uint32_t unread = 0;
        for (uint32_t seq = up_to + 1; seq <= before.message_count(); ++seq) {
          std::string v;
          STEWARD_RETURN_IF_ERROR(txn.Get(Cf::kTicketMessages, KeyWriter().U64(before.id()).U64(seq).key(), &v));
          v1::TicketMessage m;
          if (!m.ParseFromString(v)) {
            return absl::DataLossError(absl::StrCat("ticket ", before.id(), " message ", seq, " unreadable"));
          }
          bool from_gm = m.author_kind() == v1::AUTHOR_KIND_GM;
          if (m.visibility() == v1::MESSAGE_VISIBILITY_PUBLIC && from_gm == player) ++unread;
        }
        if (player) {
          after->set_player_read_seq(up_to);
          after->set_unread_for_player(unread);
        } else {
          after->set_owner_read_seq(up_to);
          after->set_unread_for_owner(unread);
        }
        return FinishChange(txn, caller, before, after, "ticket.read", "", Now(), options_.sla);
      },
      std::move(done));
}

absl::Status Tickets::RaiseForReportVolume(Txn&, int64_t now, Ticket* t) const {
  std::string prefix =
      KeyWriter().Byte(kIdxReported).Str(t->context().realm_id()).Str(t->reported_player_id()).Release();
  std::string from = KeyWriter(prefix).I64(now - 24LL * 3600 * 1000).Release();
  int count = 1;  // this one
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kTicketIndex, from, storage::PrefixSuccessor(prefix), false,
                               [&](absl::string_view, absl::string_view) { return ++count < 20; }));
  std::string why = absl::StrCat(count >= 20 ? "20 or more" : absl::StrCat(count), " reports about ",
                                 t->reported_player_id(), " in 24 h");
  if (count >= 20) {
    RaiseTicketPriority(t, v1::PRIORITY_URGENT, why);
  } else if (count >= 5) {
    RaiseTicketPriority(t, v1::PRIORITY_HIGH, why);
  }
  return absl::OkStatus();
}

void Tickets::PullNext(const Caller& caller, const v1::PullNextTicketRequest& req,
                          v1::PullNextTicketResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(caller, Role::kAgent, "PullNextTicket");
  if (s.ok()) s = CheckEnum("category", req.category(), v1::TicketCategory_IsValid(req.category()), true);
  if (s.ok()) s = CheckId("realm_id", req.realm_id(), false);
  if (s.ok()) s = CheckId("language", req.language(), false);
  if (!s.ok()) return done(s);
  // Candidates in deadline order, read outside the transaction; the
  // transaction takes the first still unowned (another GM may have won).
  auto candidates = std::make_shared<std::vector<uint64_t>>();
  std::string prefix = KeyWriter().Byte(kIdxQueue).Release();
  s = store_->Scan(Cf::kTicketIndex, prefix, storage::PrefixSuccessor(prefix), false,
                   [&](absl::string_view key, absl::string_view) {
                     KeyReader r(key.substr(prefix.size()));
                     r.I64();
                     auto id = r.U64();
                     std::string v;
                     Ticket t;
                     if (!id || !store_->Get(Cf::kTickets, TicketKey(*id), &v).ok() ||
                         !t.ParseFromString(v)) {
                       return true;
                     }
                     const auto& rejected = t.rejected_assignees();
                     bool fits = (req.category() == v1::TICKET_CATEGORY_UNSPECIFIED ||
                                  t.category() == req.category()) &&
                                 (req.realm_id().empty() || t.context().realm_id() == req.realm_id()) &&
                                 (req.language().empty() || t.context().language() == req.language()) &&
                                 std::find(rejected.begin(), rejected.end(), caller.name()) == rejected.end();
                     if (fits) candidates->push_back(*id);
                     return candidates->size() < 16;
                   });
  if (!s.ok()) return done(s);
  if (candidates->empty()) return done(absl::NotFoundError("no unowned ticket in this queue"));
  store_->Commit(
      [this, caller, resp, candidates](Txn& txn) -> absl::Status {
        for (uint64_t id : *candidates) {
          Ticket before;
          STEWARD_RETURN_IF_ERROR(LoadTicket(txn, id, &before));
          if (!before.assignee().empty() || !IsOpen(before.status())) continue;
          int64_t now = Now();
          Ticket* after = resp->mutable_ticket();
          *after = before;
          after->set_assignee(caller.name());
          if (before.status() == v1::TICKET_STATUS_NEW) after->set_status(v1::TICKET_STATUS_ASSIGNED);
          return FinishChange(txn, caller, before, after, "ticket.pull", "", now, options_.sla);
        }
        return absl::NotFoundError("the queue's tickets were just taken by others; pull again");
      },
      std::move(done));
}

void Tickets::Escalate(const Caller& caller, const v1::EscalateTicketRequest& req,
                          v1::EscalateTicketResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(caller, Role::kAgent, "EscalateTicket");
  if (s.ok()) s = CheckTicketId(req.ticket_id());
  if (s.ok() && (req.level() < 0 || req.level() > 3)) {
    s = absl::InvalidArgumentError("level must be 1 (lead), 2 (supervisor), 3 (manager) or 0 (next)");
  }
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, caller, &req, resp](Txn& txn) -> absl::Status {
        Ticket before;
        STEWARD_RETURN_IF_ERROR(LoadTicket(txn, req.ticket_id(), &before));
        int level = req.level() == 0 ? before.escalation_level() + 1 : req.level();
        if (level > 3 || level <= before.escalation_level()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "ticket ", before.id(), " is already at level ", before.escalation_level(), " (",
              kLevelNames[before.escalation_level()], "); it can only go up, to 3 at most"));
        }
        int64_t now = Now();
        Ticket* after = resp->mutable_ticket();
        *after = before;
        EscalateTicketTo(after, level, now, caller.name(), req.reason());
        return FinishChange(txn, caller, before, after, "ticket.escalate", req.reason(), now,
                            options_.sla);
      },
      std::move(done));
}

absl::Status Tickets::Get(const Caller& caller, const v1::GetTicketRequest& req,
                             v1::GetTicketResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(CheckTicketId(req.ticket_id()));
  if (!caller.is_gm()) STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(caller, "GetTicket"));
  std::string v;
  absl::Status s = store_->Get(Cf::kTickets, TicketKey(req.ticket_id()), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("ticket ", req.ticket_id(), " not found"));
  }
  STEWARD_RETURN_IF_ERROR(s);
  Ticket* t = resp->mutable_ticket();
  STEWARD_RETURN_IF_ERROR(ParseTicket(v, req.ticket_id(), t));
  if (!caller.is_gm()) STEWARD_RETURN_IF_ERROR(CheckPlayerOwns(caller, *t));
  Redact(caller, t);
  MarkRisk(t, Now());
  std::string prefix = KeyWriter().U64(t->id()).Release();
  absl::Status parse_error;
  STEWARD_RETURN_IF_ERROR(store_->Scan(
      Cf::kTicketMessages, prefix, storage::PrefixSuccessor(prefix), false,
      [&](absl::string_view, absl::string_view value) {
        v1::TicketMessage m;
        if (!m.ParseFromArray(value.data(), value.size())) {
          parse_error = absl::DataLossError(absl::StrCat("ticket ", t->id(), " message unreadable"));
          return false;
        }
        if (caller.is_gm()) {
          *resp->add_messages() = std::move(m);
        } else if (m.visibility() == v1::MESSAGE_VISIBILITY_PUBLIC) {
          ForPlayer(&m);
          *resp->add_messages() = std::move(m);
        }
        return true;
      }));
  STEWARD_RETURN_IF_ERROR(parse_error);
  // Where each message has got to.
  std::optional<uint64_t> acked;
  for (v1::TicketMessage& m : *resp->mutable_messages()) {
    if (m.visibility() != v1::MESSAGE_VISIBILITY_PUBLIC) continue;
    if (m.author_kind() == v1::AUTHOR_KIND_PLAYER) {
      m.set_delivery(m.seq() <= t->owner_read_seq() ? v1::DELIVERY_STATE_READ
                                                    : v1::DELIVERY_STATE_DELIVERED);
      continue;
    }
    if (m.seq() <= t->player_read_seq()) {
      m.set_delivery(v1::DELIVERY_STATE_READ);
      continue;
    }
    if (!acked) acked = acked_seq_ ? acked_seq_(t->context().realm_id(), t->context().server_id()) : 0;
    m.set_delivery(m.directive_seq() != 0 && *acked >= m.directive_seq() ? v1::DELIVERY_STATE_DELIVERED
                                                                         : v1::DELIVERY_STATE_QUEUED);
  }
  return absl::OkStatus();
}

absl::Status Tickets::List(const Caller& caller, const v1::ListTicketsRequest& req,
                              v1::ListTicketsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(caller, Role::kAgent, "ListTickets"));
  return ListChecked(caller, req, resp);
}

absl::Status Tickets::ListChecked(const Caller& caller, const v1::ListTicketsRequest& req,
                                     v1::ListTicketsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(CheckEnum("status", req.status(), v1::TicketStatus_IsValid(req.status()), true));
  STEWARD_RETURN_IF_ERROR(CheckEnum("category", req.category(),
                            v1::TicketCategory_IsValid(req.category()), true));
  STEWARD_RETURN_IF_ERROR(CheckId("assignee", req.assignee(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("player_id", req.player_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  if (!req.player_id().empty() && req.realm_id().empty()) {
    return absl::InvalidArgumentError("player_id needs realm_id (player ids are per realm)");
  }
  if (req.unassigned() && !req.assignee().empty()) {
    return absl::InvalidArgumentError("unassigned and assignee exclude each other");
  }
  if (req.created_after_ms() < 0 || req.created_before_ms() < 0) {
    return absl::InvalidArgumentError("created_after_ms/created_before_ms must not be negative");
  }
  // Walk the most selective index the filters allow; the remaining filters
  // are checked on each record (which also hides index entries a
  // concurrent update has just moved).
  TimeScan scan;
  scan.cf = Cf::kTicketIndex;
  if (!req.player_id().empty()) {
    scan.prefix = PlayerPrefix(req.realm_id(), req.player_id());
  } else if (!req.assignee().empty()) {
    scan.prefix = KeyWriter().Byte(kIdxAssignee).Str(req.assignee()).Release();
  } else if (req.status() != v1::TICKET_STATUS_UNSPECIFIED) {
    scan.prefix = KeyWriter().Byte(kIdxStatus).Byte(req.status()).Release();
  } else if (req.category() != v1::TICKET_CATEGORY_UNSPECIFIED) {
    scan.prefix = KeyWriter().Byte(kIdxCategory).Byte(req.category()).Release();
  } else {
    scan.prefix = KeyWriter().Byte(kIdxAll).Release();
  }
  scan.after_ms = req.created_after_ms();
  scan.before_ms = req.created_before_ms();
  scan.oldest_first = req.oldest_first();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  const int64_t now = Now();
  STEWARD_ASSIGN_OR_RETURN(
      std::string token,
      ScanByTime(*store_, scan,
                 [&](int64_t, uint64_t id, absl::string_view, absl::string_view)
                     -> absl::StatusOr<bool> {
                   std::string v;
                   absl::Status s = store_->Get(Cf::kTickets, TicketKey(id), &v);
                   if (absl::IsNotFound(s)) return false;
                   STEWARD_RETURN_IF_ERROR(s);
                   Ticket t;
                   STEWARD_RETURN_IF_ERROR(ParseTicket(v, id, &t));
                   if ((req.status() && t.status() != req.status()) ||
                       (req.category() && t.category() != req.category()) ||
                       (!req.assignee().empty() && t.assignee() != req.assignee()) ||
                       (req.unassigned() && !t.assignee().empty()) ||
                       (!req.player_id().empty() &&
                        (t.player_id() != req.player_id() ||
                         t.context().realm_id() != req.realm_id()))) {
                     return false;
                   }
                   Redact(caller, &t);
                   MarkRisk(&t, now);
                   *resp->add_tickets() = std::move(t);
                   return true;
                 }));
  resp->set_next_page_token(token);
  return absl::OkStatus();
}

absl::Status Tickets::ListForPlayer(const Caller& caller,
                                       const v1::ListPlayerTicketsRequest& req,
                                       v1::ListTicketsResponse* resp) const {
  v1::ListTicketsRequest list;
  list.set_page_size(req.page_size());
  list.set_page_token(req.page_token());
  if (caller.is_gm()) {
    STEWARD_RETURN_IF_ERROR(CheckId("player_id", req.player_id(), true));
    STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), true));
    list.set_player_id(req.player_id());
    list.set_realm_id(req.realm_id());
  } else {
    STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(caller, "ListPlayerTickets"));
    list.set_player_id(caller.player_id);
    list.set_realm_id(caller.principal->realm);
  }
  return ListChecked(caller, list, resp);
}

}  // namespace steward

namespace steward {

absl::Status Tickets::Load(Txn& txn, uint64_t id, Ticket* t) { return LoadTicket(txn, id, t); }

absl::Status Tickets::Save(Txn& txn, const Caller& caller, const Ticket& before, Ticket* after,
                           absl::string_view action, absl::string_view reason, int64_t now) const {
  return FinishChange(txn, caller, before, after, action, reason, now, options_.sla);
}

}  // namespace steward
