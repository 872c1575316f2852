#include "storage/keys.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace steward::storage {
namespace {

TEST(KeysTest, U64AndI64SortLikeNumbers) {
  std::vector<int64_t> nums = {-5, 0, 3, -1'000'000'000'000, 1'000'000'000'000, 7, -1};
  std::vector<std::pair<std::string, int64_t>> enc;
  for (auto n : nums) enc.emplace_back(KeyWriter().I64(n).Release(), n);
  std::sort(enc.begin(), enc.end());
  for (size_t i = 1; i < enc.size(); ++i) EXPECT_LT(enc[i - 1].second, enc[i].second);
  for (auto& [k, n] : enc) EXPECT_EQ(KeyReader(k).I64(), n);

  EXPECT_LT(KeyWriter().U64(255).key(), KeyWriter().U64(256).key());
  EXPECT_EQ(KeyReader(KeyWriter().U64(0xdeadbeefcafe).key()).U64(), 0xdeadbeefcafeu);
}

TEST(KeysTest, StringsSortAsTuplesAndRoundTrip) {
  // ("a", 9) must sort before ("ab", 1): a plain concatenation would not.
  std::string a9 = KeyWriter().Str("a").U64(9).Release();
  std::string ab1 = KeyWriter().Str("ab").U64(1).Release();
  EXPECT_LT(a9, ab1);
  std::string with_nul("a\0b", 3);
  std::string k = KeyWriter().Str(with_nul).Str("").U64(42).Release();
  KeyReader r(k);
  EXPECT_EQ(r.Str(), with_nul);
  EXPECT_EQ(r.Str(), "");
  EXPECT_EQ(r.U64(), 42u);
  EXPECT_TRUE(r.rest().empty());
  // "a" < "a\0" < "a\x01" < "ab" holds after encoding.
  std::vector<std::string> raw = {"ab", std::string("a\0", 2), "a", "a\x01"};
  std::vector<std::string> enc;
  for (auto& s : raw) enc.push_back(KeyWriter().Str(s).Release());
  std::sort(enc.begin(), enc.end());
  EXPECT_EQ(KeyReader(enc[0]).Str(), "a");
  EXPECT_EQ(KeyReader(enc[1]).Str(), std::string("a\0", 2));
  EXPECT_EQ(KeyReader(enc[2]).Str(), "a\x01");
  EXPECT_EQ(KeyReader(enc[3]).Str(), "ab");
}

TEST(KeysTest, MalformedInputIsRejected) {
  EXPECT_FALSE(KeyReader("abc").U64().has_value());
  EXPECT_FALSE(KeyReader("abc").Str().has_value());            // no terminator
  EXPECT_FALSE(KeyReader(std::string("a\0\x05", 3)).Str().has_value());  // bad escape
}

TEST(KeysTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace steward::storage
