// Self-signed certificates made in process, for tests of TLS: each one is
// its own CA, so trusting a certificate's PEM means trusting that server.
#ifndef STEWARD_TESTS_COMMON_TEST_CERTS_H_
#define STEWARD_TESTS_COMMON_TEST_CERTS_H_

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

namespace steward::test_certs {

struct PemPair {
  std::string cert, key;
};

// A certificate for `cn` valid for an hour, with subjectAltName `san`
// (OpenSSL's syntax, e.g. "IP:127.0.0.1,DNS:localhost") unless empty, and
// its P-256 key.
inline PemPair MakeCertificate(const std::string& cn, const std::string& san = "") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  };
  PemPair p{pem([&](BIO* b) { PEM_write_bio_X509(b, x); }),
            pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); })};
  X509_free(x);
  EVP_PKEY_free(key);
  return p;
}

}  // namespace steward::test_certs

#endif  // STEWARD_TESTS_COMMON_TEST_CERTS_H_
