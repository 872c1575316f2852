// The tickets domain's stored layout, shared by its source files
// (tickets.cc writes and reads tickets, ticket_scans.cc walks the indexes,
// ticket_rules.cc checks submissions and status moves).
// Not for other folders: they go through tickets.h.
#ifndef STEWARD_SERVICES_TICKETS_TICKETS_INTERNAL_H_
#define STEWARD_SERVICES_TICKETS_TICKETS_INTERNAL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/caller.h"
#include "steward/v1/ticket.pb.h"
#include "storage/keys.h"

namespace steward::tickets_internal {

// Index key families inside Cf::kTicketIndex. Each key ends with
// I64(created_at_ms) U64(id), so every family pages by time.
inline constexpr uint8_t kIdxAll = 't';
inline constexpr uint8_t kIdxStatus = 's';
inline constexpr uint8_t kIdxCategory = 'c';
inline constexpr uint8_t kIdxAssignee = 'a';
inline constexpr uint8_t kIdxPlayer = 'p';
inline constexpr uint8_t kIdxDeadline = 'D';  // next SLA deadline, ticket
inline constexpr uint8_t kIdxQueue = 'Q';     // unowned open tickets: dispatch due, ticket
inline constexpr uint8_t kIdxReported = 'r';  // realm, reported player, created, ticket
inline constexpr uint8_t kIdxEscalated = 'E'; // open escalated: 3 - level, created, ticket
inline constexpr uint8_t kIdxBreached = 'B';  // open with a limit breached: created, ticket
inline constexpr uint8_t kIdxResolved = 'z';  // resolved_at, ticket
inline constexpr uint8_t kIdxOpen = 'O';      // open: created, ticket

// The checks on a game server's submission, before its transaction
// (ticket_rules.cc).
absl::Status ValidateSubmit(const Caller& caller, const v1::SubmitTicketRequest& r, int64_t now);

inline std::string TicketKey(uint64_t id) { return storage::KeyWriter().U64(id).Release(); }

inline absl::Status ParseTicket(absl::string_view bytes, uint64_t id, v1::Ticket* t) {
  if (!t->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("ticket ", id, " record is unreadable"));
  }
  return absl::OkStatus();
}

}  // namespace steward::tickets_internal

#endif  // STEWARD_SERVICES_TICKETS_TICKETS_INTERNAL_H_
