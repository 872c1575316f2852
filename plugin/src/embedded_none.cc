// The remote-only plugin: no services inside, so embedded mode is refused.
#include "src/embedded.h"

namespace steward {

absl::StatusOr<std::unique_ptr<EmbeddedHost>> StartEmbedded(const Options&, const std::string&) {
  return absl::FailedPreconditionError(
      "this build of the plugin is remote-only (steward::plugin_remote); "
      "link steward::plugin or libsteward.so for embedded mode");
}

}  // namespace steward
