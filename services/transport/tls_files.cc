#include "services/transport/tls_files.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"
#include "services/common/periodic.h"

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

namespace {

using CrlTexts = std::map<std::string, std::string>;  // file name -> PEM

struct CrlSet {
  CrlTexts texts;
  int64_t next_update_unix = 0;  // the earliest of theirs; 0 if none has one
};

// The CRLs of `dir` that OpenSSL would use for the CAs in `ca_text`, each
// checked: a PEM CRL signed by its CA and not past its next update, and
// at least one for every CA.
absl::StatusOr<CrlSet> ReadCrls(const std::string& dir, const std::string& ca_text) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("tls.crl_directory ", dir, " is not a directory"));
  }
  CrlSet set;
  ERR_clear_error();
  BioPtr in = MemoryBio(ca_text);
  while (X509* cert = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509, decltype(&X509_free)> owned(cert, X509_free);
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    const unsigned long hash = X509_NAME_hash_ex(X509_get_subject_name(cert), nullptr, nullptr, nullptr);
    bool found = false;
    // The names OpenSSL tries, in its order: <hash>.r0, .r1, ...
    for (int k = 0;; ++k) {
      char name[32];
      std::snprintf(name, sizeof name, "%08lx.r%d", hash, k);
      const std::string path = (fs::path(dir) / name).string();
      if (!fs::exists(path, ec)) break;
      auto text = ReadText(path, "CRL");
      if (!text.ok()) return text.status();
      set.texts[name] = *text;
      BioPtr crl_in = MemoryBio(*text);
      std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(
          PEM_read_bio_X509_CRL(crl_in.get(), nullptr, nullptr, nullptr), X509_CRL_free);
      if (crl == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("CRL file ", path, " holds no PEM CRL: ", OpenSslError()));
      }
      if (X509_CRL_verify(crl.get(), X509_get0_pubkey(cert)) != 1) {
        ERR_clear_error();
        return absl::InvalidArgumentError(
            absl::StrCat("CRL file ", path, " is not signed by client CA ", subject));
      }
      const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
      if (next != nullptr && X509_cmp_current_time(next) <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "CRL file ", path, " of client CA ", subject,
            " is past its next update: OpenSSL refuses every client certificate it covers"));
      }
      struct tm next_tm = {};
      if (next != nullptr && ASN1_TIME_to_tm(next, &next_tm) == 1) {
        const int64_t t = timegm(&next_tm);
        if (set.next_update_unix == 0 || t < set.next_update_unix) set.next_update_unix = t;
      }
      found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tls.crl_directory ", dir, " has no CRL of client CA ", subject, ": expected a PEM CRL named ",
          absl::StrFormat("%08lx.r0", hash),
          " (`openssl rehash` names them so); without one every client certificate that CA signed "
          "would be refused"));
    }
  }
  ERR_clear_error();  // the end of the text reads as an error
  return set;
}

// What the CRL files of a directory looked like (any name OpenSSL could
// look up, following links): a new set of CRLs changes it.
std::vector<std::pair<std::string, Stamp>> CrlStamps(const std::string& dir) {
  std::vector<std::pair<std::string, Stamp>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() >= 11 && name[8] == '.' && name[9] == 'r') out.emplace_back(name, StampOf(e.path().string()));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

absl::Status CheckCrlDirectory(const std::string& dir, const std::string& ca_file) {
  auto ca = ReadCa(ca_file, "TLS client CA");
  if (!ca.ok()) return ca.status();
  return ReadCrls(dir, *ca).status();
}

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

