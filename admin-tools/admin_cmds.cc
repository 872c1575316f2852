// stewardctl admin: backups (admins).
#include "admin-tools/ctl.h"
#include "steward/v1/admin.grpc.pb.h"

namespace steward::ctl {
namespace {

void PrintBackup(const v1::Backup& b) {
  std::printf("%-6u %-19s %8u %14llu\n", b.id(), Time(b.created_at_ms()).c_str(), b.files(),
              static_cast<unsigned long long>(b.size_bytes()));
}

}  // namespace

void AddAdminCommands(CLI::App& app, const Globals& g, int* handled) {
  static uint32_t id = 0, keep = 0;
  static auto stub = [](Client& c) { return v1::AdminService::NewStub(c.channel()); };
  auto* admin = app.add_subcommand("admin", "operations (admins)");
  admin->require_subcommand(1);
  auto* backup = admin->add_subcommand("backup", "backups of the whole store into [backup] dir");
  backup->require_subcommand(1);
  auto header = [] { std::printf("%-6s %-19s %8s %14s\n", "ID", ZoneHeader("TAKEN").c_str(), "FILES", "BYTES"); };
  auto* create = backup->add_subcommand("create", "take a backup now (online; incremental)");
  create->callback(Command(g, handled, [&g, header](Client& c, grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(6));
    v1::BackupResponse resp;
    c.Check(stub(c)->CreateBackup(&ctx, {}, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    header();
    PrintBackup(resp.backup());
    std::printf("took %lld ms\n", static_cast<long long>(resp.took_ms()));
    return 0;
  }));
  auto* list = backup->add_subcommand("list", "the backups, oldest first");
  list->callback(Command(g, handled, [&g, header](Client& c, grpc::ClientContext& ctx) {
    v1::ListBackupsResponse resp;
    c.Check(stub(c)->ListBackups(&ctx, {}, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    std::printf("in %s\n", resp.dir().c_str());
    header();
    for (const auto& b : resp.backups()) PrintBackup(b);
    return 0;
  }));
  auto* verify = backup->add_subcommand("verify", "re-read every file of a backup against its checksum");
  verify->add_option("id", id)->required();
  verify->callback(Command(g, handled, [&g](Client& c, grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(6));
    v1::VerifyBackupRequest req;
    req.set_backup_id(id);
    v1::BackupResponse resp;
    c.Check(stub(c)->VerifyBackup(&ctx, req, &resp));
    if (g.json) PrintJson(resp);
    else std::printf("backup %u is intact (%u files checked in %lld ms)\n", id, resp.backup().files(),
                     static_cast<long long>(resp.took_ms()));
    return 0;
  }));
  auto* purge = backup->add_subcommand("purge", "delete all but the newest backups");
  purge->add_option("--keep", keep, "how many of the newest stay")->required();
  purge->callback(Command(g, handled, [&g, header](Client& c, grpc::ClientContext& ctx) {
    v1::PurgeBackupsRequest req;
    req.set_keep(keep);
    v1::ListBackupsResponse resp;
    c.Check(stub(c)->PurgeBackups(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
      return 0;
    }
    header();
    for (const auto& b : resp.backups()) PrintBackup(b);
    return 0;
  }));
}

}  // namespace steward::ctl
