// The plugin through its public API, in both modes, against real Steward
// services: bans reach the cache and the directive callbacks, events reach
// the pipeline, submissions survive a stewardd restart without duplicates.
#include "steward/plugin.h"
#include "tests/common/fixtures.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "services/server/config.h"
#include "services/server/server.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"
#include "storage/store.h"
#include "tests/common/test_certs.h"

namespace steward {
namespace {

using Clock = std::chrono::steady_clock;

// A directory of the test's own (tests/common/fixtures.h), kept until the
// process ends: plugins and servers made from it may outlive the caller.
std::filesystem::path TempDir(const std::string& name) {
  static std::vector<std::unique_ptr<test::TempDir>> dirs;
  dirs.push_back(std::make_unique<test::TempDir>(name));
  return dirs.back()->path();
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls until `want` returns true for a directive or `seconds` pass.
bool PollFor(Plugin& p, const std::function<bool(const Directive&)>& want, int seconds = 10) {
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  bool found = false;
  while (!found && Clock::now() < end) {
    p.Poll([&](const Directive& d) { found = found || want(d); });
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return found;
}

bool WaitUntil(const std::function<bool()>& cond, int seconds = 10) {
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

std::unique_ptr<grpc::ClientContext> GmCtx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer tok-lead");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return ctx;
}

grpc::Status Sanction(const std::shared_ptr<grpc::Channel>& ch, const std::string& key, v1::SanctionType type,
                      const std::string& player) {
  v1::IssueSanctionRequest req;
  req.set_idempotency_key(key);
  auto* spec = req.mutable_spec();
  spec->set_type(type);
  spec->set_subject_id(player);
  spec->mutable_scope()->set_realm_id("eu1");
  spec->set_duration_ms(3600 * 1000);
  spec->set_reason("Test reason");
  spec->set_policy_code("cheating");
  v1::IssueSanctionResponse resp;
  return v1::ModerationService::NewStub(ch)->IssueSanction(GmCtx().get(), req, &resp);
}

PrincipalConfig Lead() {
  PrincipalConfig p;
  p.name = "lead";
  p.kind = PrincipalKind::kGm;
  p.role = Role::kLead;
  p.token_sha256 = Sha256Hex("tok-lead");
  return p;
}

// Embedded-mode options over a fresh directory, with a port and the lead
// GM (token tok-lead) configured.
Options EmbeddedOptions(const std::string& name) {
  auto dir = TempDir(name);
  {
    std::ofstream cfg(dir / "steward.toml");
    cfg << "[[principals]]\nname = \"lead\"\nkind = \"gm\"\nrole = \"lead\"\ntoken_sha256 = \""
        << Sha256Hex("tok-lead") << "\"\n";
  }
  Options o;
  o.mode = Options::Mode::kEmbedded;
  o.realm_id = "eu1";
  o.server_id = "eu1-s1";
  o.data_dir = (dir / "data").string();
  o.listen = "127.0.0.1:0";
  o.config_file = (dir / "steward.toml").string();
  return o;
}

TEST(PluginTest, EmbeddedModeHostsTheServicesAndServesGms) {
  Options o = EmbeddedOptions("embedded");
  std::unique_ptr<Plugin> p;
  Status s = Plugin::Create(o, &p);
  ASSERT_TRUE(s.ok()) << s.message;
  ASSERT_GT(p->listening_port(), 0);
  auto gm = grpc::CreateChannel("127.0.0.1:" + std::to_string(p->listening_port()), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));

  // A GM mutes a player through the port: the game hears it and the
  // cache answers at once.
  ASSERT_TRUE(Sanction(gm, "m1", v1::SANCTION_TYPE_MUTE, "p-1").ok());
  ASSERT_TRUE(PollFor(*p, [](const Directive& d) {
    return d.kind == Directive::Kind::kSanction && d.player_id == "p-1" && d.sanction_type == "mute";
  }));
  PlayerStatus st = p->CheckPlayer("p-1");
  EXPECT_TRUE(st.known);
  EXPECT_TRUE(st.can_login);
  EXPECT_FALSE(st.can_chat);
  EXPECT_EQ(st.reason, "Test reason");
  EXPECT_GT(st.remaining_ms, 0);

  // Events flow into the pipeline.
  for (int i = 0; i < 500; ++i) p->RecordEvent("kill", "p-2", 1, {}, "map", "forest");
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().events_sent >= 500; }));
  v1::PipelineStats ps;
  ASSERT_TRUE(WaitUntil([&] {
    ps.Clear();
    return v1::MonitoringService::NewStub(gm)->GetPipelineStats(GmCtx().get(), {}, &ps).ok() &&
           ps.accepted() >= 500;
  }));

