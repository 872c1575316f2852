// Shared test fixtures: a private temp directory, a real RocksDB store in
// it, and (services/common/clock.h) a FakeClock the test moves.
#ifndef STEWARD_TESTS_COMMON_FIXTURES_H_
#define STEWARD_TESTS_COMMON_FIXTURES_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/common/clock.h"
#include "storage/store.h"

namespace steward::test {

// A directory of its own under the system temp dir, named after the running
// test and this process, removed (with everything in it) on destruction.
class TempDir {
 public:
  // `tag` tells apart several directories of one test.
  explicit TempDir(const std::string& tag = "");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A real store in `dir`; fails the current test (and returns null) when it
// cannot be opened.
std::unique_ptr<storage::Store> OpenStore(const std::filesystem::path& dir);

// Polls `done` until it holds or `timeout` (real time) passes; for work a
// background thread does after a FakeClock moved. Returns whether it held.
bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10));

}  // namespace steward::test

#endif  // STEWARD_TESTS_COMMON_FIXTURES_H_
