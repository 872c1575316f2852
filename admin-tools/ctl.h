// Shared pieces of stewardctl: global flags, the client with its stubs,
// error handling with exit codes, and formatting helpers.
//
// Exit codes: 0 success; 2 usage error; 3 not authenticated or not
// allowed; 4 not found; 5 rejected request (invalid argument, failed
// precondition, conflict); 6 server unreachable; 1 anything else.
#ifndef STEWARD_ADMIN_TOOLS_CTL_H_
#define STEWARD_ADMIN_TOOLS_CTL_H_

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "steward/v1/audit.grpc.pb.h"
#include "steward/v1/desk.grpc.pb.h"
#include "steward/v1/gameserver.grpc.pb.h"
#include "steward/v1/moderation.grpc.pb.h"
#include "steward/v1/reports.grpc.pb.h"
#include "steward/v1/events.grpc.pb.h"
#include "steward/v1/knowledge.grpc.pb.h"
#include "steward/v1/vip.grpc.pb.h"
#include "steward/v1/ticket.grpc.pb.h"

namespace steward::ctl {

namespace v1 = steward::v1;

struct Globals {
  std::string addr = "127.0.0.1:50051";
  std::string token;
  std::string player;
  std::string tls_ca, tls_cert, tls_key;
  bool json = false;
  double timeout_s = 10;
};

inline int ExitCodeFor(grpc::StatusCode c) {
  switch (c) {
    case grpc::UNAUTHENTICATED:
    case grpc::PERMISSION_DENIED:
      return 3;
    case grpc::NOT_FOUND:
      return 4;
    case grpc::INVALID_ARGUMENT:
    case grpc::FAILED_PRECONDITION:
    case grpc::ALREADY_EXISTS:
    case grpc::ABORTED:
    case grpc::OUT_OF_RANGE:
    case grpc::RESOURCE_EXHAUSTED:
      return 5;
    case grpc::UNAVAILABLE:
    case grpc::DEADLINE_EXCEEDED:
      return 6;
    default:
      return 1;
  }
}

inline const char* CodeName(grpc::StatusCode c) {
  static const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  int i = static_cast<int>(c);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

[[noreturn]] inline void Fail(int code, const std::string& msg) {
  std::cerr << "stewardctl: " << msg << "\n";
  std::exit(code);
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(2, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Client {
 public:
  explicit Client(const Globals& g) : g_(g) {
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (g.tls_ca.empty() && g.tls_cert.empty()) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions o;
      if (!g.tls_ca.empty()) o.pem_root_certs = ReadFileOrDie(g.tls_ca);
      if (!g.tls_cert.empty()) {
        o.pem_cert_chain = ReadFileOrDie(g.tls_cert);
        o.pem_private_key = ReadFileOrDie(g.tls_key);
      }
      creds = grpc::SslCredentials(o);
    }
    channel_ = grpc::CreateChannel(g.addr, creds);
    tickets_ = v1::TicketService::NewStub(channel_);
    audit_ = v1::AuditService::NewStub(channel_);
    moderation_ = v1::ModerationService::NewStub(channel_);
    game_servers_ = v1::GameServerService::NewStub(channel_);
    announcements_ = v1::AnnouncementService::NewStub(channel_);
    reports_ = v1::ReportService::NewStub(channel_);
    vip_ = v1::VipService::NewStub(channel_);
    monitoring_ = v1::MonitoringService::NewStub(channel_);
    events_ = v1::EventService::NewStub(channel_);
    knowledge_ = v1::KnowledgeService::NewStub(channel_);
    desk_ = v1::DeskService::NewStub(channel_);
  }

  void Prepare(grpc::ClientContext* ctx) const {
    if (g_.token.empty()) {
      Fail(3, "no token: pass --token or set STEWARD_TOKEN");
    }
    ctx->AddMetadata("authorization", "Bearer " + g_.token);
    if (!g_.player.empty()) ctx->AddMetadata("x-steward-player", g_.player);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(g_.timeout_s * 1000)));
  }

  void Check(const grpc::Status& s) const {
    if (s.ok()) return;
    std::string msg = absl::StrCat(CodeName(s.error_code()), ": ", s.error_message());
    if (s.error_code() == grpc::UNAVAILABLE) absl::StrAppend(&msg, " (is stewardd running at ", g_.addr, "?)");
    Fail(ExitCodeFor(s.error_code()), msg);
  }

  v1::TicketService::Stub& tickets() { return *tickets_; }
  v1::AuditService::Stub& audit() { return *audit_; }
  v1::ModerationService::Stub& moderation() { return *moderation_; }
  v1::GameServerService::Stub& game_servers() { return *game_servers_; }
  v1::AnnouncementService::Stub& announcements() { return *announcements_; }
  v1::ReportService::Stub& reports() { return *reports_; }
  v1::VipService::Stub& vip() { return *vip_; }
  v1::MonitoringService::Stub& monitoring() { return *monitoring_; }
  v1::EventService::Stub& events() { return *events_; }
  v1::KnowledgeService::Stub& knowledge() { return *knowledge_; }
  v1::DeskService::Stub& desk() { return *desk_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  const Globals& g_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TicketService::Stub> tickets_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::ModerationService::Stub> moderation_;
  std::unique_ptr<v1::GameServerService::Stub> game_servers_;
  std::unique_ptr<v1::AnnouncementService::Stub> announcements_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::unique_ptr<v1::VipService::Stub> vip_;
  std::unique_ptr<v1::MonitoringService::Stub> monitoring_;
  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<v1::KnowledgeService::Stub> knowledge_;
  std::unique_ptr<v1::DeskService::Stub> desk_;
};

inline void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  std::cout << out;
}

// "in_progress" -> TICKET_STATUS_IN_PROGRESS etc.
template <typename E>
inline E ParseEnum(const std::string& value, const std::string& prefix, bool (*parse)(const std::string&, E*),
            const std::string& flag) {
  E e;
  if (!parse(prefix + absl::AsciiStrToUpper(value), &e)) Fail(2, "unknown " + flag + " '" + value + "'");
  return e;
}

inline std::string EnumShort(const std::string& full, const std::string& prefix) {
  return absl::AsciiStrToLower(full.substr(prefix.size()));
}
inline std::string StatusName(v1::TicketStatus s) { return EnumShort(v1::TicketStatus_Name(s), "TICKET_STATUS_"); }
inline std::string CategoryName(v1::TicketCategory c) { return EnumShort(v1::TicketCategory_Name(c), "TICKET_CATEGORY_"); }
inline std::string PriorityName(v1::Priority p) { return EnumShort(v1::Priority_Name(p), "PRIORITY_"); }

// The zone times are printed in: UTC unless --tz or the TZ environment
// names another ("local": the machine's).
struct DisplayZone {
  absl::TimeZone zone = absl::UTCTimeZone();
  std::string name = "UTC";
};
inline DisplayZone& Zone() {
  static DisplayZone z;
  return z;
}
// False when `name` is no zone this machine knows.
inline bool SetZone(const std::string& name) {
  absl::TimeZone tz;
  if (name == "local") {
    tz = absl::LocalTimeZone();
  } else if (!absl::LoadTimeZone(name, &tz)) {
    return false;
  }
  Zone() = {tz, name == "local" ? tz.name() : name};
  return true;
}
// A table heading with the zone its times are in: "CREATED (UTC)".
inline std::string ZoneHeader(const char* what) { return absl::StrCat(what, " (", Zone().name, ")"); }

inline std::string Time(int64_t ms) {
  if (ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(ms), Zone().zone);
}

inline int64_t ParseTimeFlag(const std::string& v, const std::string& flag) {
  if (v.empty()) return 0;
  int64_t ms;
  if (absl::SimpleAtoi(v, &ms)) return ms;
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, v, &t, &err)) return absl::ToUnixMillis(t);
  Fail(2, flag + " must be unix milliseconds or RFC 3339 (2026-11-22T10:00:00Z)");
}