  // What arrives is what was recorded: a chat line that fits the slot's
  // inline space and one that does not, each with its attribute, seen as an
  // alert's evidence.
  {
    v1::Rule r;
    r.set_name("raid finders");
    r.set_kind(v1::RULE_KIND_PATTERN);
    r.set_enabled(true);
    r.set_severity(v1::SEVERITY_WARNING);
    r.add_event_types("chat");
    r.add_group_by("player");
    r.set_pattern("raidfinder");
    r.set_threshold(2);
    v1::SaveRuleRequest save;
    *save.mutable_rule() = r;
    v1::SaveRuleResponse saved;
    ASSERT_TRUE(v1::MonitoringService::NewStub(gm)->SaveRule(GmCtx().get(), save, &saved).ok());
  }
  const std::string short_line = "join raidfinder";
  const std::string long_line(std::string(150, 'x') + " raidfinder at nine");
  p->RecordEvent("chat", "p-talk", 0, short_line, "channel", "world");
  p->RecordEvent("chat", "p-talk", 0, long_line, "channel", "trade");
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(WaitUntil([&] {
    alerts.Clear();
    return v1::MonitoringService::NewStub(gm)->ListAlerts(GmCtx().get(), {}, &alerts).ok() &&
           alerts.alerts_size() > 0 && alerts.alerts(0).samples_size() == 2;
  }));
  std::map<std::string, std::string> seen;  // text -> channel
  for (const auto& e : alerts.alerts(0).samples()) {
    EXPECT_EQ(e.type(), "chat");
    EXPECT_EQ(e.player_id(), "p-talk");
    ASSERT_EQ(e.attributes_size(), 1);
    EXPECT_EQ(e.attributes(0).key(), "channel");
    seen[e.text()] = e.attributes(0).value();
  }
  EXPECT_EQ(seen[short_line], "world");
  EXPECT_EQ(seen[long_line], "trade");

  // Oversized input is shed and counted, never thrown.
  uint64_t shed = p->GetStats().events_shed;
  p->RecordEvent(std::string(65, 't'), "p-2", 1);
  EXPECT_EQ(p->GetStats().events_shed, shed + 1);

  // A ticket, answered through Poll.
  TicketSubmission t;
  t.player_id = "p-2";
  t.category = "question";
  t.subject = "Where is the bank?";
  uint64_t req = p->SubmitTicket(t);
  uint64_t ticket = 0;
  ASSERT_TRUE(PollFor(*p, [&](const Directive& d) {
    if (d.kind != Directive::Kind::kRequestDone || d.request_id != req) return false;
    EXPECT_TRUE(d.status.ok()) << d.status.message;
    ticket = d.id;
    return true;
  }));
  EXPECT_GT(ticket, 0u);
  // A bad submission comes back with the server's reason.
  t.subject = "";
  req = p->SubmitTicket(t);
  ASSERT_TRUE(PollFor(*p, [&](const Directive& d) {
    return d.kind == Directive::Kind::kRequestDone && d.request_id == req &&
           d.status.code == StatusCode::kInvalidArgument;
  }));
  p.reset();
  std::filesystem::remove_all(std::filesystem::path(o.data_dir).parent_path());
}

