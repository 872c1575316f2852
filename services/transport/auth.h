// Authentication: bearer token in gRPC metadata -> the Caller
// (common/caller.h) every domain acts for.
#ifndef STEWARD_SERVICES_TRANSPORT_AUTH_H_
#define STEWARD_SERVICES_TRANSPORT_AUTH_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/common/caller.h"

namespace grpc {
class ServerContextBase;
}

namespace steward {

class Authenticator final : public GmDirectory {
 public:
  explicit Authenticator(std::vector<PrincipalConfig> principals);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // Replaces every principal (tokens, roles, scopes) for the calls that
  // start from now on: a removed token is refused, a changed role applies.
  // Streams already open keep the identity they started with.
  void Replace(std::vector<PrincipalConfig> principals);

  // From "authorization: Bearer <token>" and, for game servers, the
  // optional x-steward-player entry. Unauthenticated when the token is
  // missing or unknown; InvalidArgument for a malformed player id;
  // ResourceExhausted past the principal's calls_per_second.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;
  // Same, from raw values (the gRPC-free core, also used by embedders).
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization,
                                      absl::string_view player) const;

  // For long streams, before each message: OK while `c`'s token still
  // grants what it did when the stream began (a reload kept it unchanged);
  // UNAUTHENTICATED once it was revoked or its role or scope changed.
  absl::Status Recheck(const Caller& c) const;

  // Whether a GM principal of that name exists now.
  bool IsGm(absl::string_view name) const override;

 private:
  // A principal's calls-per-second allowance (a token bucket).
  struct Bucket {
    absl::Mutex mu;
    double tokens ABSL_GUARDED_BY(mu) = 0;
    int64_t last_ns ABSL_GUARDED_BY(mu) = 0;
  };
  struct Set {
    std::vector<PrincipalConfig> principals;
    std::unordered_map<std::string, const PrincipalConfig*> by_hash;
    std::unordered_map<std::string, const PrincipalConfig*> by_name;
    // By name, for principals with a limit. A reload starts them afresh.
    std::unordered_map<std::string, std::unique_ptr<Bucket>> buckets;
  };
  // OK, or RESOURCE_EXHAUSTED when `c` is over its calls a second.
  static absl::Status Admit(const Set& set, const Caller& c);
  static std::shared_ptr<const Set> Index(std::vector<PrincipalConfig> principals);
  std::shared_ptr<const Set> Current() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Set> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_AUTH_H_
