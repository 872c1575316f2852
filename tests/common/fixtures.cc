#include "tests/common/fixtures.h"

#include <unistd.h>

#include <atomic>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace steward::test {

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> serial{0};
  std::string name = "steward_";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += std::string(info->test_suite_name()) + "." + info->name();
  }
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  name += "_" + std::to_string(::getpid()) + "_" + std::to_string(serial++);
  if (!tag.empty()) name += "_" + tag;
  path_ = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<storage::Store> OpenStore(const std::filesystem::path& dir) {
  auto store = storage::Store::Open({.path = dir.string()});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  return *std::move(store);
}

bool Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

}  // namespace steward::test