TEST(PluginTest, RemoteModeSurvivesAStewarddRestart) {
  auto dir = TempDir("remote");
  const int port = FreePort();
  Config config;
  config.listen = "127.0.0.1:" + std::to_string(port);
  PrincipalConfig gs;
  gs.name = "gs";
  gs.kind = PrincipalKind::kGameServer;
  gs.realm = "eu1";
  gs.token_sha256 = Sha256Hex("tok-gs");
  config.principals = {Lead(), gs};
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<StewardServer> server;
  auto start = [&] {
    store = *storage::Store::Open({.path = (dir / "data").string()});
    auto s = StewardServer::Start(config, store.get());
    ASSERT_TRUE(s.ok()) << s.status();
    server = *std::move(s);
  };
  auto stop = [&] {
    server.reset();
    store.reset();
  };
  start();
  auto gm = grpc::CreateChannel(config.listen, grpc::InsecureChannelCredentials());
  // Banned before the plugin starts: not in its cache yet.
  ASSERT_TRUE(Sanction(gm, "b0", v1::SANCTION_TYPE_TEMP_BAN, "p-early").ok());

  Options o;
  o.realm_id = "eu1";
  o.server_id = "eu1-s7";
  o.address = config.listen;
  o.token = "tok-gs";
  o.reconnect_max_ms = 300;
  std::unique_ptr<Plugin> p;
  ASSERT_TRUE(Plugin::Create(o, &p).ok());
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));

  // Unknown at first: allowed, looked up, then kicked when found banned.
  EXPECT_TRUE(p->CheckPlayer("p-early").can_login);
  ASSERT_TRUE(PollFor(*p, [](const Directive& d) {
    return d.kind == Directive::Kind::kKick && d.player_id == "p-early";
  }));
  EXPECT_FALSE(p->CheckPlayer("p-early").can_login);

  // A ban while connected arrives as a kick and is in the cache.
  ASSERT_TRUE(Sanction(gm, "b1", v1::SANCTION_TYPE_TEMP_BAN, "p-2").ok());
  ASSERT_TRUE(PollFor(*p, [](const Directive& d) {
    return d.kind == Directive::Kind::kKick && d.player_id == "p-2" && d.sanction_type == "temp_ban";
  }));
  PlayerStatus st = p->CheckPlayer("p-2");
  EXPECT_FALSE(st.can_login);
  EXPECT_TRUE(st.appealable);

  // stewardd goes away; the game carries on.
  stop();
  TicketSubmission t;
  t.player_id = "p-5";
  t.category = "complaint";
  t.subject = "Lost my sword";
  uint64_t req = p->SubmitTicket(t);
  for (int i = 0; i < 50; ++i) p->RecordEvent("gold_gain", "p-5", 10);
  EXPECT_FALSE(p->CheckPlayer("p-2").can_login);  // still answered from the cache
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  start();

  // The ticket goes through once, the events arrive, the directive stream
  // resumes.
  uint64_t ticket = 0;
  ASSERT_TRUE(PollFor(*p, [&](const Directive& d) {
    if (d.kind != Directive::Kind::kRequestDone || d.request_id != req) return false;
    EXPECT_TRUE(d.status.ok()) << d.status.message;
    ticket = d.id;
    return true;
  }, 20));
  EXPECT_GT(ticket, 0u);
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().events_sent >= 50; }, 20));
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }, 20));
  ASSERT_TRUE(Sanction(gm, "m3", v1::SANCTION_TYPE_MUTE, "p-3").ok());
  ASSERT_TRUE(PollFor(*p, [](const Directive& d) {
    return d.kind == Directive::Kind::kSanction && d.player_id == "p-3";
  }, 20));
  EXPECT_GE(p->GetStats().reconnects, 1u);
  v1::ListTicketsRequest lr;
  v1::ListTicketsResponse tickets;
  ASSERT_TRUE(v1::TicketService::NewStub(gm)->ListTickets(GmCtx().get(), lr, &tickets).ok());
  EXPECT_EQ(tickets.tickets_size(), 1);
  p.reset();
  stop();
  std::filesystem::remove_all(dir);
}

