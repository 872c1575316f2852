// Unary gRPC calls driven over HTTP/2 with nghttp2 on one thread, for
// latency figures where the load generator must not take the CPU the server
// under test needs. gRPC's own C++ client spends about as much CPU per call
// as the server does; on a machine shared with the server that is itself a
// large part of the load. This driver speaks the same wire protocol (one
// POST per call with a length-prefixed message, the status in the
// trailers), reads every reply's grpc-status, and costs a fraction of it.
#ifndef STEWARD_TESTS_BENCH_H2_UNARY_H_
#define STEWARD_TESTS_BENCH_H2_UNARY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace steward::bench {

using Clock = std::chrono::steady_clock;

// One open-loop call: when it was due, its latency from then (ms; negative
// if it failed) and how late it was sent (ms).
struct CallTiming {
  Clock::time_point due;
  double lat = -1, lag = 0;
};

struct H2Target {
  std::string addr;  // host:port, plaintext HTTP/2
  std::string path;  // "/package.Service/Method"
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. authorization
  std::vector<std::string> messages;  // serialized requests, used in turn
};

struct H2Result {
  uint64_t ok = 0, errors = 0;
  double seconds = 0;
  std::string first_error;          // what the first failed call said
  std::vector<CallTiming> timings;  // open loop: every call, in send order
};

class H2Unary {
 public:
  explicit H2Unary(H2Target target);
  ~H2Unary();
  H2Unary(const H2Unary&) = delete;
  H2Unary& operator=(const H2Unary&) = delete;

  // `inflight` calls on each of `connections` connections, a new one as
  // each finishes, for `seconds`.
  H2Result Closed(int connections, int inflight, double seconds);
  // Calls due at an even `rate` per second for `seconds`, spread over
  // `connections` connections; each sent when due, however many are open.
  H2Result Open(int connections, double rate, double seconds);

 private:
  struct Run;
  H2Result Drive(Run& run, int connections);
  H2Target target_;
};

}  // namespace steward::bench

#endif  // STEWARD_TESTS_BENCH_H2_UNARY_H_
