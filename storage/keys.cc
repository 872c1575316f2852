#include "storage/keys.h"

namespace steward::storage {

KeyWriter& KeyWriter::U64(uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  buf_.append(b, 8);
  return *this;
}

KeyWriter& KeyWriter::I64(int64_t v) {
  return U64(static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

KeyWriter& KeyWriter::Byte(uint8_t v) {
  buf_.push_back(static_cast<char>(v));
  return *this;
}

KeyWriter& KeyWriter::Str(absl::string_view s) {
  for (char c : s) {
    buf_.push_back(c);
    if (c == '\0') buf_.push_back('\xff');
  }
  buf_.push_back('\0');
  buf_.push_back('\x01');
  return *this;
}

KeyWriter& KeyWriter::Raw(absl::string_view s) {
  buf_.append(s.data(), s.size());
  return *this;
}

std::optional<uint64_t> KeyReader::U64() {
  if (rest_.size() < 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(rest_[i]);
  }
  rest_.remove_prefix(8);
  return v;
}

std::optional<int64_t> KeyReader::I64() {
  auto u = U64();
  if (!u) return std::nullopt;
  return static_cast<int64_t>(*u ^ (uint64_t{1} << 63));
}

std::optional<uint8_t> KeyReader::Byte() {
  if (rest_.empty()) return std::nullopt;
  uint8_t b = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return b;
}

std::optional<std::string> KeyReader::Str() {
  std::string out;
  size_t i = 0;
  while (i + 1 < rest_.size()) {
    char c = rest_[i];
    if (c != '\0') {
      out.push_back(c);
      ++i;
      continue;
    }
    char next = rest_[i + 1];
    if (next == '\x01') {
      rest_.remove_prefix(i + 2);
      return out;
    }
    if (next != '\xff') return std::nullopt;
    out.push_back('\0');
    i += 2;
  }
  return std::nullopt;
}

bool KeyReader::Skip(size_t n) {
  if (rest_.size() < n) return false;
  rest_.remove_prefix(n);
  return true;
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s.back());
    if (c != 0xff) {
      s.back() = static_cast<char>(c + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace steward::storage
