// What a ticket may be and become: the checks on a submission and the
// status state machine (see ticket.proto).
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/common/validation.h"
#include "services/tickets/tickets.h"
#include "services/tickets/tickets_internal.h"

namespace steward {

using v1::TicketStatus;

namespace tickets_internal {

absl::Status ValidateSubmit(const Caller& caller, const v1::SubmitTicketRequest& r, int64_t now) {
  STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(caller, "SubmitTicket"));
  STEWARD_RETURN_IF_ERROR(CheckText("idempotency_key", r.idempotency_key(), 1, kMaxIdempotencyKeyLen));
  STEWARD_RETURN_IF_ERROR(CheckEnum("category", r.category(),
                            v1::TicketCategory_IsValid(r.category()), false));
  STEWARD_RETURN_IF_ERROR(CheckEnum("priority", r.priority(),
                            v1::Priority_IsValid(r.priority()), true));
  STEWARD_RETURN_IF_ERROR(CheckText("subject", r.subject(), 1, kMaxSubjectLen));
  STEWARD_RETURN_IF_ERROR(CheckText("description", r.description(), 0, kMaxTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("contact", r.contact(), 0, kMaxContactLen));
  const auto& ctx = r.context();
  STEWARD_RETURN_IF_ERROR(CheckId("context.realm_id", ctx.realm_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("context.server_id", ctx.server_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckText("context.map", ctx.map(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("context.client_build", ctx.client_build(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("context.platform", ctx.platform(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckId("context.language", ctx.language(), false));
  if (ctx.has_position() &&
      (!std::isfinite(ctx.position().x()) || !std::isfinite(ctx.position().y()) ||
       !std::isfinite(ctx.position().z()))) {
    return absl::InvalidArgumentError("context.position must be finite numbers");
  }
  if (ctx.extra_size() > static_cast<int>(kMaxExtraEntries)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "context.extra has ", ctx.extra_size(), " entries; the limit is ", kMaxExtraEntries));
  }
  for (const auto& [k, v] : ctx.extra()) {
    STEWARD_RETURN_IF_ERROR(CheckText("context.extra key", k, 1, kMaxExtraKeyLen));
    STEWARD_RETURN_IF_ERROR(CheckText(absl::StrCat("context.extra[", k, "]"), v, 0, kMaxExtraValueLen));
  }
  if (r.category() == v1::TICKET_CATEGORY_PLAYER_REPORT) {
    STEWARD_RETURN_IF_ERROR(CheckId("reported_player_id", r.reported_player_id(), true));
    if (r.reported_player_id() == caller.player_id) {
      return absl::InvalidArgumentError("reported_player_id is the reporting player");
    }
  } else {
    STEWARD_RETURN_IF_ERROR(CheckId("reported_player_id", r.reported_player_id(), false));
  }
  if (r.occurred_at_ms() < 0 ||
      r.occurred_at_ms() > now + absl::ToInt64Milliseconds(absl::Hours(24))) {
    return absl::InvalidArgumentError("occurred_at_ms must be unix milliseconds, not in the future");
  }
  // Scope: the game server may file only in its own realm (and server).
  STEWARD_RETURN_IF_ERROR(RequireGameServerScope(caller, ctx.realm_id(), ctx.server_id(), "file tickets"));
  return absl::OkStatus();
}

}  // namespace tickets_internal

bool TicketTransitionAllowed(TicketStatus from, TicketStatus to) {
  using S = TicketStatus;
  switch (from) {
    case S::TICKET_STATUS_NEW:
      return to == S::TICKET_STATUS_ASSIGNED || to == S::TICKET_STATUS_RESOLVED ||
             to == S::TICKET_STATUS_CLOSED;
    case S::TICKET_STATUS_ASSIGNED:
      return to == S::TICKET_STATUS_IN_PROGRESS || to == S::TICKET_STATUS_WAITING_PLAYER ||
             to == S::TICKET_STATUS_RESOLVED || to == S::TICKET_STATUS_CLOSED;
    case S::TICKET_STATUS_IN_PROGRESS:
      return to == S::TICKET_STATUS_WAITING_PLAYER || to == S::TICKET_STATUS_RESOLVED ||
             to == S::TICKET_STATUS_CLOSED;
    case S::TICKET_STATUS_WAITING_PLAYER:
      return to == S::TICKET_STATUS_IN_PROGRESS || to == S::TICKET_STATUS_RESOLVED ||
             to == S::TICKET_STATUS_CLOSED;
    case S::TICKET_STATUS_RESOLVED:
      return to == S::TICKET_STATUS_CLOSED || to == S::TICKET_STATUS_IN_PROGRESS;
    case S::TICKET_STATUS_CLOSED:
      return to == S::TICKET_STATUS_IN_PROGRESS;
    default:
      return false;
  }
}

void SetSubmitResult(const absl::Status& s, v1::SubmitTicketResponse* out,
                     v1::SubmitTicketResult* r) {
  r->set_code(static_cast<int>(s.code()));
  if (s.ok()) {
    *r->mutable_ticket() = std::move(*out->mutable_ticket());
    r->set_deduplicated(out->deduplicated());
  } else {
    r->set_message(std::string(s.message()));
  }
}

}  // namespace steward
