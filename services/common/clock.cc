#include "services/common/clock.h"

#include "absl/time/clock.h"

namespace steward {
namespace {

class WallClock final : public Clock {
 public:
  int64_t NowMs() const override { return absl::ToUnixMillis(absl::Now()); }
};

}  // namespace

const Clock* Clock::Wall() {
  static const WallClock* const wall = new WallClock();
  return wall;
}

}  // namespace steward