inline std::string Clip(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n - 3) + "...";
}


// For commands run from CLI11 callbacks: runs `fn` with a prepared client and context; its return is the exit code.
template <typename Fn>
std::function<void()> Command(const Globals& g, int* handled, Fn fn) {
  return [&g, handled, fn]() {
    Client client(g);
    grpc::ClientContext ctx;
    client.Prepare(&ctx);
    *handled = fn(client, ctx);
  };
}

// Adds `tickets` (list, show, assign, reply, note, status, submit, rate,
// escalate, read, pull). Each runs from its CLI11 callback and stores its
// exit code in *handled.
void AddTicketCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `audit list` and `audit verify`, the same way.
void AddAuditCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `sanctions`, `approvals`, `appeals`, `announce`, `servers` and
// `player check`. Each runs from its CLI11 callback and stores its exit
// code in *handled.
void AddModerationCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `cases` and `bugs`, the same way.
void AddReportCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `vip`, the same way.
void AddVipCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `rules`, `alerts`, `events`, `kb` and `metrics`, the same way.
void AddMonitoringCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `handover`, `brief`, `quality` and `reports`, the same way.
void AddDeskCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `incidents` and `grants`, the same way.
void AddIncidentCommands(CLI::App& app, const Globals& g, int* handled);
// Adds `admin backup ...`, the same way.
void AddAdminCommands(CLI::App& app, const Globals& g, int* handled);

}  // namespace steward::ctl

#endif  // STEWARD_ADMIN_TOOLS_CTL_H_
