#include "services/transport/tls_files.h"

#include <openssl/ssl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include "gtest/gtest.h"
#include "tests/common/fixtures.h"
#include "services/server/config.h"
#include "services/server/server.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "storage/store.h"
#include "tests/common/test_certs.h"

namespace steward {
namespace {

namespace fs = std::filesystem;

using steward::test_certs::MakeCertificate;
using steward::test_certs::PemPair;

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<test::TempDir>();
    dir_ = tmp_->path();
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

  // A server pair in the files, a client CA in clients.pem and, in crl/,
  // its CRL `crl` under the name OpenSSL looks it up by.
  struct CrlFiles {
    std::string clients, crl_file;
    fs::path crls;
  };
  CrlFiles PutCrlSetup(const PemPair& server, const PemPair& ca, const std::string& crl) {
    Put(cert_, server.cert);
    Put(key_, server.key);
    CrlFiles f{(dir_ / "clients.pem").string(), "", dir_ / "crl"};
    Put(f.clients, ca.cert);
    fs::create_directories(f.crls);
    f.crl_file = (f.crls / test_certs::CrlFileName(ca)).string();
    Put(f.crl_file, crl);
    return f;
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

  std::unique_ptr<test::TempDir> tmp_;
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

// The staged copy holds the CRLs that were checked, marks each new set in
// the CA file it gives gRPC, and says once when the CRL in use expires.
TEST_F(TlsFilesTest, StagedCrlsAreCheckedMarkedAndTheirExpiryIsReported) {
  using test_certs::MakeCa;
  using test_certs::MakeCrl;
  const PemPair ca = MakeCa("game servers");
  const std::string short_lived = MakeCrl(ca, {7}, 2);
  const auto [clients, crl_file, crls] = PutCrlSetup(MakeCertificate("steward"), ca, short_lived);
  auto staged = StagedTlsFiles::Start({cert_, key_, clients, crls.string()}, (dir_ / "copy").string(),
                                      absl::Hours(1), "the test");
  ASSERT_TRUE(staged.ok()) << staged.status();
  const TlsFiles copy = (*staged)->staged();
  auto text = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(text((fs::path(copy.crl_directory) / test_certs::CrlFileName(ca)).string()), short_lived);
  EXPECT_EQ(text(copy.ca_file), "# CRL set 1\n" + ca.cert);
  EXPECT_NEAR((*staged)->crl_next_update_unix(), absl::ToUnixSeconds(absl::Now()) + 2, 2);

  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  testing::internal::CaptureStderr();
  EXPECT_TRUE((*staged)->CheckNow().ok());
  EXPECT_TRUE((*staged)->CheckNow().ok());
  const std::string logged = testing::internal::GetCapturedStderr();
  size_t reports = 0;
  for (size_t at = logged.find("past its next update"); at != std::string::npos;
       at = logged.find("past its next update", at + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 1u) << logged;
  auto again = StagedTlsFiles::Start({cert_, key_, clients, crls.string()}, (dir_ / "copy2").string(),
                                     absl::Hours(1), "the test");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("is past its next update"), std::string::npos) << again.status();

  const std::string fresh = MakeCrl(ca, {7, 8});
  Put(crl_file, fresh);
  ASSERT_TRUE((*staged)->CheckNow().ok());
  EXPECT_EQ(text((fs::path(copy.crl_directory) / test_certs::CrlFileName(ca)).string()), fresh);
  EXPECT_EQ(text(copy.ca_file), "# CRL set 2\n" + ca.cert);
  EXPECT_NEAR((*staged)->crl_next_update_unix(), absl::ToUnixSeconds(absl::Now()) + 3600, 5);

  // A second client CA without a CRL is not taken: its clients would all
  // be refused. Once its CRL is there, both are.
  const PemPair ca2 = MakeCa("partner servers");
  Put(clients, ca.cert + ca2.cert);
  absl::Status refused = (*staged)->CheckNow();
  EXPECT_NE(refused.message().find("the CRLs do not cover it"), std::string::npos) << refused;
  EXPECT_EQ(text(copy.ca_file), "# CRL set 2\n" + ca.cert);
  const std::string crl2 = MakeCrl(ca2, {});
  Put((crls / test_certs::CrlFileName(ca2)).string(), crl2);
  ASSERT_TRUE((*staged)->CheckNow().ok());
  EXPECT_EQ(text(copy.ca_file), "# CRL set 3\n" + ca.cert + ca2.cert);
  EXPECT_EQ(text((fs::path(copy.crl_directory) / test_certs::CrlFileName(ca2)).string()), crl2);
  EXPECT_EQ(text((fs::path(copy.crl_directory) / test_certs::CrlFileName(ca)).string()), fresh);
}

// With tls.crl_directory, a client certificate its CA revokes is refused
// from the next connection, with no restart; a directory that would lock
// every client out is refused at start.
TEST_F(TlsFilesTest, ARevokedClientCertificateIsRefusedFromTheNextConnection) {
  using test_certs::MakeCa;
  using test_certs::MakeCrl;
  using test_certs::MakeSignedCertificate;
  const PemPair ca = MakeCa("game servers");
  const PemPair kept = MakeSignedCertificate(ca, "eu1-s1", 11);
  const PemPair revoked = MakeSignedCertificate(ca, "eu1-s2", 12);
  const PemPair server = MakeCertificate("steward", "IP:127.0.0.1");
  const auto [clients, crl_file, crls] = PutCrlSetup(server, ca, MakeCrl(ca, {}));

  Config config;
  config.listen = "127.0.0.1:0";
  config.data_dir = (dir_ / "data").string();
  config.tls = {cert_, key_, clients, crls.string()};
  config.tls.refresh_seconds = 1;
  config.metrics.listen = "127.0.0.1:0";
  config.metrics.token_sha256 = Sha256Hex("scrape");
  auto store = storage::Store::Open({.path = config.data_dir});
  ASSERT_TRUE(store.ok()) << store.status();
  auto started = StewardServer::Start(config, store->get());
  ASSERT_TRUE(started.ok()) << started.status();
  const std::string addr = "127.0.0.1:" + std::to_string((*started)->port());
  // A call on a new connection: UNAUTHENTICATED (no token) once the
  // handshake took the certificate, UNAVAILABLE if it was refused.
  auto call_as = [&](const PemPair& client) {
    grpc::SslCredentialsOptions o{server.cert, client.key, client.cert};
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::ModerationService::NewStub(grpc::CreateCustomChannel(addr, grpc::SslCredentials(o), args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::CheckPlayerRequest req;
    v1::PlayerStatus resp;
    return stub->CheckPlayer(&ctx, req, &resp).error_code();
  };
  EXPECT_EQ(call_as(kept), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call_as(revoked), grpc::StatusCode::UNAUTHENTICATED);
  // The CRL's next update (an hour from its making) is there to alert on.
  auto crl_due = [&] {
    httplib::Client http("127.0.0.1", (*started)->metrics_port());
    auto res = http.Get("/metrics", {{"Authorization", "Bearer scrape"}});
    const std::string series = "steward_tls_crl_next_update_timestamp_seconds{listener=\"grpc\"} ";
    size_t at = res ? res->body.find(series) : std::string::npos;
    return at == std::string::npos ? -1.0 : std::atof(res->body.c_str() + at + series.size());
  };
  const double due = crl_due();
  EXPECT_NEAR(due, absl::ToUnixSeconds(absl::Now()) + 3600, 120);
  Put(crl_file, MakeCrl(ca, {12}, 7200));
  // The next check (each second here) and gRPC's next look at the copy.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(call_as(revoked), grpc::StatusCode::UNAVAILABLE) << "a revoked certificate got through";
  EXPECT_EQ(call_as(kept), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NEAR(crl_due(), due + 3600, 120);  // the new CRL's
  // A broken CRL is not taken: the ones in use stay.
  Put(crl_file, "not a CRL");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(call_as(revoked), grpc::StatusCode::UNAVAILABLE) << "a broken CRL undid the revocation";
  EXPECT_EQ(call_as(kept), grpc::StatusCode::UNAUTHENTICATED) << "a broken CRL locked clients out";
  started->reset();

  // Refused at start, saying why.
  auto expect_refused = [&](const TlsConfig& tls, const std::string& why) {
    Config c = config;
    c.tls = tls;
    auto s = StewardServer::Start(c, store->get());
    ASSERT_FALSE(s.ok()) << "started with tls.crl_directory " << tls.crl_directory;
    EXPECT_NE(s.status().message().find(why), std::string::npos) << s.status();
  };
  const fs::path empty = dir_ / "empty";
  fs::create_directories(empty);
  expect_refused({cert_, key_, clients, empty.string()}, "has no CRL of client CA");
  const fs::path foreign = dir_ / "foreign";
  fs::create_directories(foreign);
  Put((foreign / test_certs::CrlFileName(ca)).string(), MakeCrl(MakeCa("game servers"), {}));
  expect_refused({cert_, key_, clients, foreign.string()}, "is not signed by client CA");
  expect_refused({cert_, key_, "", crls.string()}, "needs tls.client_ca_file");
  expect_refused({cert_, key_, clients, (dir_ / "missing").string()}, "is not a directory");
}

}  // namespace
}  // namespace steward
