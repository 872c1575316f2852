#include "services/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/audit/audit.h"
#include "services/transport/auth.h"
#include "services/transport/call_metrics.h"
#include "services/transport/grpc_status.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"
#include "services/server/metrics.h"
#include "services/server/options.h"
#include "services/console/console.h"
#include "services/audit/audit_grpc.h"
#include "services/desk/desk_grpc.h"
#include "services/incidents/incidents_grpc.h"
#include "services/operations/operations_grpc.h"
#include "services/gameservers/gameservers_grpc.h"
#include "services/moderation/moderation_grpc.h"
#include "services/reports/report_grpc.h"
#include "services/tickets/ticket_grpc.h"
#include "services/vip/vip_grpc.h"
#include "services/monitoring/monitoring_grpc.h"
#include "services/transport/reactors.h"
#include "services/tickets/tickets.h"
#include "services/transport/tls_files.h"
#include "services/common/validation.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward {
namespace {

// Plaintext without a certificate; otherwise TLS from a private copy of
// the files that is renewed when they are (tls_files.h), kept in *staged,
// which must outlive the server.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const TlsConfig& tls, const std::string& data_dir, std::unique_ptr<StagedTlsFiles>* staged) {
  if (!tls.crl_directory.empty() && tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError("tls.crl_directory needs tls.client_ca_file (it revokes client certificates)");
  }
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError("tls.client_ca_file needs tls.cert_file and tls.key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both tls.cert_file and tls.key_file");
  }
  auto files = StagedTlsFiles::Start({tls.cert_file, tls.key_file, tls.client_ca_file, tls.crl_directory},
                                     (std::filesystem::path(data_dir) / "tls-in-use").string(),
                                     absl::Seconds(tls.refresh_seconds), "the gRPC port");
  if (!files.ok()) return files.status();
  *staged = *std::move(files);
  const TlsFiles& copy = (*staged)->staged();
  namespace gx = grpc::experimental;
  // The provider re-reads the copy every second: it changes only when a
  // checked renewal is switched in, so this is the delay after the check.
  auto provider = std::make_shared<gx::FileWatcherCertificateProvider>(copy.key_file, copy.cert_file,
                                                                       copy.ca_file, 1);
  gx::TlsServerCredentialsOptions opts(provider);
  opts.watch_identity_key_cert_pairs();
  if (tls.client_ca_file.empty()) {
    opts.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    opts.watch_root_certs();
    opts.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    // The staged copy of the CRLs (tls_files.h: a new set makes gRPC build
    // a TLS context that reads it).
    if (!copy.crl_directory.empty()) opts.set_crl_directory(copy.crl_directory);
  }
  return gx::TlsServerCredentials(opts);
}

}  // namespace

struct StewardServer::Rep {
  storage::Store* store;
  CallMetrics call_metrics;  // outlives the server that counts into it
  Authenticator auth;
  SlowLane slow;  // heavy reads; outlives the services that queue on it
  DirectiveHub hub;
  Tickets tickets;
  Moderation moderation;
  GameServers game_servers;
  Announcements announcements;
  Reports reports;
  VipCare vip;
  Monitoring monitoring;
  Knowledge knowledge;
  Incidents incidents;
  Compensation compensation;
  Desk desk;
  BackupDesk backups;
  IdempotencyExpiry idempotency;
  std::unique_ptr<grpc::Service> ticket_service;
  std::unique_ptr<grpc::Service> audit_service;
  std::unique_ptr<grpc::Service> moderation_service;
  std::unique_ptr<grpc::Service> game_server_service;
  std::unique_ptr<grpc::Service> announcement_service;
  std::unique_ptr<grpc::Service> report_service;
  std::unique_ptr<grpc::Service> vip_service;
  std::unique_ptr<grpc::Service> event_service;
  std::unique_ptr<grpc::Service> monitoring_service;
  std::unique_ptr<grpc::Service> knowledge_service;
  std::unique_ptr<grpc::Service> desk_service;
  std::unique_ptr<grpc::Service> incident_service;
  std::unique_ptr<grpc::Service> compensation_service;
  std::unique_ptr<grpc::Service> admin_service;
  std::unique_ptr<StagedTlsFiles> tls_files;  // the server's TLS reads them
  std::shared_ptr<ReloadingCertificate> metrics_cert;  // set before the endpoint starts
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<MetricsEndpoint> metrics;  // first to go: it reads all the above
  std::unique_ptr<Console> console;          // calls the server over its in-process channel
  int port = 0;
  bool stopped = false;
  const Clock* clock;

