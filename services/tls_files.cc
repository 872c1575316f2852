#include "services/tls_files.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/log.h"
#include "services/periodic.h"

namespace steward {
namespace {

namespace fs = std::filesystem;

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// A parsed set and the texts it came from.
struct Parsed {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // intermediates after the leaf
  EVP_PKEY* key = nullptr;
  ReloadingCertificate::Pem pem;
  std::string subject;
  int64_t expires_unix = 0;

  Parsed() = default;
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;
  ~Parsed() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

// What a file looked like when read: a renewal changes at least one field.
struct Stamp {
  int64_t mtime_ns = -1, size = -1;
  uint64_t inode = 0;
  bool operator==(const Stamp& o) const {
    return std::tie(mtime_ns, size, inode) == std::tie(o.mtime_ns, o.size, o.inode);
  }
};

struct Stamps {
  Stamp cert, key, ca;
  bool operator==(const Stamps& o) const { return cert == o.cert && key == o.key && ca == o.ca; }
};

Stamp StampOf(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return {int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size,
          static_cast<uint64_t>(st.st_ino)};
}

Stamps StampsOf(const TlsFiles& f) { return {StampOf(f.cert_file), StampOf(f.key_file), StampOf(f.ca_file)}; }

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

absl::StatusOr<std::string> ReadText(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " cannot be read: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "<subject> (issuer <issuer>, expires <date>)": what an operator checks
// after a renewal.
std::string Describe(X509* cert) {
  char subject[256], issuer[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof issuer);
  std::string expires = "?";
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out != nullptr && ASN1_TIME_print(out.get(), X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(out.get(), &data);
    expires.assign(data, static_cast<size_t>(n));
  }
  return absl::StrCat(subject, " (issuer ", issuer, ", expires ", expires, ")");
}

// A CA file's text, once it is seen to hold at least one PEM certificate.
absl::StatusOr<std::string> ReadCa(const std::string& path, absl::string_view what) {
  auto text = ReadText(path, what);
  if (!text.ok()) return text.status();
  BioPtr in = MemoryBio(*text);
  X509* first = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr);
  if (first == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " holds no PEM certificate: ", OpenSslError()));
  }
  X509_free(first);
  return text;
}

absl::StatusOr<std::unique_ptr<Parsed>> ReadSet(const TlsFiles& f) {
  ERR_clear_error();
  auto p = std::make_unique<Parsed>();
  auto cert = ReadText(f.cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadText(f.key_file, "TLS key");
  if (!key.ok()) return key.status();
  p->pem.cert = *std::move(cert);
  p->pem.key = *std::move(key);
  {
    BioPtr in = MemoryBio(p->pem.cert);
    p->leaf = PEM_read_bio_X509_AUX(in.get(), nullptr, nullptr, nullptr);
    if (p->leaf == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("TLS certificate file ", f.cert_file,
                                                     " holds no PEM certificate: ", OpenSslError()));
    }
    p->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(p->chain, extra);
    }
    ERR_clear_error();  // the end of the text reads as an error
  }
  {
    BioPtr in = MemoryBio(p->pem.key);
    p->key = PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr);
    if (p->key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS key file ", f.key_file, " holds no unencrypted PEM private key: ", OpenSslError()));
    }
  }
  if (X509_check_private_key(p->leaf, p->key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("TLS key ", f.key_file,
                                                   " is not the key of the certificate in ", f.cert_file));
  }
  if (!f.ca_file.empty()) {
    auto ca = ReadCa(f.ca_file, "TLS client CA");
    if (!ca.ok()) return ca.status();
    p->pem.ca = *std::move(ca);
  }
  p->subject = Describe(p->leaf);
  struct tm expires = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(p->leaf), &expires) == 1) p->expires_unix = timegm(&expires);
  return p;
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files) { return ReadSet(files).status(); }

absl::Status CheckCaFile(const std::string& path) { return ReadCa(path, "TLS CA").status(); }

// ------------------------------------------------------ ReloadingCertificate

struct ReloadingCertificate::Rep {
  TlsFiles files;
  absl::Duration check_every;

