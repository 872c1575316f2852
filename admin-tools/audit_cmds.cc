// stewardctl audit: read and verify the audit trail.
#include "admin-tools/ctl.h"

namespace steward::ctl {

void AddAuditCommands(CLI::App& app, const Globals& g, int* handled) {
  auto* audit = app.add_subcommand("audit", "read the audit trail (supervisor+)");
  audit->require_subcommand(1);
  auto* audit_list = audit->add_subcommand("list", "newest first");
  static std::string a_target;
  static uint32_t f_limit = 50;
  static std::string f_token;
  audit_list->add_option("--target", a_target, "e.g. ticket/42");
  audit_list->add_option("--limit", f_limit, "page size")->capture_default_str();
  audit_list->add_option("--page-token", f_token, "continue from a previous page");

  auto* audit_verify = audit->add_subcommand("verify", "check the hash chain of the whole trail (admin)");

  auto audit_list_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::ListAuditRequest req;
    req.set_target(a_target);
    req.set_page_size(f_limit);
    req.set_page_token(f_token);
    v1::ListAuditResponse resp;
    client.Check(client.audit().ListAuditRecords(&ctx, req, &resp));
    if (g.json) {
      PrintJson(resp);
    } else {
      std::printf("%-8s %-19s %-16s %-22s %-14s %s\n", "ID", ZoneHeader("AT").c_str(), "ACTOR", "ACTION", "TARGET", "REASON");
      for (const auto& r : resp.records()) {
        std::printf("%-8llu %-19s %-16s %-22s %-14s %s\n", static_cast<unsigned long long>(r.id()),
                    Time(r.at_ms()).c_str(), Clip(r.actor(), 16).c_str(), r.action().c_str(),
                    r.target().c_str(), r.reason().c_str());
      }
      if (!resp.next_page_token().empty()) std::printf("(more: --page-token %s)\n", resp.next_page_token().c_str());
    }
    return 0;
  });
  audit_list->callback(audit_list_cb);

  auto audit_verify_cb = Command(g, handled, [&g](Client& client, grpc::ClientContext& ctx) {
    v1::VerifyAuditChainResponse resp;
    client.Check(client.audit().VerifyAuditChain(&ctx, {}, &resp));
    if (g.json) {
      PrintJson(resp);
    } else if (resp.intact()) {
      std::printf("audit chain intact: %llu records, last id %llu\n",
                  static_cast<unsigned long long>(resp.records_checked()),
                  static_cast<unsigned long long>(resp.last_id()));
    } else {
      std::printf("audit chain BROKEN at record %llu: %s (%llu records verified before it)\n",
                  static_cast<unsigned long long>(resp.first_bad_id()), resp.problem().c_str(),
                  static_cast<unsigned long long>(resp.records_checked()));
    }
    return resp.intact() ? 0 : 1;
  });
  audit_verify->callback(audit_verify_cb);
}

}  // namespace steward::ctl