  Rep(const Config& config, storage::Store* store, const Clock* clock)
      : store(store),
        auth(config.principals),
        hub(store, clock),
        tickets(store, &auth, &hub, WithClock(TicketsOptionsFrom(config.desk), clock)),
        moderation(store, &hub, WithClock(ModerationOptions{}, clock)),
        game_servers(store, &hub, clock),
        announcements(store, &hub, &game_servers, clock),
        reports(store, &hub, WithClock(ReportOptionsFrom(config.reports), clock)),
        vip(store, &auth, WithClock(VipOptionsFrom(config.vip), clock)),
        monitoring(store, &moderation, &reports, MonitoringOptionsFrom(config.monitoring, clock)),
        knowledge(store, clock),
        incidents(store, &tickets, &hub, WithClock(IncidentsOptionsFrom(config.incidents), clock)),
        compensation(store, &hub, &incidents, WithClock(CompensationOptionsFrom(config.compensation), clock)),
        desk(store, &tickets, &vip, WithClock(DeskOptionsFrom(config.desk), clock)),
        backups(store, WithClock(BackupOptionsFrom(config.backup), clock)),
        idempotency(store, int64_t{config.idempotency.keep_hours} * 3600 * 1000, clock),
        ticket_service(MakeTicketService(&auth, &tickets)),
        audit_service(MakeAuditService(&auth, store, &slow)),
        moderation_service(MakeModerationService(&auth, &moderation)),
        game_server_service(MakeGameServerService(&auth, &game_servers, &hub)),
        announcement_service(MakeAnnouncementService(&auth, &announcements)),
        report_service(MakeReportService(&auth, &reports)),
        vip_service(MakeVipService(&auth, &vip)),
        event_service(MakeEventService(&auth, &monitoring)),
        monitoring_service(MakeMonitoringService(&auth, &monitoring)),
        knowledge_service(MakeKnowledgeService(&auth, &knowledge)),
        desk_service(MakeDeskService(&auth, &desk, &slow)),
        incident_service(MakeIncidentService(&auth, &incidents)),
        compensation_service(MakeCompensationService(&auth, &compensation)),
        admin_service(MakeAdminService(&auth, &backups, &slow)),
        clock(clock) {
    tickets.set_vip(&vip, vip.TierLimits());
    tickets.add_hooks(&incidents);
    desk.set_incidents(&incidents);
    incidents.set_on_suggested([this](const v1::Incident& inc) {
      v1::Alert a;
      a.set_rule_name("incident-detector");
      a.set_severity(v1::SEVERITY_WARNING);
      a.set_key(absl::StrCat("incident=", inc.id(), "|realm=", inc.filter().realm_id()));
      a.set_realm_id(inc.filter().realm_id());
      a.set_value(inc.linked());
      a.set_window_start_ms(inc.filter().from_ms());
      a.set_window_end_ms(inc.created_at_ms());
      a.set_action_taken(absl::StrCat("incident/", inc.id(), " suggested: ", inc.suggested_reason()));
      monitoring.RaiseDeskAlert(std::move(a));
    });
    compensation.set_acked_seq_lookup([this](absl::string_view realm) { return game_servers.AckedSeq(realm, ""); });
    vip.set_sources(&tickets, &moderation);
    monitoring.set_vip_hook([this](const Caller& c, const EventView& e) { vip.RecordEvent(c, e); });
    tickets.set_acked_seq_lookup([this](absl::string_view realm, absl::string_view server) {
      return game_servers.AckedSeq(realm, server);
    });
    game_servers.set_heartbeat_hook([this](absl::string_view realm, absl::string_view server,
                                           int64_t players) {
      monitoring.Heartbeat(realm, server, players);
    });
  }

