#include "services/common/pagination.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "services/common/validation.h"
#include "storage/keys.h"

namespace steward {
namespace {

constexpr uint8_t kTokenVersion = 1;

std::string EncodeToken(int64_t t, uint64_t id) {
  return absl::WebSafeBase64Escape(
      storage::KeyWriter().Byte(kTokenVersion).I64(t).U64(id).key());
}

absl::Status DecodeToken(absl::string_view token, int64_t* t, uint64_t* id) {
  std::string raw;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  storage::KeyReader r(raw);
  auto v = r.Byte();
  auto tt = r.I64();
  auto ii = r.U64();
  if (!v || *v != kTokenVersion || !tt || !ii || !r.rest().empty()) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  *t = *tt;
  *id = *ii;
  return absl::OkStatus();
}

}  // namespace

size_t EffectivePageSize(uint32_t requested) {
  if (requested == 0) return kDefaultPageSize;
  return std::min<size_t>(requested, kMaxPageSize);
}

absl::StatusOr<std::string> ScanByTime(const storage::Store& store,
                                       const TimeScan& scan,
                                       TimeScanVisitor visit) {
  using storage::KeyWriter;
  std::string start = scan.after_ms > 0
                          ? KeyWriter(scan.prefix).I64(scan.after_ms).Release()
                          : scan.prefix;
  std::string limit = scan.before_ms > 0
                          ? KeyWriter(scan.prefix).I64(scan.before_ms).Release()
                          : storage::PrefixSuccessor(scan.prefix);
  if (!scan.page_token.empty()) {
    int64_t t = 0;
    uint64_t id = 0;
    if (auto s = DecodeToken(scan.page_token, &t, &id); !s.ok()) return s;
    std::string pos = KeyWriter(scan.prefix).I64(t).U64(id).Release();
    if (scan.oldest_first) {
      pos.push_back('\xff');  // past every key of that entry
      start = std::max(start, pos);
    } else {
      limit = limit.empty() ? pos : std::min(limit, pos);
    }
  }
  if (!limit.empty() && start >= limit) return std::string();

  size_t taken = 0, scanned = 0;
  int64_t last_t = 0;
  uint64_t last_id = 0;
  bool more = false;
  absl::Status err;
  absl::Status s = store.Scan(
      scan.cf, start, limit, !scan.oldest_first,
      [&](absl::string_view key, absl::string_view value) {
        if (taken >= scan.page_size || scanned >= scan.scan_budget) {
          more = true;
          return false;
        }
        storage::KeyReader r(key);
        r.Skip(scan.prefix.size());
        auto t = r.I64();
        auto id = r.U64();
        if (!t || !id) {
          err = absl::DataLossError("malformed index key");
          return false;
        }
        ++scanned;
        last_t = *t;
        last_id = *id;
        auto took = visit(*t, *id, key, value);
        if (!took.ok()) {
          err = took.status();
          return false;
        }
        if (*took) ++taken;
        return true;
      });
  if (!err.ok()) return err;
  if (!s.ok()) return s;
  return more ? EncodeToken(last_t, last_id) : std::string();
}

}  // namespace steward