// A stewardd over TLS on a free port, with the game server token "tok-gs"
// of realm eu1, restartable; its certificate files are in `dir`, written
// with Put (renamed into place, as an operator should).
struct TlsStewardd {
  explicit TlsStewardd(const std::string& name) : dir(TempDir(name)) {
    config.listen = "127.0.0.1:" + std::to_string(FreePort());
    config.data_dir = (dir / "data").string();
    config.tls.cert_file = (dir / "server.pem").string();
    config.tls.key_file = (dir / "server.key").string();
    PrincipalConfig gs;
    gs.name = "gs";
    gs.kind = PrincipalKind::kGameServer;
    gs.realm = "eu1";
    gs.token_sha256 = Sha256Hex("tok-gs");
    config.principals = {gs};
  }
  ~TlsStewardd() {
    Stop();
    std::filesystem::remove_all(dir);
  }
  std::string Put(const std::string& name, const std::string& text) {
    std::ofstream(dir / (name + ".new")) << text;
    std::filesystem::rename(dir / (name + ".new"), dir / name);
    return (dir / name).string();
  }
  void Serve(const test_certs::PemPair& cert) {
    Put("server.pem", cert.cert);
    Put("server.key", cert.key);
    store = *storage::Store::Open({.path = config.data_dir});
    auto s = StewardServer::Start(config, store.get());
    ASSERT_TRUE(s.ok()) << s.status();
    server = *std::move(s);
  }
  void Stop() {
    server.reset();
    store.reset();
  }
  // Stops, lets a plugin with tls_refresh_seconds = 1 look at its files
  // again, and serves `cert`: the plugin must make a new handshake.
  void Restart(const test_certs::PemPair& cert, std::chrono::milliseconds pause) {
    Stop();
    std::this_thread::sleep_for(pause);
    Serve(cert);
  }
  // Remote-mode options for game server eu1-s9 trusting `ca_file`.
  Options PluginOptions(const std::string& ca_file) const {
    Options o;
    o.realm_id = "eu1";
    o.server_id = "eu1-s9";
    o.address = config.listen;
    o.token = "tok-gs";
    o.tls_ca_file = ca_file;
    o.tls_refresh_seconds = 1;
    o.reconnect_max_ms = 300;
    return o;
  }

  std::filesystem::path dir;
  Config config;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<StewardServer> server;
};

// Over TLS, the plugin checks stewardd's certificate against its CA file
// and the address's host name, and reads the file again while running: a
// CA rotation (the game server's file replaced, then stewardd's
// certificate) needs no restart of the game server.
TEST(PluginTest, RemoteModeOverTlsFollowsACaRotationAndChecksTheHostName) {
  using test_certs::MakeCertificate;
  TlsStewardd s("tls");
  const auto first = MakeCertificate("steward-1", "IP:127.0.0.1");
  const auto second = MakeCertificate("steward-2", "IP:127.0.0.1");
  const auto elsewhere = MakeCertificate("steward-3", "DNS:elsewhere.example");
  s.Serve(first);
  Options o = s.PluginOptions(s.Put("trusted.pem", first.cert));  // the game server's CA file
  o.tls_refresh_seconds = 0;
  std::unique_ptr<Plugin> p;
  EXPECT_EQ(Plugin::Create(o, &p).code, StatusCode::kInvalidArgument);
  o.tls_refresh_seconds = 1;
  ASSERT_TRUE(Plugin::Create(o, &p).ok());
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));

  // The rotation: the game server's file first, then stewardd's
  // certificate (here with a restart, so the plugin must reconnect).
  s.Put("trusted.pem", second.cert);
  s.Restart(second, std::chrono::milliseconds(1500));  // the plugin's next look at its file
  EXPECT_TRUE(WaitUntil([&] { return p->GetStats().connected; }, 15))
      << "the plugin did not reconnect trusting its renewed CA file";

  // A certificate its CA file trusts but for another host name: refused.
  s.Put("trusted.pem", elsewhere.cert);
  s.Restart(elsewhere, std::chrono::milliseconds(1500));
  EXPECT_FALSE(WaitUntil([&] { return p->GetStats().connected; }, 3))
      << "a certificate for elsewhere.example was accepted for 127.0.0.1";
  p.reset();
}