  std::string RenderMetrics() const {
    MetricsText out;
    using T = MetricsText::Type;
    call_metrics.Render(&out);
    monitoring.AppendMetrics(&out);
    backups.AppendMetrics(&out);
    if (absl::Status s = game_servers.AppendMetrics(&out); !s.ok()) {
      LogWarning("metrics: game servers left out: ", s.message());
    }
    if (tls_files != nullptr || metrics_cert != nullptr) {
      out.Family("steward_tls_certificate_expiry_timestamp_seconds", T::kGauge,
                 "When the certificate each listener presents expires (Unix seconds).");
      auto expiry = [&](const ReloadingCertificate& c, absl::string_view listener) {
        out.Sample(static_cast<double>(c.expires_unix()), {{"listener", listener}});
      };
      if (tls_files != nullptr) expiry(tls_files->source(), "grpc");
      if (metrics_cert != nullptr) expiry(*metrics_cert, "metrics");
    }
    if (tls_files != nullptr && tls_files->crl_next_update_unix() != 0) {
      out.Family("steward_tls_crl_next_update_timestamp_seconds", T::kGauge,
                 "When the first client-certificate CRL in use must be replaced (its next update, Unix "
                 "seconds); after it, every client certificate of that CA is refused.");
      out.Sample(static_cast<double>(tls_files->crl_next_update_unix()), {{"listener", "grpc"}});
    }
    out.Family("steward_sanction_index_entries", T::kGauge,
               "Sanctions in the in-memory index CheckPlayer reads (expired ones until pruned).");
    out.Sample(static_cast<uint64_t>(moderation.index().size()));
    storage::StoreStats st = store->stats();
    out.Family("steward_dropped_statuses_total", T::kCounter,
               "Errors dropped on purpose (STEWARD_DROP_STATUS), e.g. a background round retried later.");
    out.Sample(dropped_statuses.load(std::memory_order_relaxed));
    out.Family("steward_store_transactions_total", T::kCounter, "Transactions committed to RocksDB.");
    out.Sample(st.transactions);
    out.Family("steward_store_wal_syncs_total", T::kCounter,
               "Write-ahead-log syncs (each makes a group of transactions durable).");
    out.Sample(st.groups);
    out.Family("steward_store_pending_bytes", T::kGauge,
               "Writes queued or waiting for their sync, by their estimated size ([store] max_pending_mib bounds it).");
    out.Sample(st.pending_bytes);
    out.Family("steward_store_write_failures_total", T::kCounter,
               "Group writes RocksDB refused (each failed its transactions; see the log).");
    out.Sample(st.write_failures);
    out.Family("steward_store_wal_sync_failures_total", T::kCounter,
               "WAL syncs that failed: their writes were answered with an error, not acknowledged.");
    out.Sample(st.sync_failures);
    out.Family("steward_ticket_sla_breaches_total", T::kCounter,
               "Ticket time limits (dispatch or answer) breached since start; each escalates its ticket.");
    out.Sample(tickets.sla_breaches());
    out.Family("steward_store_refused_writes_total", T::kCounter,
               "Writes refused with RESOURCE_EXHAUSTED because too much was already waiting for the disk.");
    out.Sample(st.refused_writes);
    out.Family("steward_store_live_data_bytes", T::kGauge, "RocksDB's estimate of live data.");
    out.Sample(st.live_data_bytes);
    out.Family("steward_store_sst_files_bytes", T::kGauge, "Size of RocksDB's table files.");
    out.Sample(st.sst_files_bytes);
    out.Family("steward_store_memtable_bytes", T::kGauge, "RocksDB memtables in memory.");
    out.Sample(st.memtable_bytes);
    out.Family("steward_store_block_cache_bytes", T::kGauge,
               "RocksDB block cache in use (its budget is 64 MiB).");
    out.Sample(st.block_cache_bytes);
    out.Family("steward_store_pending_compaction_bytes", T::kGauge,
               "RocksDB's estimate of bytes compaction still has to rewrite.");
    out.Sample(st.pending_compaction_bytes);
    out.Family("steward_store_background_errors", T::kGauge,
               "RocksDB background errors (non-zero: writes may be stopped; see the log).");
    out.Sample(st.background_errors);
    AppendProcessMetrics(&out);
    return out.Take();
  }
};

