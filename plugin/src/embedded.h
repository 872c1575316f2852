// The embedded mode's in-process stewardd, behind a seam so that the
// remote-only plugin (steward::plugin_remote) links no server code:
// embedded.cc starts the real services; embedded_none.cc refuses the mode.
#ifndef STEWARD_PLUGIN_SRC_EMBEDDED_H_
#define STEWARD_PLUGIN_SRC_EMBEDDED_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "steward/plugin.h"

namespace grpc {
class Channel;
}

namespace steward {

class EmbeddedHost {
 public:
  virtual ~EmbeddedHost() = default;  // stops serving, then closes the store
  // The in-process channel the plugin's calls take.
  virtual std::shared_ptr<grpc::Channel> channel() = 0;
  // The port it also listens on for stewardctl (Options.listen); 0: none.
  virtual int port() const = 0;
};

// Opens `o.data_dir`, starts the services (with `o.config_file`, if any, and
// `o.listen` for stewardctl) and admits this game server with `token`.
absl::StatusOr<std::unique_ptr<EmbeddedHost>> StartEmbedded(const Options& o, const std::string& token);

}  // namespace steward

#endif  // STEWARD_PLUGIN_SRC_EMBEDDED_H_
