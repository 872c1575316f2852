// Knowledge: the knowledge base of unified answers. Entries are versioned
// (every version kept, with who changed what and why), searchable by words
// and tags, and citable in GM replies only within their validity.
#ifndef STEWARD_SERVICES_DESK_KNOWLEDGE_H_
#define STEWARD_SERVICES_DESK_KNOWLEDGE_H_

#include <cstdint>
#include <functional>

#include "services/common/clock.h"
#include "services/common/caller.h"
#include "steward/v1/knowledge.pb.h"
#include "storage/store.h"

namespace steward {

// The entry `id` as a reply may cite it at `now_ms`: NotFound, or
// FailedPrecondition when it is not yet or no longer valid. Used inside
// the reply's transaction.
absl::Status LoadCitableEntry(storage::Txn& txn, uint64_t id, int64_t now_ms, v1::KbEntry* out);

class Knowledge {
 public:
  explicit Knowledge(storage::Store* store, const Clock* clock = Clock::Wall());
  Knowledge(const Knowledge&) = delete;
  Knowledge& operator=(const Knowledge&) = delete;

  void Save(const Caller& c, const v1::SaveKbEntryRequest& req, v1::SaveKbEntryResponse* resp,
            storage::DoneFn done);
  absl::Status Get(const Caller& c, const v1::GetKbEntryRequest& req, v1::KbEntry* resp) const;
  absl::Status History(const Caller& c, const v1::ListKbHistoryRequest& req,
                       v1::ListKbHistoryResponse* resp) const;
  absl::Status Search(const Caller& c, const v1::SearchKbRequest& req, v1::SearchKbResponse* resp) const;

 private:
  int64_t Now() const;
  storage::Store* store_;
  const Clock* clock_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_DESK_KNOWLEDGE_H_
