// Certificates made in process, for tests of TLS. MakeCertificate's are
// self-signed, each its own CA, so trusting a certificate's PEM means
// trusting that server; MakeCa, MakeSignedCertificate and MakeCrl make a
// CA with certificates and revocation lists.
#ifndef STEWARD_TESTS_COMMON_TEST_CERTS_H_
#define STEWARD_TESTS_COMMON_TEST_CERTS_H_

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <string>
#include <vector>

namespace steward::test_certs {

struct PemPair {
  std::string cert, key;
};

namespace internal {

template <typename Write>
std::string Pem(Write write) {
  BIO* b = BIO_new(BIO_s_mem());
  write(b);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline X509* ReadCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

inline EVP_PKEY* ReadKey(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return k;
}

inline void AddExtension(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn` valid for an hour with a new P-256 key, signed by
// `issuer` (self-signed if null); a CA if `ca`.
inline PemPair Make(const std::string& cn, const std::string& san, const PemPair* issuer, long serial,
                    bool ca) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? ReadCert(issuer->cert) : nullptr;
  EVP_PKEY* issuer_key = issuer != nullptr ? ReadKey(issuer->key) : nullptr;
  X509_set_issuer_name(x, issuer_cert != nullptr ? X509_get_subject_name(issuer_cert) : name);
  if (!san.empty()) AddExtension(x, issuer_cert != nullptr ? issuer_cert : x, NID_subject_alt_name, san);
  if (ca) {
    AddExtension(x, x, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  PemPair p{Pem([&](BIO* b) { PEM_write_bio_X509(b, x); }),
            Pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); })};
  X509_free(issuer_cert);
  EVP_PKEY_free(issuer_key);
  X509_free(x);
  EVP_PKEY_free(key);
  return p;
}

}  // namespace internal

// A certificate for `cn` valid for an hour, with subjectAltName `san`
// (OpenSSL's syntax, e.g. "IP:127.0.0.1,DNS:localhost") unless empty, and
// its P-256 key.
inline PemPair MakeCertificate(const std::string& cn, const std::string& san = "") {
  return internal::Make(cn, san, nullptr, 1, false);
}

// A CA that can sign certificates and CRLs.
inline PemPair MakeCa(const std::string& cn) { return internal::Make(cn, "", nullptr, 1, true); }

// A certificate for `cn` with serial number `serial`, signed by `ca`.
inline PemPair MakeSignedCertificate(const PemPair& ca, const std::string& cn, long serial,
                                     const std::string& san = "") {
  return internal::Make(cn, san, &ca, serial, false);
}

// A CRL of `ca` revoking the certificates with these serial numbers,
// with its next update `valid_seconds` from now.
inline std::string MakeCrl(const PemPair& ca, const std::vector<long>& revoked, long valid_seconds = 3600) {
  X509* ca_cert = internal::ReadCert(ca.cert);
  EVP_PKEY* ca_key = internal::ReadKey(ca.key);
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert));
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, valid_seconds);
  X509_CRL_set1_lastUpdate(crl, now);
  X509_CRL_set1_nextUpdate(crl, next);
  for (long serial : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, serial);
    X509_REVOKED_set_serialNumber(r, sn);
    X509_REVOKED_set_revocationDate(r, now);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(sn);
  }
  X509_CRL_sort(crl);
  X509_CRL_sign(crl, ca_key, EVP_sha256());
  std::string pem = internal::Pem([&](BIO* b) { PEM_write_bio_X509_CRL(b, crl); });
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  EVP_PKEY_free(ca_key);
  X509_free(ca_cert);
  return pem;
}

// The name OpenSSL looks a CRL of `ca` up by in a CRL directory (what
// `openssl rehash` gives it): the subject's hash, ".r0".
inline std::string CrlFileName(const PemPair& ca) {
  X509* x = internal::ReadCert(ca.cert);
  char name[32];
  std::snprintf(name, sizeof name, "%08lx.r0", X509_NAME_hash_ex(X509_get_subject_name(x), nullptr, nullptr, nullptr));
  X509_free(x);
  return name;
}

}  // namespace steward::test_certs

#endif  // STEWARD_TESTS_COMMON_TEST_CERTS_H_
