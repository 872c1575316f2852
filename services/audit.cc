#include "services/audit.h"

#include "absl/strings/str_cat.h"
#include "services/pagination.h"
#include "services/validation.h"
#include "steward/v1/audit.pb.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace steward {

using storage::Cf;
using storage::KeyWriter;

absl::Status AppendAudit(storage::Txn& txn, const Caller& caller,
                         int64_t now_ms, const AuditEvent& e) {
  ASSIGN_OR_RETURN(uint64_t id, txn.NextId("audit"));
  v1::AuditRecord rec;
  rec.set_id(id);
  rec.set_at_ms(now_ms);
  rec.set_actor(caller.name());
  if (caller.is_gm()) {
    rec.set_actor_kind("gm");
    rec.set_actor_role(std::string(RoleName(caller.principal->role)));
  } else {
    rec.set_actor_kind("game_server");
    rec.set_actor_role(caller.principal->realm);
    rec.set_on_behalf_of(caller.player_id);
  }
  rec.set_action(std::string(e.action));
  rec.set_target(std::string(e.target));
  rec.set_reason(std::string(e.reason));
  const google::protobuf::Message* typed = e.after ? e.after : e.before;
  if (typed != nullptr) rec.set_payload_type(typed->GetTypeName());
  if (e.before) e.before->SerializeToString(rec.mutable_before());
  if (e.after) e.after->SerializeToString(rec.mutable_after());
  std::string key = KeyWriter().I64(now_ms).U64(id).Release();
  txn.Put(Cf::kAudit, key, rec.SerializeAsString());
  txn.Put(Cf::kAuditIndex, KeyWriter().Str(e.target).I64(now_ms).U64(id).key(), "");
  return absl::OkStatus();
}

absl::Status ListAudit(const storage::Store& store, const Caller& caller,
                       const v1::ListAuditRequest& req,
                       v1::ListAuditResponse* resp) {
  RETURN_IF_ERROR(RequireGm(caller, Role::kSupervisor, "reading the audit trail"));
  RETURN_IF_ERROR(CheckText("target", req.target(), 0, kMaxIdLen + 32));
  TimeScan scan;
  scan.cf = req.target().empty() ? Cf::kAudit : Cf::kAuditIndex;
  scan.prefix = req.target().empty() ? std::string()
                                     : KeyWriter().Str(req.target()).Release();
  scan.after_ms = req.after_ms();
  scan.before_ms = req.before_ms();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  auto token = ScanByTime(
      store, scan,
      [&](int64_t t, uint64_t id, absl::string_view,
          absl::string_view value) -> absl::StatusOr<bool> {
        std::string owned;
        if (scan.cf == Cf::kAuditIndex) {
          RETURN_IF_ERROR(store.Get(Cf::kAudit, KeyWriter().I64(t).U64(id).key(), &owned));
          value = owned;
        }
        if (!resp->add_records()->ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError(absl::StrCat("audit record ", id, " is unreadable"));
        }
        return true;
      });
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

}  // namespace steward