absl::Status ReloadingCertificate::ReloadNow(bool* first_refusal, const Accept& accept) {
  Rep& r = *rep_;
  // Stamps first: a renewal landing while the files are read is seen as a
  // change at the next check.
  const Stamps stamps = StampsOf(r.files);
  {
    absl::MutexLock lock(&r.mu);
    r.next_check = absl::Now() + r.check_every;
    if (stamps == r.stamps_in_use) return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Parsed>> set = ReadSet(r.files);
  if (set.ok() && accept != nullptr) {
    if (absl::Status s = accept((*set)->pem); !s.ok()) set = s;
  }
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
  std::string crl_source;  // the operator's CRL directory, or empty
  TlsFiles staged;
  absl::Mutex mu;  // one check at a time
  uint64_t written ABSL_GUARDED_BY(mu) = 0;  // the certificate set in the copy
  uint64_t copies ABSL_GUARDED_BY(mu) = 0;   // names the copy's directories
  int64_t last_mtime_s ABSL_GUARDED_BY(mu) = 0;
  // The CRLs in the copy, how many sets were taken, and the files as last
  // taken and as last refused.
  CrlTexts crls ABSL_GUARDED_BY(mu);
  int64_t crl_next_update_unix ABSL_GUARDED_BY(mu) = 0;
  bool crl_expiry_logged ABSL_GUARDED_BY(mu) = false;
  uint64_t crl_sets ABSL_GUARDED_BY(mu) = 0;
  std::optional<std::vector<std::pair<std::string, Stamp>>> crl_stamps_in_use ABSL_GUARDED_BY(mu);
  std::vector<std::pair<std::string, Stamp>> crl_stamps_refused ABSL_GUARDED_BY(mu);
  PeriodicTask task;

  // Takes the CRL files if they changed and are good; *changed if taken.
  absl::Status ReloadCrls(bool* changed, bool* first_refusal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  absl::Status Write(const ReloadingCertificate::Pem& pem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

absl::Status StagedTlsFiles::Rep::ReloadCrls(bool* changed, bool* first_refusal) {
  *changed = false;
  auto stamps = CrlStamps(crl_source);
  if (stamps == crl_stamps_in_use) return absl::OkStatus();
  auto set = ReadCrls(crl_source, source->pem().ca);
  if (!set.ok()) {
    *first_refusal = stamps != crl_stamps_refused;
    crl_stamps_refused = std::move(stamps);
    return set.status();
  }
  crl_stamps_in_use = std::move(stamps);
  if (set->texts == crls) return absl::OkStatus();  // rewritten as they were
  crls = std::move(set->texts);
  crl_next_update_unix = set->next_update_unix;
  crl_expiry_logged = false;
  ++crl_sets;
  *changed = true;
  return absl::OkStatus();
}

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
  const std::string name = absl::StrCat("g", ++copies);
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
    // With CRLs, a new set of them changes this file too (a comment line
    // PEM readers skip), so gRPC builds a TLS context that reads them.
    const std::string ca = crl_source.empty() ? pem.ca : absl::StrCat("# CRL set ", crl_sets, "\n", pem.ca);
    if (absl::Status s = WritePrivate((d / "ca.pem").string(), ca, mtime); !s.ok()) return s;
  }
  if (!crl_source.empty()) {
    if (!fs::create_directory(d / "crl", ec)) {
      return absl::InternalError(absl::StrCat("cannot create ", (d / "crl").string(), ": ", ec.message()));
    }
    for (const auto& [file, text] : crls) {
      if (absl::Status s = WritePrivate((d / "crl" / file).string(), text, mtime); !s.ok()) return s;
    }
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
  if (copies >= 3) fs::remove_all(fs::path(dir) / absl::StrCat("g", copies - 2), ec);
  written = pem.generation;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StagedTlsFiles>> StagedTlsFiles::Start(TlsFiles files, std::string dir,
                                                                       absl::Duration check_every,
                                                                       std::string whose) {
  const bool has_ca = !files.ca_file.empty();
  std::string crl_source = files.crl_directory;
  if (!crl_source.empty() && !has_ca) {
    return absl::InvalidArgumentError("a CRL directory needs a client CA file (it revokes client certificates)");
  }
  auto source = ReloadingCertificate::Load(std::move(files), check_every);
  if (!source.ok()) return source.status();
  auto rep = std::make_unique<Rep>();
  rep->source = *std::move(source);
  rep->dir = std::move(dir);
  rep->whose = std::move(whose);
  rep->crl_source = std::move(crl_source);
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
                 has_ca ? (current / "ca.pem").string() : "",
                 rep->crl_source.empty() ? "" : (current / "crl").string()};
  {
    absl::MutexLock lock(&rep->mu);
    if (!rep->crl_source.empty()) {
      bool changed = false, first = false;
      if (absl::Status s = rep->ReloadCrls(&changed, &first); !s.ok()) return s;
    }
    if (absl::Status s = rep->Write(rep->source->pem()); !s.ok()) return s;
  }
  auto staged = std::unique_ptr<StagedTlsFiles>(new StagedTlsFiles(std::move(rep)));
  StagedTlsFiles* self = staged.get();
  staged->rep_->task.Start(check_every, [self] { STEWARD_DROP_STATUS(self->CheckNow(), "CheckNow logs and keeps the files in use"); });
  return staged;
}

StagedTlsFiles::StagedTlsFiles(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StagedTlsFiles::~StagedTlsFiles() { rep_->task.Stop(); }

const TlsFiles& StagedTlsFiles::staged() const { return rep_->staged; }

const ReloadingCertificate& StagedTlsFiles::source() const { return *rep_->source; }

int64_t StagedTlsFiles::crl_next_update_unix() const {
  absl::MutexLock lock(&rep_->mu);
  return rep_->crl_next_update_unix;
}

absl::Status StagedTlsFiles::CheckNow() {
  absl::MutexLock lock(&rep_->mu);
  bool first = false;
  // With CRLs, renewed files are taken only if the CRLs cover their client
  // CAs: OpenSSL would refuse every client certificate of one without.
  ReloadingCertificate::Accept covered;
  if (!rep_->crl_source.empty()) {
    covered = [this](const ReloadingCertificate::Pem& p) {
      absl::Status s = ReadCrls(rep_->crl_source, p.ca).status();
      return s.ok() ? s : absl::Status(s.code(), absl::StrCat("the CRLs do not cover it: ", s.message()));
    };
  }
  absl::Status s = rep_->source->ReloadNow(&first, covered);
  if (!s.ok() && first) LogWarning("TLS certificate of ", rep_->whose, " not renewed: ", s.message());
  ReloadingCertificate::Pem pem = rep_->source->pem();
  bool crls_changed = false;
  if (!rep_->crl_source.empty()) {
    // A renewed client CA file is checked against the CRLs again.
    if (pem.generation != rep_->written) rep_->crl_stamps_in_use.reset();
    bool crl_first = false;
    absl::Status c = rep_->ReloadCrls(&crls_changed, &crl_first);
    if (!c.ok()) {
      if (crl_first) LogWarning("CRLs of ", rep_->whose, " not taken (those in use stay): ", c.message());
      if (s.ok()) s = c;
    } else if (crls_changed) {
      LogInfo("CRLs of ", rep_->whose, " taken from ", rep_->crl_source, ": ", rep_->crls.size(), " file(s)");
    }
    if (rep_->crl_next_update_unix != 0 && absl::ToUnixSeconds(absl::Now()) >= rep_->crl_next_update_unix &&
        !rep_->crl_expiry_logged) {
      LogError("a CRL of ", rep_->whose, " in use is past its next update (",
               absl::FormatTime(absl::FromUnixSeconds(rep_->crl_next_update_unix), absl::UTCTimeZone()),
               "): OpenSSL refuses every client certificate of its CA until a new CRL is published in ",
               rep_->crl_source);
      rep_->crl_expiry_logged = true;
    }
  }
  if (pem.generation == rep_->written && !crls_changed) return s;
  absl::Status w = rep_->Write(pem);
  if (!w.ok()) LogError("TLS files of ", rep_->whose, " not renewed: ", w.message());
  return s.ok() ? w : s;
}

}  // namespace steward
