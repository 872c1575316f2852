#include "services/tls_files.h"

#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/common/test_certs.h"

namespace steward {
namespace {

namespace fs = std::filesystem;

using steward::test_certs::MakeCertificate;
using steward::test_certs::PemPair;

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("steward_tls_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    cert_ = (dir_ / "server.pem").string();
    key_ = (dir_ / "server.key").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes beside and renames over, as an operator should; the rename
  // gives a new inode, so a change within the same second is still seen.
  void Put(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".new";
    std::ofstream(tmp) << text;
    fs::rename(tmp, path);
  }

  // Puts `p` in the files and loads them.
  std::unique_ptr<ReloadingCertificate> LoadPair(const PemPair& p, absl::Duration check_every) {
    Put(cert_, p.cert);
    Put(key_, p.key);
    auto kp = ReloadingCertificate::Load({cert_, key_, ""}, check_every);
    EXPECT_TRUE(kp.ok()) << kp.status();
    return kp.ok() ? *std::move(kp) : nullptr;
  }

  // The subject an SSL connection would be shown.
  static std::string Shown(ReloadingCertificate& kp) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL* ssl = SSL_new(ctx);
    std::string cn = "<refused>";
    if (kp.ApplyTo(ssl)) {
      char buf[256];
      X509_NAME_oneline(X509_get_subject_name(SSL_get_certificate(ssl)), buf, sizeof buf);
      cn = buf;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return cn;
  }

  fs::path dir_;
  std::string cert_, key_;
};

TEST_F(TlsFilesTest, BadFilesFailTheLoadSayingWhich) {
  const PemPair a = MakeCertificate("a"), b = MakeCertificate("b");
  auto missing = ReloadingCertificate::Load({cert_, key_, ""}, absl::Seconds(60));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("server.pem cannot be read"), std::string::npos)
      << missing.status();
  Put(cert_, "not a certificate");
  Put(key_, a.key);
  auto not_pem = CheckTlsFiles({cert_, key_, ""});
  EXPECT_NE(not_pem.message().find("holds no PEM certificate"), std::string::npos) << not_pem;
  Put(cert_, a.cert);
  Put(key_, b.key);
  auto mismatch = CheckTlsFiles({cert_, key_, ""});
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("is not the key of the certificate"), std::string::npos) << mismatch;
  Put(key_, a.key);
  EXPECT_TRUE(CheckTlsFiles({cert_, key_, ""}).ok());
}

TEST_F(TlsFilesTest, ARenewalIsTakenAndABrokenOneKeepsThePairInUse) {
  const PemPair b = MakeCertificate("second");
  auto kp = LoadPair(MakeCertificate("first"), absl::Hours(1));
  ASSERT_NE(kp, nullptr);
  EXPECT_EQ(Shown(*kp), "/CN=first");
  EXPECT_TRUE(kp->ReloadNow().ok());  // nothing changed

  // Half a renewal: the new certificate beside the old key.
  Put(cert_, b.cert);
  absl::Status s = kp->ReloadNow();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/CN=first"), std::string::npos) << s;  // says what stays
  EXPECT_EQ(Shown(*kp), "/CN=first");

  // The check interval (an hour) has not passed: a handshake does not look.
  Put(key_, b.key);
  EXPECT_EQ(Shown(*kp), "/CN=first");
  EXPECT_TRUE(kp->ReloadNow().ok());
  EXPECT_EQ(Shown(*kp), "/CN=second");
  EXPECT_NE(kp->subject().find("expires"), std::string::npos) << kp->subject();
  EXPECT_NEAR(kp->expires_unix(), absl::ToUnixSeconds(absl::Now()) + 3600, 60);  // MakePair's hour
}

TEST_F(TlsFilesTest, AHandshakeAfterTheIntervalTakesTheRenewal) {
  const PemPair b = MakeCertificate("second");
  auto kp = LoadPair(MakeCertificate("first"), absl::Milliseconds(50));
  ASSERT_NE(kp, nullptr);
  Put(cert_, b.cert);
  Put(key_, b.key);
  absl::SleepFor(absl::Milliseconds(60));
  EXPECT_EQ(Shown(*kp), "/CN=second");
}

TEST_F(TlsFilesTest, TheStagedCopyOnlyEverHoldsACheckedSetAndIsPrivate) {
  const PemPair a = MakeCertificate("first"), b = MakeCertificate("second");
  Put(cert_, a.cert);
  Put(key_, a.key);
  const std::string ca = (dir_ / "ca.pem").string();
  Put(ca, a.cert);
  auto staged = StagedTlsFiles::Start({cert_, key_, ca}, (dir_ / "copy").string(), absl::Hours(1), "the test");
  ASSERT_TRUE(staged.ok()) << staged.status();
  const TlsFiles copy = (*staged)->staged();
  auto text = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  auto mtime = [](const std::string& path) { return fs::last_write_time(path); };
  EXPECT_EQ(text(copy.cert_file), a.cert);
  EXPECT_EQ(text(copy.key_file), a.key);
  EXPECT_EQ(text(copy.ca_file), a.cert);
  EXPECT_EQ(fs::status(dir_ / "copy").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(copy.key_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const auto first_mtime = mtime(copy.cert_file);

  Put(cert_, b.cert);  // beside the old key: refused, the copy stays
  EXPECT_EQ((*staged)->CheckNow().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(text(copy.cert_file), a.cert);

  Put(key_, b.key);
  ASSERT_TRUE((*staged)->CheckNow().ok());
  EXPECT_EQ(text(copy.cert_file), b.cert);
  EXPECT_EQ(text(copy.key_file), b.key);
  // A later whole second, so a watcher comparing seconds sees the change.
  EXPECT_GE(mtime(copy.cert_file) - first_mtime, std::chrono::seconds(1));
  EXPECT_TRUE((*staged)->CheckNow().ok());  // nothing new
  EXPECT_EQ(text(copy.key_file), b.key);
  // The same contents written again are not a renewal: the copy stays.
  const auto second_mtime = mtime(copy.cert_file);
  Put(cert_, b.cert);
  EXPECT_TRUE((*staged)->CheckNow().ok());
  EXPECT_EQ(mtime(copy.cert_file), second_mtime);
}

}  // namespace
}  // namespace steward
