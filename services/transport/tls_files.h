// TLS certificates read from PEM files and re-read when an operator renews
// them, so a certificate rotation needs no restart (and drops no game
// server's stream).
//
// A renewal that does not load, or whose key does not match its
// certificate, is refused: the set in use stays. Replace the files by
// renaming new ones over them, key first; a check that sees a new
// certificate beside the old key refuses it, and the next check, with both
// in place, takes them.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef STEWARD_SERVICES_TRANSPORT_TLS_FILES_H_
#define STEWARD_SERVICES_TRANSPORT_TLS_FILES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct ssl_st;

namespace steward {

struct TlsFiles {
  std::string cert_file;  // the certificate chain, leaf first
  std::string key_file;   // its private key, unencrypted
  std::string ca_file;    // optional: CAs client certificates must chain to
  // Optional, with ca_file: PEM CRLs revoking client certificates, named as
  // OpenSSL looks them up (see CheckCrlDirectory). Only StagedTlsFiles
  // reads it.
  std::string crl_directory;
};

// Reads and checks the files without keeping them: a clear error at start
// for a file that is missing or holds no PEM, or a key of another
// certificate.
absl::Status CheckTlsFiles(const TlsFiles& files);
// The same for a CA file alone: readable, with at least one certificate.
absl::Status CheckCaFile(const std::string& path);
// For revoking client certificates: `dir` must hold, for every CA in
// `ca_file`, a PEM CRL that CA signed, named as OpenSSL looks it up
// (<subject hash>.r0, as `openssl rehash` names it) and not past its next
// update; OpenSSL would refuse every client certificate of a CA without
// one.
absl::Status CheckCrlDirectory(const std::string& dir, const std::string& ca_file);

class ReloadingCertificate {
 public:
  // Loads the files now; fails as CheckTlsFiles does. They are looked at
  // again at most once per `check_every` by ApplyTo.
  static absl::StatusOr<std::unique_ptr<ReloadingCertificate>> Load(TlsFiles files,
                                                                    absl::Duration check_every);
  ReloadingCertificate(const ReloadingCertificate&) = delete;
  ReloadingCertificate& operator=(const ReloadingCertificate&) = delete;
  ~ReloadingCertificate();

  // Takes the files' contents if they changed since the set in use was read
  // (modification time, size or inode of any) and are good, and `accept`
  // (if given) agrees; logs the renewal. OK also when nothing changed; the
  // refusal otherwise, for the caller to report, with *first_refusal (if
  // given) set when these files were not refused before (periodic checks
  // log a bad renewal once).
  struct Pem;
  using Accept = std::function<absl::Status(const Pem&)>;
  absl::Status ReloadNow(bool* first_refusal = nullptr, const Accept& accept = nullptr);

  // For a TLS handshake on `ssl`: re-reads the files if `check_every` has
  // passed (logging a refused set of files once), then sets the
  // certificate and key in use on the connection. False (the handshake
  // fails) only if OpenSSL refuses them.
  bool ApplyTo(ssl_st* ssl);

  // The certificate in use: subject, issuer and expiry, for logs.
  std::string subject() const;
  // When the certificate in use expires, in Unix seconds.
  int64_t expires_unix() const;

  // The PEM texts in use, exactly as read, and how many renewals were taken.
  struct Pem {
    std::string cert, key, ca;
    uint64_t generation = 0;
  };
  Pem pem() const;

 private:
  struct Rep;
  explicit ReloadingCertificate(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// gRPC's file-watching certificate provider takes whatever the files hold
// when it looks, and a key of another certificate then fails every new
// handshake. So it watches a private copy instead: `dir`/current/ holds
// the set in use, checked as above, and a renewal is written to a new
// directory that `current` is switched to in one rename, so the provider
// never sees half of one.
//
// CRLs are copied the same way, to current/crl/, for gRPC's CRL directory.
// OpenSSL reads a CRL file there only once per TLS context, so a new set
// of CRLs also changes the copy of the CA file (a comment line naming the
// set), which makes gRPC build a new context that reads them: a revocation
// holds from the first handshake after the copy is switched.
class StagedTlsFiles {
 public:
  // Loads `files`, writes the first copy under `dir` (created, mode 0700;
  // whatever was there is removed) and checks for renewals every
  // `check_every`. `whose` names the certificate in log lines, e.g. "the
  // gRPC port".
  static absl::StatusOr<std::unique_ptr<StagedTlsFiles>> Start(TlsFiles files, std::string dir,
                                                               absl::Duration check_every,
                                                               std::string whose);
  StagedTlsFiles(const StagedTlsFiles&) = delete;
  StagedTlsFiles& operator=(const StagedTlsFiles&) = delete;
  ~StagedTlsFiles();  // stops checking; the copy stays until the next Start

  // The copy's paths, for the provider (ca_file empty when there is none).
  const TlsFiles& staged() const;
  // The checked set the copy holds.
  const ReloadingCertificate& source() const;
  // When the first CRL in the copy needs replacing (its next update, Unix
  // seconds; 0 without CRLs): past it, OpenSSL refuses every client
  // certificate of that CA.
  int64_t crl_next_update_unix() const;
  // Checks now rather than at the next interval (tests).
  absl::Status CheckNow();

 private:
  struct Rep;
  explicit StagedTlsFiles(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TRANSPORT_TLS_FILES_H_