absl::StatusOr<std::unique_ptr<StewardServer>> StewardServer::Start(
    const Config& config, storage::Store* store, const Clock* clock) {
  std::unique_ptr<StagedTlsFiles> tls_files;
  auto creds = MakeCredentials(config.tls, config.data_dir, &tls_files);
  if (!creds.ok()) return creds.status();
  auto rep = std::make_unique<Rep>(config, store, clock);
  rep->tls_files = std::move(tls_files);
  if (absl::Status s = rep->hub.Init(int64_t{config.directives.retention_hours} * 3600 * 1000);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = rep->moderation.Init(); !s.ok()) return s;
  if (absl::Status s = rep->announcements.Start(); !s.ok()) return s;
  if (absl::Status s = rep->monitoring.Init(); !s.ok()) return s;
  if (absl::Status s = rep->incidents.Init(); !s.ok()) return s;
  if (absl::Status s = rep->backups.Start(); !s.ok()) return s;
  rep->vip.StartSweeper(absl::Hours(1));
  rep->tickets.StartSlaScheduler(absl::Seconds(1));
  if (absl::Status s = rep->idempotency.Init(); !s.ok()) return s;
  rep->idempotency.Start();

  // Before the gRPC server, so a bad metrics address fails the start with
  // nothing yet serving.
  if (!config.metrics.listen.empty()) {
    if (!config.metrics.cert_file.empty() || !config.metrics.key_file.empty()) {
      if (config.metrics.cert_file.empty() || config.metrics.key_file.empty()) {
        return absl::InvalidArgumentError("metrics TLS needs both a certificate and a key file");
      }
      auto cert = ReloadingCertificate::Load({config.metrics.cert_file, config.metrics.key_file, "", ""},
                                             absl::Seconds(config.tls.refresh_seconds));
      if (!cert.ok()) return absl::InvalidArgumentError(absl::StrCat("metrics ", cert.status().message()));
      rep->metrics_cert = *std::move(cert);
    }
    Rep* r = rep.get();
    auto endpoint = MetricsEndpoint::Start(config.metrics.listen, config.metrics.token_sha256,
                                           [r] { return r->RenderMetrics(); },
                                           rep->metrics_cert);
    if (!endpoint.ok()) return endpoint.status();
    rep->metrics = *std::move(endpoint);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config.listen.empty()) builder.AddListeningPort(config.listen, *creds, &rep->port);
  builder.RegisterService(rep->ticket_service.get());
  builder.RegisterService(rep->audit_service.get());
  builder.RegisterService(rep->moderation_service.get());
  builder.RegisterService(rep->game_server_service.get());
  builder.RegisterService(rep->announcement_service.get());
  builder.RegisterService(rep->report_service.get());
  builder.RegisterService(rep->vip_service.get());
  builder.RegisterService(rep->event_service.get());
  builder.RegisterService(rep->monitoring_service.get());
  builder.RegisterService(rep->knowledge_service.get());
  builder.RegisterService(rep->desk_service.get());
  builder.RegisterService(rep->incident_service.get());
  builder.RegisterService(rep->compensation_service.get());
  builder.RegisterService(rep->admin_service.get());
  ApplyTransportSettings(&builder, &rep->call_metrics);
  rep->server = builder.BuildAndStart();
  if (rep->server == nullptr || (!config.listen.empty() && rep->port == 0)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen,
                                               " (address in use or invalid?)"));
  }
  rep->server->GetHealthCheckService()->SetServingStatus(true);
  auto server = std::unique_ptr<StewardServer>(new StewardServer(std::move(rep)));
  if (!config.console.listen.empty()) {
    STEWARD_RETURN_IF_ERROR(server->StartConsole(config.console, config.tls.refresh_seconds));
  }
  return server;
}