  mutable absl::Mutex mu;
  std::shared_ptr<const Parsed> in_use ABSL_GUARDED_BY(mu);
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  Stamps stamps_in_use ABSL_GUARDED_BY(mu);
  Stamps stamps_refused ABSL_GUARDED_BY(mu);  // the files as last refused
  absl::Time next_check ABSL_GUARDED_BY(mu);
};

absl::StatusOr<std::unique_ptr<ReloadingCertificate>> ReloadingCertificate::Load(
    TlsFiles files, absl::Duration check_every) {
  auto rep = std::make_unique<Rep>();
  const Stamps stamps = StampsOf(files);
  auto set = ReadSet(files);
  if (!set.ok()) return set.status();
  rep->files = std::move(files);
  rep->check_every = check_every;
  absl::MutexLock lock(&rep->mu);
  rep->in_use = *std::move(set);
  rep->stamps_in_use = stamps;
  rep->next_check = absl::Now() + check_every;
  return std::unique_ptr<ReloadingCertificate>(new ReloadingCertificate(std::move(rep)));
}

ReloadingCertificate::ReloadingCertificate(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
ReloadingCertificate::~ReloadingCertificate() = default;

absl::Status ReloadingCertificate::ReloadNow(bool* first_refusal) {
  Rep& r = *rep_;
  // Stamps first: a renewal landing while the files are read is seen as a
  // change at the next check.
  const Stamps stamps = StampsOf(r.files);
  {
    absl::MutexLock lock(&r.mu);
    r.next_check = absl::Now() + r.check_every;
    if (stamps == r.stamps_in_use) return absl::OkStatus();
  }
  auto set = ReadSet(r.files);
  absl::MutexLock lock(&r.mu);
  if (!set.ok()) {
    if (first_refusal != nullptr) *first_refusal = !(stamps == r.stamps_refused);
    r.stamps_refused = stamps;
    return absl::Status(set.status().code(),
                        absl::StrCat(set.status().message(), "; ", r.in_use->subject, " stays in use"));
  }
  r.stamps_in_use = stamps;
  const ReloadingCertificate::Pem& now = r.in_use->pem;
  const ReloadingCertificate::Pem& read = (*set)->pem;
  if (read.cert == now.cert && read.key == now.key && read.ca == now.ca) {
    return absl::OkStatus();  // touched or copied over with the same contents
  }
  LogInfo("TLS certificate renewed from ", r.files.cert_file, ": ", (*set)->subject);
  r.in_use = *std::move(set);
  ++r.generation;
  return absl::OkStatus();
}

bool ReloadingCertificate::ApplyTo(ssl_st* ssl) {
  bool due;
  {
    absl::MutexLock lock(&rep_->mu);
    due = absl::Now() >= rep_->next_check;
  }
  if (due) {
    bool first = false;
    if (absl::Status s = ReloadNow(&first); !s.ok() && first) {
      LogWarning("TLS certificate not renewed: ", s.message());
    }
  }
  std::shared_ptr<const Parsed> p;
  {
    absl::MutexLock lock(&rep_->mu);
    p = rep_->in_use;
  }
  // The connection takes its own references.
  return SSL_use_cert_and_key(ssl, p->leaf, p->key, p->chain, /*override=*/1) == 1;
}

std::string ReloadingCertificate::subject() const {
  absl::MutexLock lock(&rep_->mu);
  return rep_->in_use->subject;
}

int64_t ReloadingCertificate::expires_unix() const {
  absl::MutexLock lock(&rep_->mu);
  return rep_->in_use->expires_unix;
}

ReloadingCertificate::Pem ReloadingCertificate::pem() const {
  absl::MutexLock lock(&rep_->mu);
  Pem p = rep_->in_use->pem;
  p.generation = rep_->generation;
  return p;
}

// ------------------------------------------------------------ StagedTlsFiles

struct StagedTlsFiles::Rep {
  std::unique_ptr<ReloadingCertificate> source;
  std::string dir;
  std::string whose;  // for log lines
  TlsFiles staged;
  absl::Mutex mu;  // one check at a time
  uint64_t written ABSL_GUARDED_BY(mu) = 0;
  int64_t last_mtime_s ABSL_GUARDED_BY(mu) = 0;
  PeriodicTask task;

  absl::Status Write(const ReloadingCertificate::Pem& pem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

namespace {

absl::Status WritePrivate(const std::string& path, const std::string& text, int64_t mtime_s) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  // gRPC's provider compares modification times in whole seconds to see a
  // change between its reads: each copy gets a later second than the last.
  struct timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
  ok = ::futimens(fd, times) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  return ok ? absl::OkStatus()
            : absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status StagedTlsFiles::Rep::Write(const ReloadingCertificate::Pem& pem) {
  const std::string name = absl::StrCat("g", pem.generation);
  const fs::path d = fs::path(dir) / name;
  std::error_code ec;
  fs::remove_all(d, ec);
  if (!fs::create_directory(d, ec)) {
    return absl::InternalError(absl::StrCat("cannot create ", d.string(), ": ", ec.message()));
  }
  const int64_t mtime = std::max<int64_t>(absl::ToUnixSeconds(absl::Now()), last_mtime_s + 1);
  if (absl::Status s = WritePrivate((d / "cert.pem").string(), pem.cert, mtime); !s.ok()) return s;
  if (absl::Status s = WritePrivate((d / "key.pem").string(), pem.key, mtime); !s.ok()) return s;
  if (!pem.ca.empty()) {
    if (absl::Status s = WritePrivate((d / "ca.pem").string(), pem.ca, mtime); !s.ok()) return s;
  }
  // Switch `current` in one step.
  const fs::path link = fs::path(dir) / "current", tmp = fs::path(dir) / "current.new";
  fs::remove(tmp, ec);
  fs::create_directory_symlink(name, tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot switch ", link.string(), ": ", ec.message()));
  last_mtime_s = mtime;
  // The one before stays for a reader that resolved `current` just before
  // the switch; older ones go.
  if (pem.generation >= 2) fs::remove_all(fs::path(dir) / absl::StrCat("g", pem.generation - 2), ec);
  written = pem.generation;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StagedTlsFiles>> StagedTlsFiles::Start(TlsFiles files, std::string dir,
                                                                       absl::Duration check_every,
                                                                       std::string whose) {
  const bool has_ca = !files.ca_file.empty();
  auto source = ReloadingCertificate::Load(std::move(files), check_every);
  if (!source.ok()) return source.status();
  auto rep = std::make_unique<Rep>();
  rep->source = *std::move(source);
  rep->dir = std::move(dir);
  rep->whose = std::move(whose);
  std::error_code ec;
  fs::remove_all(rep->dir, ec);
  fs::create_directories(rep->dir, ec);
  if (ec || ::chmod(rep->dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the directory for TLS files ", rep->dir, ": ",
                     ec ? ec.message() : std::strerror(errno)));
  }
  const fs::path current = fs::path(rep->dir) / "current";
  rep->staged = {(current / "cert.pem").string(), (current / "key.pem").string(),
                 has_ca ? (current / "ca.pem").string() : ""};
  {
    absl::MutexLock lock(&rep->mu);
    if (absl::Status s = rep->Write(rep->source->pem()); !s.ok()) return s;
  }
  auto staged = std::unique_ptr<StagedTlsFiles>(new StagedTlsFiles(std::move(rep)));
  StagedTlsFiles* self = staged.get();
  staged->rep_->task.Start(check_every, [self] { self->CheckNow().IgnoreError(); });
  return staged;
}

StagedTlsFiles::StagedTlsFiles(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StagedTlsFiles::~StagedTlsFiles() { rep_->task.Stop(); }

const TlsFiles& StagedTlsFiles::staged() const { return rep_->staged; }

const ReloadingCertificate& StagedTlsFiles::source() const { return *rep_->source; }

absl::Status StagedTlsFiles::CheckNow() {
  absl::MutexLock lock(&rep_->mu);
  bool first = false;
  absl::Status s = rep_->source->ReloadNow(&first);
  if (!s.ok()) {
    if (first) LogWarning("TLS certificate of ", rep_->whose, " not renewed: ", s.message());
    return s;
  }
  ReloadingCertificate::Pem pem = rep_->source->pem();
  if (pem.generation == rep_->written) return absl::OkStatus();
  s = rep_->Write(pem);
  if (!s.ok()) LogError("TLS certificate of ", rep_->whose, " not renewed: ", s.message());
  return s;
}

}  // namespace steward
