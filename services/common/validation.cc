#include "services/common/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace steward {

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < n + 1) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // every byte but continuations
  return n;
}

absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t min_len, size_t max_len) {
  // The byte cap first, so a huge value is refused before it is scanned.
  if (value.size() > kMaxBytesPerCharacter * max_len) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is ", value.size(), " bytes; the limit is ",
                                                   max_len, " characters (", kMaxBytesPerCharacter * max_len,
                                                   " bytes)"));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  const size_t chars = CodePoints(value);
  if (chars < min_len) {
    if (min_len == 1) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be at least ", min_len, " characters"));
  }
  if (chars > max_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", chars, " characters; the limit is ", max_len));
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckId(absl::string_view field, absl::string_view value,
                     bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(absl::StrCat(field, " is required"))
                    : absl::OkStatus();
  }
  if (value.size() > kMaxIdLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", value.size(), " bytes; the limit is ", kMaxIdLen));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  for (unsigned char c : value) {
    if (c <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " must not contain spaces or control characters"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(absl::string_view field, int value, bool valid,
                       bool allow_unspecified) {
  if (!valid) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has unknown value ", value));
  }
  if (value == 0 && !allow_unspecified) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  return absl::OkStatus();
}

std::string UnparsableRequest(absl::string_view type_name) {
  return absl::StrCat("not a valid ", type_name,
                      " (every string field must be UTF-8; send raw bytes as a hash or base64)");
}

namespace {

// An RFC 6838 restricted-name: a letter or digit, then up to 126 of
// letters, digits and !#$&-^_.+
bool IsRestrictedName(absl::string_view s) {
  if (s.empty() || s.size() > 127 || !absl::ascii_isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && !absl::StrContains("!#$&-^_.+", ch)) return false;
  }
  return true;
}

// "type/subtype" of `value` (parameters and spaces dropped, lower case), or
// empty when it is not a media type.
std::string BareMediaType(absl::string_view value) {
  absl::string_view v = value.substr(0, value.find(';'));
  v = absl::StripAsciiWhitespace(v);
  size_t slash = v.find('/');
  if (slash == absl::string_view::npos) return "";
  if (!IsRestrictedName(v.substr(0, slash)) || !IsRestrictedName(v.substr(slash + 1))) return "";
  return absl::AsciiStrToLower(v);
}

}  // namespace

bool IsMediaTypePattern(absl::string_view pattern) {
  if (absl::EndsWith(pattern, "/*")) return IsRestrictedName(pattern.substr(0, pattern.size() - 2));
  return !BareMediaType(pattern).empty() && pattern.find(';') == absl::string_view::npos;
}

absl::Status CheckMediaType(absl::string_view field, absl::string_view value,
                            const std::vector<std::string>& allowed) {
  const std::string bare = BareMediaType(value);
  if (bare.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", value, "' is not a media type (type/subtype, e.g. image/png or text/plain)"));
  }
  const absl::string_view type = absl::string_view(bare).substr(0, bare.find('/'));
  for (const auto& p : allowed) {
    const std::string lp = absl::AsciiStrToLower(p);
    if (lp == bare || (absl::EndsWith(lp, "/*") && absl::string_view(lp).substr(0, lp.size() - 2) == type)) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, " ", bare, " is not accepted here; accepted: ", absl::StrJoin(allowed, ", ")));
}

}  // namespace steward
