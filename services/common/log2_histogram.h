// A lock-free histogram of non-negative integers in power-of-two buckets:
// bucket b holds the values below 2^b and at least 2^(b-1) (bucket 0 holds
// 0; the last bucket takes everything larger). Recording is two relaxed
// atomic adds, cheap enough for every call or firing; quantiles are read as
// bucket tops, so they overstate by less than a factor of two.
#ifndef STEWARD_SERVICES_COMMON_LOG2_HISTOGRAM_H_
#define STEWARD_SERVICES_COMMON_LOG2_HISTOGRAM_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace steward {

class Log2Histogram {
 public:
  static constexpr size_t kBuckets = 40;

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t count = 0;
    uint64_t sum = 0;
    // The top of the bucket holding quantile q (0 < q <= 1): 2^b, or 0
    // when nothing was recorded.
    double Quantile(double q) const {
      uint64_t seen = 0;
      for (size_t b = 0; b < kBuckets; ++b) {
        seen += counts[b];
        if (count > 0 && seen >= q * static_cast<double>(count)) return static_cast<double>(uint64_t{1} << b);
      }
      return 0.0;
    }
  };

  void Record(uint64_t v) {
    size_t b = std::min<size_t>(kBuckets - 1, static_cast<size_t>(std::bit_width(v)));
    counts_[b].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  // Buckets are read one by one while others may record, so a snapshot can
  // be off by the records made during it; count is the sum of its buckets.
  Snapshot Read() const {
    Snapshot s;
    for (size_t b = 0; b < kBuckets; ++b) {
      s.counts[b] = counts_[b].load(std::memory_order_relaxed);
      s.count += s.counts[b];
    }
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_LOG2_HISTOGRAM_H_