// A stewardd that requires client certificates takes a plugin that
// presents one its client CA signed, and no other.
TEST(PluginTest, RemoteModePresentsAClientCertificateForMutualTls) {
  using test_certs::MakeCertificate;
  TlsStewardd s("mtls");
  const auto server = MakeCertificate("steward", "IP:127.0.0.1");
  const auto client = MakeCertificate("eu1-s9");
  s.config.tls.client_ca_file = s.Put("clients.pem", client.cert);
  s.Serve(server);
  Options o = s.PluginOptions(s.Put("trusted.pem", server.cert));
  std::unique_ptr<Plugin> p;
  o.tls_cert_file = s.Put("client.pem", client.cert);
  Options no_ca = o;
  no_ca.tls_ca_file.clear();
  EXPECT_EQ(Plugin::Create(no_ca, &p).code, StatusCode::kInvalidArgument);
  Options no_key = o;
  EXPECT_EQ(Plugin::Create(no_key, &p).code, StatusCode::kInvalidArgument);  // a certificate without its key
  Options wrong_key = o;
  wrong_key.tls_key_file = s.Put("server-copy.key", server.key);
  Status st = Plugin::Create(wrong_key, &p);
  EXPECT_EQ(st.code, StatusCode::kInvalidArgument);
  EXPECT_NE(st.message.find("is not the key of the certificate"), std::string::npos) << st.message;
  Options junk_ca = o;
  junk_ca.tls_ca_file = s.Put("junk.pem", "not a certificate");
  st = Plugin::Create(junk_ca, &p);
  EXPECT_EQ(st.code, StatusCode::kInvalidArgument);
  EXPECT_NE(st.message.find("holds no PEM certificate"), std::string::npos) << st.message;

  Options anonymous = o;
  anonymous.tls_cert_file.clear();
  ASSERT_TRUE(Plugin::Create(anonymous, &p).ok());
  EXPECT_FALSE(WaitUntil([&] { return p->GetStats().connected; }, 3))
      << "a plugin without a client certificate got through";
  p.reset();

  o.tls_key_file = s.Put("client.key", client.key);
  ASSERT_TRUE(Plugin::Create(o, &p).ok());
  EXPECT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));
  p.reset();
}

