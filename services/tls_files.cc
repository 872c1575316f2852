#include "services/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/log.h"

namespace steward {
namespace {

struct Pair {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // intermediates after the leaf
  EVP_PKEY* key = nullptr;
  std::string subject;

  Pair() = default;
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  ~Pair() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

// What a file looked like when read: a renewal changes at least one.
struct Stamp {
  int64_t mtime_ns = -1, size = -1;
  uint64_t inode = 0;
  bool operator==(const Stamp& o) const {
    return std::tie(mtime_ns, size, inode) == std::tie(o.mtime_ns, o.size, o.inode);
  }
};

Stamp StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size,
          static_cast<uint64_t>(st.st_ino)};
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};

// "<subject> (issuer <issuer>, expires <date>)": what an operator checks
// after a renewal.
std::string Describe(X509* cert) {
  char subject[256], issuer[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof issuer);
  std::string expires = "?";
  std::unique_ptr<BIO, BioCloser> out(BIO_new(BIO_s_mem()));
  if (out != nullptr && ASN1_TIME_print(out.get(), X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(out.get(), &data);
    expires.assign(data, static_cast<size_t>(n));
  }
  return absl::StrCat(subject, " (issuer ", issuer, ", expires ", expires, ")");
}

absl::StatusOr<std::unique_ptr<Pair>> ReadPair(const std::string& cert_file,
                                               const std::string& key_file) {
  ERR_clear_error();
  auto pair = std::make_unique<Pair>();
  {
    std::unique_ptr<BIO, BioCloser> in(BIO_new_file(cert_file.c_str(), "r"));
    if (in == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS certificate file ", cert_file, " cannot be read: ", OpenSslError()));
    }
    pair->leaf = PEM_read_bio_X509_AUX(in.get(), nullptr, nullptr, nullptr);
    if (pair->leaf == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("TLS certificate file ", cert_file,
                                                     " holds no PEM certificate: ", OpenSslError()));
    }
    pair->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(pair->chain, extra);
    }
    ERR_clear_error();  // the end of the file reads as an error
  }
  {
    std::unique_ptr<BIO, BioCloser> in(BIO_new_file(key_file.c_str(), "r"));
    if (in == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS key file ", key_file, " cannot be read: ", OpenSslError()));
    }
    pair->key = PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr);
    if (pair->key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("TLS key file ", key_file,
                                                     " holds no unencrypted PEM private key: ",
                                                     OpenSslError()));
    }
  }
  if (X509_check_private_key(pair->leaf, pair->key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("TLS key ", key_file,
                                                   " is not the key of the certificate in ",
                                                   cert_file));
  }
  pair->subject = Describe(pair->leaf);
  return pair;
}

}  // namespace

absl::Status CheckKeyPairFiles(const std::string& cert_file, const std::string& key_file) {
  return ReadPair(cert_file, key_file).status();
}

struct ReloadingKeyPair::Rep {
  std::string cert_file, key_file;
  absl::Duration check_every;

  mutable absl::Mutex mu;
  std::shared_ptr<const Pair> pair ABSL_GUARDED_BY(mu);
  Stamp cert_in_use ABSL_GUARDED_BY(mu), key_in_use ABSL_GUARDED_BY(mu);
  // The files as last refused, so the periodic check logs one bad renewal
  // once; refused_now: the last refusal was of files not refused before.
  Stamp cert_refused ABSL_GUARDED_BY(mu), key_refused ABSL_GUARDED_BY(mu);
  bool refused_now ABSL_GUARDED_BY(mu) = false;
  absl::Time next_check ABSL_GUARDED_BY(mu);
};

absl::StatusOr<std::unique_ptr<ReloadingKeyPair>> ReloadingKeyPair::Load(
    std::string cert_file, std::string key_file, absl::Duration check_every) {
  auto rep = std::make_unique<Rep>();
  const Stamp cert = StampOf(cert_file), key = StampOf(key_file);
  auto pair = ReadPair(cert_file, key_file);
  if (!pair.ok()) return pair.status();
  rep->cert_file = std::move(cert_file);
  rep->key_file = std::move(key_file);
  rep->check_every = check_every;
  absl::MutexLock lock(&rep->mu);
  rep->pair = *std::move(pair);
  rep->cert_in_use = cert;
  rep->key_in_use = key;
  rep->next_check = absl::Now() + check_every;
  return std::unique_ptr<ReloadingKeyPair>(new ReloadingKeyPair(std::move(rep)));
}

ReloadingKeyPair::ReloadingKeyPair(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
ReloadingKeyPair::~ReloadingKeyPair() = default;

absl::Status ReloadingKeyPair::ReloadNow() {
  Rep& r = *rep_;
  // Stamps first: a renewal landing while the files are read is seen as a
  // change at the next check.
  const Stamp cert = StampOf(r.cert_file), key = StampOf(r.key_file);
  {
    absl::MutexLock lock(&r.mu);
    r.next_check = absl::Now() + r.check_every;
    if (cert == r.cert_in_use && key == r.key_in_use) return absl::OkStatus();
  }
  auto pair = ReadPair(r.cert_file, r.key_file);
  absl::MutexLock lock(&r.mu);
  if (!pair.ok()) {
    r.refused_now = !(cert == r.cert_refused && key == r.key_refused);
    r.cert_refused = cert;
    r.key_refused = key;
    return absl::Status(pair.status().code(), absl::StrCat(pair.status().message(), "; ",
                                                           r.pair->subject, " stays in use"));
  }
  LogInfo("TLS certificate renewed from ", r.cert_file, ": ", (*pair)->subject);
  r.pair = *std::move(pair);
  r.cert_in_use = cert;
  r.key_in_use = key;
  return absl::OkStatus();
}

bool ReloadingKeyPair::ApplyTo(ssl_st* ssl) {
  bool due;
  {
    absl::MutexLock lock(&rep_->mu);
    due = absl::Now() >= rep_->next_check;
  }
  absl::Status reloaded = due ? ReloadNow() : absl::OkStatus();
  std::shared_ptr<const Pair> p;
  {
    absl::MutexLock lock(&rep_->mu);
    p = rep_->pair;
    if (!reloaded.ok() && rep_->refused_now) {
      LogWarning("TLS certificate not renewed: ", reloaded.message());
    }
  }
  // The connection takes its own references.
  return SSL_use_cert_and_key(ssl, p->leaf, p->key, p->chain, /*override=*/1) == 1;
}

std::string ReloadingKeyPair::subject() const {
  absl::MutexLock lock(&rep_->mu);
  return rep_->pair->subject;
}

}  // namespace steward
