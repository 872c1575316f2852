// Text limits are in characters, as the protos promise, whatever the script;
// a byte cap of four bytes per character guards the store.
#include "services/common/validation.h"

#include <string>

#include "gtest/gtest.h"

namespace steward {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ValidationTest, LimitsCountCharactersNotBytes) {
  const std::string cyrillic = Repeat("ж", 150);  // 300 bytes
  EXPECT_EQ(CodePoints(cyrillic), 150u);
  EXPECT_TRUE(CheckText("subject", cyrillic, 1, 200).ok());
  const std::string chinese = Repeat("好", 1000);  // 3,000 bytes
  EXPECT_TRUE(CheckText("comment", chinese, 0, 1000).ok());
  const std::string emoji = Repeat("🎮", 200);  // 800 bytes, 4 each
  EXPECT_TRUE(CheckText("subject", emoji, 1, 200).ok());

  absl::Status over = CheckText("comment", chinese + "好", 0, 1000);
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(over.message(), "comment is 1001 characters; the limit is 1000");
  EXPECT_EQ(CheckText("subject", Repeat("a", 201), 1, 200).message(),
            "subject is 201 characters; the limit is 200");
}

TEST(ValidationTest, TheByteGuardAndTheOtherChecksStillHold) {
  absl::Status huge = CheckText("subject", std::string(801, 'a'), 1, 200);
  EXPECT_EQ(huge.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(huge.message().find("800 bytes"), absl::string_view::npos) << huge.message();
  EXPECT_EQ(CheckText("subject", "", 1, 200).message(), "subject is required");
  EXPECT_EQ(CheckText("subject", "\xff\xfe", 1, 200).message(), "subject is not valid UTF-8");
  EXPECT_EQ(CheckText("subject", "a\x01" "b", 1, 200).message(), "subject contains a control character");
  EXPECT_EQ(CheckText("note", "ab", 3, 10).message(), "note must be at least 3 characters");
}

}  // namespace
}  // namespace steward
