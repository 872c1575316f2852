// Order-preserving key encodings. Keys built with KeyWriter compare
// bytewise in the same order as their component tuples, so RocksDB range
// scans walk records by time, by id, or by (string, time, id).
#ifndef STEWARD_STORAGE_KEYS_H_
#define STEWARD_STORAGE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace steward::storage {

class KeyWriter {
 public:
  KeyWriter() = default;
  explicit KeyWriter(absl::string_view prefix) : buf_(prefix.data(), prefix.size()) {}

  // Fixed 8 bytes, big-endian.
  KeyWriter& U64(uint64_t v);
  // Fixed 8 bytes, sign bit flipped so negatives sort first.
  KeyWriter& I64(int64_t v);
  KeyWriter& Byte(uint8_t v);
  // Escaped string: 0x00 becomes 0x00 0xFF and the string ends with
  // 0x00 0x01, so "a" < "a\0" < "ab" holds for encoded keys too and no
  // string is a prefix-collision of another.
  KeyWriter& Str(absl::string_view s);
  // Raw bytes with no terminator; only as the last component.
  KeyWriter& Raw(absl::string_view s);

  const std::string& key() const { return buf_; }
  std::string Release() { return std::move(buf_); }

 private:
  std::string buf_;
};

// Reads components back in the order they were written. Every getter
// returns std::nullopt on malformed input.
class KeyReader {
 public:
  explicit KeyReader(absl::string_view key) : rest_(key) {}

  std::optional<uint64_t> U64();
  std::optional<int64_t> I64();
  std::optional<uint8_t> Byte();
  std::optional<std::string> Str();
  bool Skip(size_t n);
  absl::string_view rest() const { return rest_; }

 private:
  absl::string_view rest_;
};

// The smallest key greater than every key that starts with `prefix`, or ""
// when no such key exists (prefix all 0xFF).
std::string PrefixSuccessor(absl::string_view prefix);

}  // namespace steward::storage

#endif  // STEWARD_STORAGE_KEYS_H_
