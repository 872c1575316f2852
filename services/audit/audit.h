// The audit trail. Every mutation appends one record inside the same
// transaction as the change, so the two are durable together or not at all.
// Records form a hash chain in id order (see AuditRecord in audit.proto);
// the chain head lives in the meta family and moves in the same
// transaction, so a discarded transaction leaves the chain untouched.
#ifndef STEWARD_SERVICES_AUDIT_AUDIT_H_
#define STEWARD_SERVICES_AUDIT_AUDIT_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "services/common/caller.h"
#include "storage/store.h"

namespace google::protobuf {
class Message;
}
namespace steward::v1 {
class ListAuditRequest;
class ListAuditResponse;
class VerifyAuditChainResponse;
}  // namespace steward::v1

namespace steward {

struct AuditEvent {
  absl::string_view action = {};  // "ticket.assign"
  absl::string_view target = {};  // "ticket/42"
  absl::string_view reason = {};
  const google::protobuf::Message* before = nullptr;  // state before, if any
  const google::protobuf::Message* after = nullptr;   // state after, if any
};

absl::Status AppendAudit(storage::Txn& txn, const Caller& caller,
                         int64_t now_ms, const AuditEvent& event);

// Reads the trail, newest first. Supervisors and admins only.
absl::Status ListAuditRecords(const storage::Store& store, const Caller& caller,
                       const v1::ListAuditRequest& req,
                       v1::ListAuditResponse* resp);

// Recomputes every record's hash in id order and checks each links to the
// one before. Admins only. Records appended while it runs are checked too.
// `cancelled` (optional) is polled every few thousand records; when it says
// so the check stops with CANCELLED.
absl::Status VerifyAuditChain(const storage::Store& store, const Caller& caller,
                              v1::VerifyAuditChainResponse* resp,
                              const std::function<bool()>& cancelled = nullptr);

}  // namespace steward

#endif  // STEWARD_SERVICES_AUDIT_AUDIT_H_