void ApplyTransportSettings(grpc::ServerBuilder* builder, CallMetrics* metrics) {
  builder->SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  // A modest per-stream receive window: event streams push back on the
  // sender within a few batches instead of queueing megabytes in the
  // transport, which would be seconds of alert latency under load.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 256 * 1024);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // Responses carry at most a page of tickets (500 x ~20 KiB worst case).
  builder->SetMaxSendMessageSize(16 << 20);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<CallInterceptorFactory>(metrics));
  builder->experimental().SetInterceptorCreators(std::move(interceptors));
}

StewardServer::StewardServer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StewardServer::~StewardServer() { Shutdown(absl::ZeroDuration()); }

void StewardServer::ReloadPrincipals(std::vector<PrincipalConfig> principals) {
  rep_->auth.Replace(std::move(principals));
}

void StewardServer::ReloadMetricsToken(std::string token_sha256) {
  if (rep_->metrics != nullptr) rep_->metrics->SetToken(std::move(token_sha256));
}

absl::Status StewardServer::ReloadMetricsCertificate() {
  return rep_->metrics_cert != nullptr ? rep_->metrics_cert->ReloadNow() : absl::OkStatus();
}

int StewardServer::port() const { return rep_->port; }

int StewardServer::metrics_port() const { return rep_->metrics ? rep_->metrics->port() : 0; }

std::shared_ptr<grpc::Channel> StewardServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  return rep_->server->InProcessChannel(args);
}

namespace {

// Where the console's files are when the config does not say: the build
// tree's console/ (stewardd in build/services/server), else the installed
// share/steward/console beside bin/.
std::string DefaultConsoleAssets() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "console";
  for (const auto& dir : {exe.parent_path() / "../../console", exe.parent_path() / "../share/steward/console"}) {
    if (std::filesystem::exists(dir / "index.html", ec)) return std::filesystem::weakly_canonical(dir, ec).string();
  }
  return (exe.parent_path() / "../../console").lexically_normal().string();
}

}  // namespace

absl::Status StewardServer::StartConsole(const ConsoleConfig& c, int tls_refresh_seconds) {
  ConsoleOptions o;
  o.listen = c.listen;
  o.assets_dir = c.assets_dir.empty() ? DefaultConsoleAssets() : c.assets_dir;
  o.session_idle_ms = int64_t{c.session_idle_minutes} * 60'000;
  o.session_max_ms = int64_t{c.session_max_hours} * 3'600'000;
  o.clock = rep_->clock;
  if (!c.cert_file.empty()) {
    auto cert = ReloadingCertificate::Load({c.cert_file, c.key_file, "", ""}, absl::Seconds(tls_refresh_seconds));
    if (!cert.ok()) return absl::InvalidArgumentError(absl::StrCat("console ", cert.status().message()));
    o.certificate = *std::move(cert);
  }
  auto console = Console::Start(std::move(o), &rep_->auth, InProcessChannel());
  if (!console.ok()) return console.status();
  rep_->console = *std::move(console);
  return absl::OkStatus();
}

int StewardServer::console_port() const { return rep_->console ? rep_->console->port() : 0; }

void StewardServer::Shutdown(absl::Duration grace) {
  if (rep_->stopped) return;
  rep_->stopped = true;
  rep_->console.reset();
  rep_->metrics.reset();
  rep_->server->GetHealthCheckService()->Shutdown();
  // Directive watches never end by themselves; end them so the grace
  // period is spent on calls that can finish.
  rep_->hub.CloseWatchers();
  rep_->monitoring.CloseWatchers();
  rep_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  rep_->server->Wait();
  // No event can arrive now: keep the roll-ups and windows for the next start.
  if (absl::Status s = rep_->monitoring.SaveRollups(); !s.ok()) {
    LogWarning("the open minute's metric roll-ups not saved: ", s.ToString());
  }
  if (absl::Status s = rep_->monitoring.SaveWindowState(); !s.ok()) {
    LogWarning("window state not saved (the next start begins with empty windows): ", s.ToString());
  }
}

}  // namespace steward
