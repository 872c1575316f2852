// A TLS certificate chain and its private key, read from PEM files and
// re-read when an operator renews them, so a certificate rotation needs no
// restart (and drops no game server's stream).
//
// A renewed pair that does not load, or whose key does not match its
// certificate, is refused: the pair in use stays, and the refusal is logged
// once per change of the files. Replace both files in one step (write new
// files, then rename them over the old ones) so a check never sees a new
// certificate beside an old key; a mismatch seen mid-rotation is retried
// at the next check.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_TLS_FILES_H_
#define STEWARD_SERVICES_TLS_FILES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct ssl_st;

namespace steward {

// Reads and checks a pair without keeping it: a clear error at start for a
// file that is missing, is not PEM, or holds a key of another certificate.
absl::Status CheckKeyPairFiles(const std::string& cert_file, const std::string& key_file);

class ReloadingKeyPair {
 public:
  // Loads the pair now; fails as CheckKeyPairFiles does. The files are
  // looked at again at most once per `check_every`.
  static absl::StatusOr<std::unique_ptr<ReloadingKeyPair>> Load(std::string cert_file,
                                                                std::string key_file,
                                                                absl::Duration check_every);
  ReloadingKeyPair(const ReloadingKeyPair&) = delete;
  ReloadingKeyPair& operator=(const ReloadingKeyPair&) = delete;
  ~ReloadingKeyPair();

  // Takes the files' contents when they changed since the pair in use was
  // read (modification time, size or inode) and form a good pair. OK also
  // when nothing changed; the refusal otherwise (for the caller to report;
  // the periodic check in ApplyTo logs each refused set of files once).
  absl::Status ReloadNow();

  // For a TLS handshake on `ssl`: re-reads the files if `check_every` has
  // passed, then sets the pair in use on the connection. False (the
  // handshake fails) only if OpenSSL refuses it.
  bool ApplyTo(ssl_st* ssl);

  // The certificate in use: subject, issuer and expiry, for logs.
  std::string subject() const;

 private:
  struct Rep;
  explicit ReloadingKeyPair(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TLS_FILES_H_
