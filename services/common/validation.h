// Input limits and checks shared by every service. Each failure is
// InvalidArgument naming the offending field, so a caller knows what to fix.
#ifndef STEWARD_SERVICES_COMMON_VALIDATION_H_
#define STEWARD_SERVICES_COMMON_VALIDATION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace steward {

// Limits, in bytes unless noted.
inline constexpr size_t kMaxIdLen = 128;        // player, realm, server, GM ids
inline constexpr size_t kMaxIdempotencyKeyLen = 128;
inline constexpr size_t kMaxSubjectLen = 200;
inline constexpr size_t kMaxTextLen = 8000;     // description, message body
inline constexpr size_t kMaxShortTextLen = 128; // map, build, platform
inline constexpr size_t kMaxContactLen = 256;
inline constexpr size_t kMaxReasonLen = 1000;
inline constexpr size_t kMaxExtraEntries = 32;  // entries
inline constexpr size_t kMaxExtraKeyLen = 64;
inline constexpr size_t kMaxExtraValueLen = 512;
inline constexpr size_t kMaxMessagesPerTicket = 1000;  // messages
inline constexpr size_t kMaxBatchTickets = 100;    // tickets per SubmitTickets
inline constexpr size_t kMaxPageSize = 500;     // items
inline constexpr size_t kDefaultPageSize = 50;  // items
// Largest request the server accepts; well above the sum of the limits.
// (An event batch, up to 4 MiB, is the largest; every other request is
// bounded far below by its own field limits.)
inline constexpr int kMaxGrpcMessageBytes = (4 << 20) + (64 << 10);

bool IsValidUtf8(absl::string_view s);

// Text lengths are counted in characters (Unicode code points), as the
// protos promise, so a Chinese or Russian player gets the same length as
// an English one. A separate guard caps the bytes at this many per allowed
// character (UTF-8's longest), so no value is ever larger than that.
inline constexpr size_t kMaxBytesPerCharacter = 4;

// Code points in valid UTF-8 `s`.
size_t CodePoints(absl::string_view s);

// UTF-8, no NUL or other C0 control characters except tab/newline/CR,
// length in [min_len, max_len] characters (and at most
// kMaxBytesPerCharacter * max_len bytes).
absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t min_len, size_t max_len);
// Identifier: UTF-8 without whitespace or control characters.
absl::Status CheckId(absl::string_view field, absl::string_view value,
                     bool required);

// Enum value checks: `valid` is the generated *_IsValid result.
absl::Status CheckEnum(absl::string_view field, int value, bool valid,
                       bool allow_unspecified);

// A media type ("type/subtype", optionally with ";" parameters, RFC 6838
// names) against patterns such as "image/png" or "image/*", compared
// without case and without the parameters. InvalidArgument naming `field`
// when it is not a media type, or not one of `allowed`.
absl::Status CheckMediaType(absl::string_view field, absl::string_view value,
                            const std::vector<std::string>& allowed);
// Whether `pattern` is "type/subtype" or "type/*" (config checks).
bool IsMediaTypePattern(absl::string_view pattern);

// What a caller is told when its request's bytes do not parse as the
// method's request message `type_name` (a string field that is not UTF-8,
// or bytes that are not a message at all).
std::string UnparsableRequest(absl::string_view type_name);

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_VALIDATION_H_
