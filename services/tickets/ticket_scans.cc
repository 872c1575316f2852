// Tickets' index walks for other domains (desk reports, the shift brief,
// VIP profiles): each visits tickets in one index family's order.
#include <optional>

#include "services/common/status_macros.h"
#include "services/tickets/tickets.h"
#include "services/tickets/tickets_internal.h"
#include "storage/keys.h"

namespace steward {

using namespace tickets_internal;
using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using v1::Ticket;

absl::Status Tickets::ScanIndex(const std::string& from, const std::string& to,
                                   const TicketFn& fn, bool reverse) const {
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kTicketIndex, from, to, reverse,
                               [&](absl::string_view key, absl::string_view) {
                                 std::optional<uint64_t> id;
                                 if (key.size() >= 8) id = KeyReader(key.substr(key.size() - 8)).U64();
                                 if (!id) {
                                   bad = absl::DataLossError("ticket index entry is unreadable");
                                   return false;
                                 }
                                 Ticket t;
                                 std::string v;
                                 bad = store_->Get(Cf::kTickets, TicketKey(*id), &v);
                                 if (bad.ok()) bad = ParseTicket(v, *id, &t);
                                 return bad.ok() && fn(t);
                               }));
  return bad;
}

absl::Status Tickets::ScanCreated(int64_t from_ms, int64_t to_ms, const TicketFn& fn) const {
  return ScanIndex(KeyWriter().Byte(kIdxAll).I64(from_ms).Release(),
                   KeyWriter().Byte(kIdxAll).I64(to_ms).Release(), fn);
}

absl::Status Tickets::ScanResolved(int64_t from_ms, int64_t to_ms, const TicketFn& fn) const {
  return ScanIndex(KeyWriter().Byte(kIdxResolved).I64(from_ms).Release(),
                   KeyWriter().Byte(kIdxResolved).I64(to_ms).Release(), fn);
}

absl::Status Tickets::ScanPlayer(absl::string_view realm, absl::string_view player,
                                    const TicketFn& fn, bool newest_first) const {
  std::string p = KeyWriter().Byte(kIdxPlayer).Str(realm).Str(player).Release();
  return ScanIndex(p, storage::PrefixSuccessor(p), fn, newest_first);
}

absl::Status Tickets::ScanOpen(const TicketFn& fn) const {
  std::string p = KeyWriter().Byte(kIdxOpen).Release();
  return ScanIndex(p, storage::PrefixSuccessor(p), fn);
}

absl::Status Tickets::ScanOpenEscalated(const TicketFn& fn) const {
  std::string p = KeyWriter().Byte(kIdxEscalated).Release();
  return ScanIndex(p, storage::PrefixSuccessor(p), fn);
}

absl::Status Tickets::ScanOpenBreached(const TicketFn& fn) const {
  std::string p = KeyWriter().Byte(kIdxBreached).Release();
  return ScanIndex(p, storage::PrefixSuccessor(p), fn);
}

}  // namespace steward
