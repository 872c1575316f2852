// Loading protobuf records keyed by U64(id), and pages of them through
// time-ordered index entries: the pattern every domain here shares.
#ifndef STEWARD_SERVICES_COMMON_RECORDS_H_
#define STEWARD_SERVICES_COMMON_RECORDS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/common/pagination.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"
#include "storage/store.h"

namespace steward {

inline std::string RecordKey(uint64_t id) { return storage::KeyWriter().U64(id).Release(); }

// NotFound ("<what> <id> not found") or DataLoss for an unreadable record.
template <typename M>
absl::Status ParseRecord(absl::Status got, const std::string& bytes, absl::string_view what,
                         uint64_t id, M* out) {
  if (absl::IsNotFound(got)) return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
  STEWARD_RETURN_IF_ERROR(got);
  if (!out->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(what, " ", id, " is unreadable"));
  }
  return absl::OkStatus();
}

// Inside a transaction (sees the group's earlier writes).
template <typename M>
absl::Status LoadRecord(storage::Txn& txn, storage::Cf cf, uint64_t id, absl::string_view what,
                        M* out) {
  std::string v;
  absl::Status got = txn.Get(cf, RecordKey(id), &v);
  return ParseRecord(got, v, what, id, out);
}

// Committed data.
template <typename M>
absl::Status ReadRecord(const storage::Store& store, storage::Cf cf, uint64_t id,
                        absl::string_view what, M* out) {
  std::string v;
  absl::Status got = store.Get(cf, RecordKey(id), &v);
  return ParseRecord(got, v, what, id, out);
}

// One page of `scan` (index keys <prefix> I64(time) U64(id)), each id's
// record read from `records` into `out`. Returns the next page token.
template <typename M>
absl::StatusOr<std::string> PageRecords(const storage::Store& store, const TimeScan& scan,
                                        storage::Cf records, absl::string_view what,
                                        google::protobuf::RepeatedPtrField<M>* out) {
  return ScanByTime(store, scan,
                    [&](int64_t, uint64_t id, absl::string_view,
                        absl::string_view) -> absl::StatusOr<bool> {
                      STEWARD_RETURN_IF_ERROR(ReadRecord(store, records, id, what, out->Add()));
                      return true;
                    });
}

// The newest `max` records whose index keys are <prefix> I64(time) U64(id),
// of those `keep` accepts (Default: all).
template <typename M>
absl::Status ReadNewest(const storage::Store& store, storage::Cf index, const std::string& prefix,
                        storage::Cf records, absl::string_view what, size_t max,
                        google::protobuf::RepeatedPtrField<M>* out,
                        const std::function<bool(const M&)>& keep = nullptr) {
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store.Scan(index, prefix, storage::PrefixSuccessor(prefix), true,
                             [&](absl::string_view key, absl::string_view) {
                               storage::KeyReader r(key.substr(prefix.size()));
                               r.I64();
                               auto id = r.U64();
                               if (!id) {
                                 bad = absl::DataLossError(absl::StrCat(what, " index is unreadable"));
                                 return false;
                               }
                               M* m = out->Add();
                               bad = ReadRecord(store, records, *id, what, m);
                               if (bad.ok() && keep && !keep(*m)) out->RemoveLast();
                               return bad.ok() && static_cast<size_t>(out->size()) < max;
                             }));
  return bad;
}

// Idempotency entries (Cf::kIdempotency): (principal, scope, key) -> the
// id the first attempt created. Each is also indexed by the time it was
// written (Cf::kIdemIndex) so IdempotencyExpiry can drop it once it is
// older than the configured lifetime (services/idempotency.h).
inline std::string IdempotencyKey(absl::string_view principal, absl::string_view scope,
                                  absl::string_view key) {
  return storage::KeyWriter().Str(principal).Str(scope).Str(key).Release();
}

// The raw record under `idem` (what a retry is answered from): NotFound
// when the key is new.
inline absl::Status GetIdempotent(storage::Txn& txn, const std::string& idem, std::string* value) {
  return txn.Get(storage::Cf::kIdempotency, idem, value);
}

// The id recorded under `idem`, 0 when the key is new.
inline absl::StatusOr<uint64_t> FindIdempotent(storage::Txn& txn, const std::string& idem) {
  std::string v;
  absl::Status got = GetIdempotent(txn, idem, &v);
  if (absl::IsNotFound(got)) return 0;
  STEWARD_RETURN_IF_ERROR(got);
  auto id = storage::KeyReader(v).U64();
  if (!id || *id == 0) return absl::DataLossError("idempotency record is unreadable");
  return *id;
}

// Records `value` (what a retry is answered from) under `idem`, written now.
inline void PutIdempotent(storage::Txn& txn, const std::string& idem, absl::string_view value,
                          int64_t now_ms) {
  txn.Put(storage::Cf::kIdempotency, idem, value);
  txn.Put(storage::Cf::kIdemIndex, storage::KeyWriter().I64(now_ms).Raw(idem).key(), "");
}

inline void RecordIdempotent(storage::Txn& txn, const std::string& idem, uint64_t id, int64_t now_ms) {
  PutIdempotent(txn, idem, storage::KeyWriter().U64(id).key(), now_ms);
}

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_RECORDS_H_
