#include <climits>
#include "services/server/config.h"

#include "gtest/gtest.h"
#include "services/common/validation.h"

namespace steward {
namespace {

const std::string kHash(64, 'a');

TEST(ConfigTest, ParsesPrincipalsAndTls) {
  auto c = ParseConfig(R"(
listen = "0.0.0.0:6000"
data_dir = "/tmp/x"
[tls]
cert_file = "c.pem"
key_file = "k.pem"
client_ca_file = "clients.pem"
crl_directory = "crl"
[[principals]]
name = "alice"
kind = "gm"
role = "lead"
token_sha256 = ")" + kHash + R"("
[[principals]]
name = "gs1"
kind = "game_server"
realm = "eu1"
server = "eu1-s1"
token_sha256 = ")" + std::string(64, 'b') + R"("
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "0.0.0.0:6000");
  EXPECT_EQ(c->tls.cert_file, "c.pem");
  EXPECT_EQ(c->tls.client_ca_file, "clients.pem");
  EXPECT_EQ(c->tls.crl_directory, "crl");
  ASSERT_EQ(c->principals.size(), 2u);
  EXPECT_EQ(c->principals[0].role, Role::kLead);
  EXPECT_EQ(c->principals[1].kind, PrincipalKind::kGameServer);
  EXPECT_EQ(c->principals[1].server, "eu1-s1");
}

TEST(ConfigTest, ErrorsNameTheProblem) {
  auto bad_role = ParseConfig("[[principals]]\nname='a'\nkind='gm'\nrole='boss'\ntoken_sha256='" + kHash + "'");
  ASSERT_FALSE(bad_role.ok());
  EXPECT_NE(bad_role.status().message().find("principals[0].role"), std::string::npos);
  auto no_realm = ParseConfig("[[principals]]\nname='a'\nkind='game_server'\ntoken_sha256='" + kHash + "'");
  EXPECT_NE(no_realm.status().message().find("realm"), std::string::npos);
  auto short_hash = ParseConfig("[[principals]]\nname='a'\nkind='gm'\nrole='admin'\ntoken_sha256='abc'");
  EXPECT_NE(short_hash.status().message().find("token_sha256"), std::string::npos);
  auto syntax = ParseConfig("listen = ");
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("line"), std::string::npos);
}

TEST(ConfigTest, ReportsAndVipSections) {
  auto c = ParseConfig(R"(
[reports]
reports_per_hour = 5
escalation_threshold = 2.5
window_minutes = 30
custom_categories = ["griefing", "ghosting"]
[vip]
downgrade_grace_days = 7
churn_threshold = 0.5
[[vip.tiers]]
name = "bronze"
rolling_30d_spend = 20
callback_hours = 96
ticket_priority = "normal"
[[vip.tiers]]
name = "diamond"
lifetime_spend = 10000.50
ticket_priority = "urgent"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reports.reports_per_hour, 5);
  EXPECT_DOUBLE_EQ(c->reports.escalation_threshold, 2.5);
  EXPECT_EQ(c->reports.window_minutes, 30);
  EXPECT_EQ(c->reports.custom_categories.size(), 2u);
  EXPECT_EQ(c->vip.downgrade_grace_days, 7);
  ASSERT_EQ(c->vip.tiers.size(), 2u);
  EXPECT_EQ(c->vip.tiers[0].rolling_30d_cents, 2000);
  EXPECT_EQ(c->vip.tiers[0].lifetime_cents, INT64_MAX);  // not by lifetime
  EXPECT_EQ(c->vip.tiers[1].lifetime_cents, 1000050);
  EXPECT_EQ(c->vip.tiers[1].callback_hours, 72);

  auto bad = ParseConfig("[reports]\nreports_per_hour = 0");
  EXPECT_NE(bad.status().message().find("reports.reports_per_hour"), std::string::npos);
  bad = ParseConfig("[[vip.tiers]]\nname = 'x'");
  EXPECT_NE(bad.status().message().find("vip.tiers[0]"), std::string::npos);
  bad = ParseConfig("[[vip.tiers]]\nname = 'x'\nlifetime_spend = 5\nticket_priority = 'asap'");
  EXPECT_NE(bad.status().message().find("ticket_priority"), std::string::npos);
}

TEST(ConfigTest, DirectiveRetention) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->directives.retention_hours, 24 * 7);
  c = ParseConfig("[directives]\nretention_hours = 48");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->directives.retention_hours, 48);
  auto bad = ParseConfig("[directives]\nretention_hours = 0");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("directives.retention_hours"), std::string::npos);
  EXPECT_EQ(ParseConfig("")->idempotency.keep_hours, 24 * 7);
  EXPECT_EQ(ParseConfig("[idempotency]\nkeep_hours = 24")->idempotency.keep_hours, 24);
  bad = ParseConfig("[idempotency]\nkeep_hours = -1");
  EXPECT_NE(bad.status().message().find("idempotency.keep_hours"), std::string::npos) << bad.status();
}