// A client certificate renewed file by file: the new certificate beside
// the old key is not taken (the pair in use keeps connecting), and the
// matching key completes the renewal. The plugin's checked copy is private
// and goes with it.
TEST(PluginTest, RemoteModeTakesARenewedClientCertificateOnlyAsAMatchingPair) {
  using test_certs::MakeCertificate;
  TlsStewardd s("mtls-renew");
  const auto server = MakeCertificate("steward", "IP:127.0.0.1");
  const auto first = MakeCertificate("eu1-s9");
  const auto second = MakeCertificate("eu1-s9-renewed");
  s.config.tls.client_ca_file = s.Put("clients.pem", first.cert + second.cert);
  s.Serve(server);
  Options o = s.PluginOptions(s.Put("trusted.pem", server.cert));
  o.tls_cert_file = s.Put("client.pem", first.cert);
  o.tls_key_file = s.Put("client.key", first.key);
  std::unique_ptr<Plugin> p;
  ASSERT_TRUE(Plugin::Create(o, &p).ok());
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));
  // The copy: the one private directory of the system's temporary
  // directory that holds this certificate.
  std::filesystem::path copy;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    if (e.path().filename().string().rfind("steward-tls-", 0) != 0) continue;
    std::ifstream in(e.path() / "copy" / "current" / "cert.pem");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text == first.cert) copy = e.path();
  }
  ASSERT_FALSE(copy.empty()) << "no private copy of the client certificate";
  EXPECT_EQ(std::filesystem::status(copy).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);

  // Half a renewal; a restart of stewardd makes the plugin handshake anew.
  s.Put("client.pem", second.cert);
  s.Restart(server, std::chrono::milliseconds(2500));  // two looks at the files
  EXPECT_TRUE(WaitUntil([&] { return p->GetStats().connected; }, 15))
      << "a new certificate beside the old key broke the plugin's handshakes";

  // The key follows. stewardd now trusts only the second certificate, so
  // connecting shows the renewed pair is the one in use.
  s.Put("client.key", second.key);
  s.config.tls.client_ca_file = s.Put("clients.pem", second.cert);
  s.Restart(server, std::chrono::milliseconds(2500));
  EXPECT_TRUE(WaitUntil([&] { return p->GetStats().connected; }, 15))
      << "the renewed pair was not taken";
  p.reset();
  EXPECT_FALSE(std::filesystem::exists(copy)) << "the private copy outlived the plugin";
}

// The cache keeps within its bound by dropping players with nothing in
// force first: a banned player stays known while clean ones come and go.
TEST(PluginTest, TheSanctionCacheIsBoundedAndKeepsWhatIsInForce) {
  Options o = EmbeddedOptions("bounded");
  o.cache_max_players = 10;
  std::unique_ptr<Plugin> p;
  ASSERT_TRUE(Plugin::Create(o, &p).ok());
  auto gm = grpc::CreateChannel("127.0.0.1:" + std::to_string(p->listening_port()), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WaitUntil([&] { return p->GetStats().connected; }));
  ASSERT_TRUE(Sanction(gm, "b1", v1::SANCTION_TYPE_TEMP_BAN, "p-bad").ok());
  ASSERT_TRUE(WaitUntil([&] {
    PlayerStatus st = p->CheckPlayer("p-bad");
    return st.known && !st.can_login;
  }));
  for (int i = 0; i < 40; ++i) {
    std::string player = "c-" + std::to_string(i);
    p->Prefetch(player);
    ASSERT_TRUE(WaitUntil([&] { return p->CheckPlayer(player).known; })) << player;
    EXPECT_LE(p->GetStats().cache_players, 10u);
  }
  Stats st = p->GetStats();
  EXPECT_GE(st.cache_evictions, 30u);
  PlayerStatus bad = p->CheckPlayer("p-bad");
  EXPECT_TRUE(bad.known);
  EXPECT_FALSE(bad.can_login);

  p.reset();
  o.cache_max_players = 0;
  std::unique_ptr<Plugin> q;
  EXPECT_EQ(Plugin::Create(o, &q).code, StatusCode::kInvalidArgument);
  std::filesystem::remove_all(std::filesystem::path(o.data_dir).parent_path());
}

TEST(PluginTest, BadOptionsAreAStatusNotACrash) {
  std::unique_ptr<Plugin> p;
  Options o;
  EXPECT_EQ(Plugin::Create(o, &p).code, StatusCode::kInvalidArgument);
  o.realm_id = "eu1";
  o.server_id = "s";
  EXPECT_EQ(Plugin::Create(o, &p).code, StatusCode::kInvalidArgument);  // remote without a token
  o.mode = Options::Mode::kEmbedded;
  o.data_dir = "/proc/not-a-place-for-data";
  Status s = Plugin::Create(o, &p);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(p, nullptr);
}

}  // namespace
}  // namespace steward
