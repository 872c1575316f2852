#include "services/common/principal.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace steward {

absl::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAgent: return "agent";
    case Role::kLead: return "lead";
    case Role::kSupervisor: return "supervisor";
    case Role::kAdmin: return "admin";
    default: return "none";
  }
}

absl::StatusOr<Role> ParseRole(absl::string_view s) {
  if (s == "agent") return Role::kAgent;
  if (s == "lead") return Role::kLead;
  if (s == "supervisor") return Role::kSupervisor;
  if (s == "admin") return Role::kAdmin;
  return absl::InvalidArgumentError(absl::StrCat("unknown role ", s));
}

std::string Sha256Hex(absl::string_view token) {
  // Every call's token is hashed, so the digest is fetched once and each
  // thread reuses one context: OpenSSL 3's one-shot SHA256() looks the
  // algorithm up and allocates a context every time, several times the
  // cost of hashing a token.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx t;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  if (md == nullptr || t.ctx == nullptr || !EVP_DigestInit_ex2(t.ctx, md, nullptr) ||
      !EVP_DigestUpdate(t.ctx, token.data(), token.size()) || !EVP_DigestFinal_ex(t.ctx, digest, &len)) {
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

const PrincipalConfig& StewardPrincipal() {
  static const auto* p = [] {
    auto* c = new PrincipalConfig();
    c->name = "steward";
    c->kind = PrincipalKind::kGm;
    c->role = Role::kAdmin;
    return c;
  }();
  return *p;
}

}  // namespace steward