TEST(ConfigTest, MonitoringCheckpointAndMetricsTls) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->monitoring.checkpoint_seconds, 300);
  c = ParseConfig("[monitoring]\ncheckpoint_seconds = 0");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->monitoring.checkpoint_seconds, 0);
  EXPECT_EQ(c->monitoring.queue_items, 65536);
  EXPECT_EQ(ParseConfig("[monitoring]\nqueue_items = 16384")->monitoring.queue_items, 16384);
  EXPECT_NE(ParseConfig("[monitoring]\nqueue_items = 10").status().message().find("monitoring.queue_items"),
            std::string::npos);
  auto bad = ParseConfig("[monitoring]\ncheckpoint_seconds = -5");
  EXPECT_NE(bad.status().message().find("monitoring.checkpoint_seconds"), std::string::npos) << bad.status();
  c = ParseConfig("[metrics]\nlisten = '127.0.0.1:9464'\ncert_file = 'm.pem'\nkey_file = 'm.key'");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics.cert_file, "m.pem");
  EXPECT_EQ(c->metrics.key_file, "m.key");
  bad = ParseConfig("[metrics]\nlisten = '127.0.0.1:9464'\ncert_file = 'm.pem'");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("metrics.key_file"), std::string::npos) << bad.status();
  EXPECT_EQ(ParseConfig("")->tls.refresh_seconds, 60);
  EXPECT_EQ(ParseConfig("[tls]\nrefresh_seconds = 5")->tls.refresh_seconds, 5);
  bad = ParseConfig("[tls]\nrefresh_seconds = 0");
  EXPECT_NE(bad.status().message().find("tls.refresh_seconds"), std::string::npos) << bad.status();
}

TEST(ConfigTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xe6\x97\xa5\xe6\x9c\xac"));      // 日本
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x8e\xae"));              // 🎮
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                     // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                 // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe6\x97"));                     // truncated
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(ValidationTest, TextAndIdChecksNameTheField) {
  auto s = CheckText("subject", std::string(300, 'x'), 1, kMaxSubjectLen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("subject"), std::string::npos);
  EXPECT_EQ(CheckText("body", "", 1, 10).message(), "body is required");
  EXPECT_FALSE(CheckText("body", std::string("a\0b", 3), 0, 10).ok());
  EXPECT_TRUE(CheckText("body", "line1\nline2", 0, 20).ok());
  EXPECT_FALSE(CheckId("player", "has space", true).ok());
  EXPECT_TRUE(CheckId("player", "", false).ok());
}

}  // namespace
}  // namespace steward

namespace steward {
namespace {

TEST(ConfigTest, AttachmentTypesAreMediaTypePatterns) {
  auto c = ParseConfig("[reports]\nattachment_types = ['image/*', 'text/plain', 'application/x-dmp']\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reports.attachment_types,
            (std::vector<std::string>{"image/*", "text/plain", "application/x-dmp"}));
  auto bad = ParseConfig("[reports]\nattachment_types = ['images']\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("reports.attachment_types entry 'images'"), std::string::npos)
      << bad.status();
}

}  // namespace
}  // namespace steward
