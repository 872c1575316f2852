#include "services/audit/audit.h"

#include <openssl/sha.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "services/common/pagination.h"
#include "services/common/validation.h"
#include "steward/v1/audit.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;

namespace {

constexpr absl::string_view kChainHeadKey = "audit/head";
constexpr size_t kHashLen = SHA256_DIGEST_LENGTH;

// SHA-256 over prev_hash and the record with `hash` empty.
std::string ChainHash(const v1::AuditRecord& rec) {
  v1::AuditRecord copy_free;  // only used when rec has a hash set
  const v1::AuditRecord* body = &rec;
  if (!rec.hash().empty()) {
    copy_free = rec;
    copy_free.clear_hash();
    body = &copy_free;
  }
  std::string bytes;
  body->SerializeToString(&bytes);
  unsigned char out[kHashLen];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<char*>(out), kHashLen);
}

}  // namespace

absl::Status AppendAudit(storage::Txn& txn, const Caller& caller,
                         int64_t now_ms, const AuditEvent& e) {
  STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("audit"));
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
  std::string head;
  absl::Status hs = txn.Get(Cf::kMeta, kChainHeadKey, &head);
  if (hs.ok()) {
    if (head.size() != kHashLen) return absl::DataLossError("audit chain head is corrupt");
    rec.set_prev_hash(head);
  } else if (absl::IsNotFound(hs)) {
    rec.set_prev_hash(std::string(kHashLen, '\0'));
  } else {
    return hs;
  }
  rec.set_hash(ChainHash(rec));
  txn.Put(Cf::kMeta, kChainHeadKey, rec.hash());
  std::string key = KeyWriter().I64(now_ms).U64(id).Release();
  txn.Put(Cf::kAudit, key, rec.SerializeAsString());
  txn.Put(Cf::kAuditIndex, KeyWriter().Str(e.target).I64(now_ms).U64(id).key(), "");
  return absl::OkStatus();
}

absl::Status ListAuditRecords(const storage::Store& store, const Caller& caller,
                       const v1::ListAuditRequest& req,
                       v1::ListAuditResponse* resp) {
  STEWARD_RETURN_IF_ERROR(RequireGm(caller, Role::kSupervisor, "reading the audit trail"));
  STEWARD_RETURN_IF_ERROR(CheckText("target", req.target(), 0, kMaxIdLen + 32));
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
          STEWARD_RETURN_IF_ERROR(store.Get(Cf::kAudit, KeyWriter().I64(t).U64(id).key(), &owned));
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

absl::Status VerifyAuditChain(const storage::Store& store, const Caller& caller,
                              v1::VerifyAuditChainResponse* resp,
                              const std::function<bool()>& cancelled) {
  STEWARD_RETURN_IF_ERROR(RequireGm(caller, Role::kAdmin, "verifying the audit chain"));
  // The head as it is before the scan: the chain must pass through it.
  // Records appended during the scan come after it (and are checked too);
  // read after the scan, it could name a record the scan never saw.
  std::string head;
  absl::Status hs = store.Get(Cf::kMeta, kChainHeadKey, &head);
  if (!hs.ok() && !absl::IsNotFound(hs)) return hs;
  const bool has_head = hs.ok();
  bool saw_head = false;
  bool stopped = false;
  uint64_t scanned = 0;
  // Records are keyed by time then id; the chain runs by id. Wall-clock
  // steps can put a few records out of id order in the scan, so hold
  // records until the next expected id arrives.
  std::map<uint64_t, v1::AuditRecord> waiting;
  // Ids come from a sequence that starts at 1 and never skips.
  constexpr size_t kMaxOutOfOrder = 10000;
  uint64_t next_id = 1;
  std::string prev(kHashLen, '\0');
  bool bad = false;
  auto fail = [&](uint64_t id, std::string problem) {
    bad = true;
    resp->set_intact(false);
    resp->set_first_bad_id(id);
    resp->set_problem(std::move(problem));
  };
  auto drain = [&] {
    while (!bad && !waiting.empty() && waiting.begin()->first == next_id) {
      v1::AuditRecord& rec = waiting.begin()->second;
      if (rec.prev_hash() != prev) {
        fail(rec.id(), "prev_hash does not match the record before it (a record was altered, removed or inserted)");
      } else if (ChainHash(rec) != rec.hash()) {
        fail(rec.id(), "hash does not match the record's contents (the record was altered)");
      } else {
        prev = rec.hash();
        if (has_head && prev == head) saw_head = true;
        resp->set_last_id(rec.id());
        resp->set_records_checked(resp->records_checked() + 1);
        ++next_id;
      }
      waiting.erase(waiting.begin());
    }
  };
  STEWARD_RETURN_IF_ERROR(store.Scan(Cf::kAudit, "", "", false,
                             [&](absl::string_view key, absl::string_view value) {
    if (cancelled && ++scanned % 4096 == 0 && cancelled()) {
      stopped = true;
      return false;
    }
    v1::AuditRecord rec;
    if (!rec.ParseFromArray(value.data(), value.size())) {
      KeyReader r(key);
      r.I64();
      fail(r.U64().value_or(0), "record is unreadable");
      return false;
    }
    uint64_t id = rec.id();
    if (id < next_id || !waiting.emplace(id, std::move(rec)).second) {
      fail(id, "the id appears twice in the trail");
      return false;
    }
    drain();
    if (!bad && waiting.size() > kMaxOutOfOrder) fail(next_id, "record is missing from the chain");
    return !bad;
  }, storage::Store::CacheUse::kBypass));
  if (stopped) return absl::CancelledError("audit chain verification stopped: the caller went away");
  if (!bad && !waiting.empty()) fail(next_id, "record is missing from the chain");
  if (!bad) {
    // The head moves with every append, so it also catches removal of the
    // newest records.
    if (has_head && !saw_head) {
      fail(next_id, "the chain ends before its recorded head (newest records were removed)");
    } else if (!has_head && resp->records_checked() != 0 && absl::IsNotFound(store.Get(Cf::kMeta, kChainHeadKey, &head))) {
      // Records but still no head (the first ones may have arrived during
      // the scan, with a head of their own).
      fail(next_id, "the chain has records but its recorded head is gone");
    } else {
      resp->set_intact(true);
    }
  }
  return absl::OkStatus();
}

}  // namespace steward
