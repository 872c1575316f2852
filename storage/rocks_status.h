// The one place RocksDB statuses become absl::Status.
#ifndef STEWARD_STORAGE_ROCKS_STATUS_H_
#define STEWARD_STORAGE_ROCKS_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace rocksdb {
class Status;
}

namespace steward::storage {

// Maps a RocksDB status to the most specific absl code. `what` names the
// operation for the message ("get ticket", "commit").
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

}  // namespace steward::storage

#endif  // STEWARD_STORAGE_ROCKS_STATUS_H_
