#include "services/server/config.h"

#include "services/server/options.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <climits>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/tickets/sla.h"
#include "services/common/validation.h"
#include "services/common/status_macros.h"
#include "steward/v1/common.pb.h"
#include "toml++/toml.h"

namespace steward {
namespace {

absl::Status ReadString(const toml::table& t, absl::string_view key,
                        absl::string_view where, std::string* out) {
  const toml::node* n = t.get(std::string_view(key.data(), key.size()));
  if (n == nullptr) return absl::OkStatus();
  auto v = n->value<std::string>();
  if (!v) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", where, key, " must be a string"));
  }
  *out = *v;
  return absl::OkStatus();
}

// Numbers: TOML integers or floats; absent keys leave *out alone.
absl::Status ReadNumber(const toml::table& t, absl::string_view key, absl::string_view where,
                        double min, double max, double* out) {
  const toml::node* n = t.get(std::string_view(key.data(), key.size()));
  if (n == nullptr) return absl::OkStatus();
  std::optional<double> v = n->value<double>();
  if (!v || !(*v >= min && *v <= max)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", where, key, " must be a number from ", min, " to ", max));
  }
  *out = *v;
  return absl::OkStatus();
}

absl::Status ReadInt(const toml::table& t, absl::string_view key, absl::string_view where,
                     int min, int max, int* out) {
  double d = *out;
  STEWARD_RETURN_IF_ERROR(ReadNumber(t, key, where, min, max, &d));
  if (d != static_cast<int>(d)) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", where, key, " must be a whole number"));
  }
  *out = static_cast<int>(d);
  return absl::OkStatus();
}

absl::Status ReadStrings(const toml::table& t, absl::string_view key, absl::string_view where,
                         std::vector<std::string>* out);

absl::Status ParseReports(const toml::table& t, ReportsConfig* r) {
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "reports_per_hour", "reports.", 1, 10000, &r->reports_per_hour));
  STEWARD_RETURN_IF_ERROR(ReadNumber(t, "escalation_threshold", "reports.", 0.25, 1e6, &r->escalation_threshold));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "window_minutes", "reports.", 1, 7 * 24 * 60, &r->window_minutes));
  if (const toml::node* n = t.get("custom_categories")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return absl::InvalidArgumentError("config: reports.custom_categories must be an array of strings");
    for (const auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) return absl::InvalidArgumentError("config: reports.custom_categories must be an array of strings");
      STEWARD_RETURN_IF_ERROR(CheckId("config: reports.custom_categories entry", *v, true));
      r->custom_categories.push_back(*v);
    }
  }
  STEWARD_RETURN_IF_ERROR(ReadStrings(t, "attachment_types", "reports.", &r->attachment_types));
  for (const auto& p : r->attachment_types) {
    if (!IsMediaTypePattern(p)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: reports.attachment_types entry '", p, "' is not type/subtype or type/*"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseMonitoring(const toml::table& t, MonitoringConfig* m) {
  const char* w = "monitoring.";
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "workers", w, 1, 64, &m->workers));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "memory_limit_mib", w, 16, 1 << 20, &m->memory_limit_mib));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "allowed_lateness_ms", w, 0, 3600 * 1000, &m->allowed_lateness_ms));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "max_hold_ms", w, 0, 60 * 1000, &m->max_hold_ms));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "minute_retention_hours", w, 1, 24 * 365, &m->minute_retention_hours));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "hour_retention_days", w, 1, 3650, &m->hour_retention_days));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "alerts_per_rule_per_minute", w, 1, 1'000'000,
                          &m->alerts_per_rule_per_minute));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "checkpoint_seconds", w, 0, 24 * 3600, &m->checkpoint_seconds));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "rollup_flush_seconds", w, 0, 60, &m->rollup_flush_seconds));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "queue_items", w, 1024, 1 << 24, &m->queue_items));
  return absl::OkStatus();
}

absl::Status ParseVip(const toml::table& t, VipConfig* v) {
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "downgrade_grace_days", "vip.", 0, 365, &v->downgrade_grace_days));
  STEWARD_RETURN_IF_ERROR(ReadNumber(t, "churn_threshold", "vip.", 0.05, 1.0, &v->churn_threshold));
  if (const toml::node* n = t.get("tiers")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return absl::InvalidArgumentError("config: vip.tiers must be an array of tables ([[vip.tiers]])");
    std::set<std::string> names;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* tt = (*arr)[i].as_table();
      std::string where = absl::StrCat("vip.tiers[", i, "].");
      if (tt == nullptr) return absl::InvalidArgumentError(absl::StrCat("config: ", where, " must be a table"));
      VipTierEntry e;
      double lifetime = 0, rolling = 0;
      STEWARD_RETURN_IF_ERROR(ReadString(*tt, "name", where, &e.name));
      STEWARD_RETURN_IF_ERROR(CheckId(absl::StrCat("config: ", where, "name"), e.name, true));
      STEWARD_RETURN_IF_ERROR(ReadNumber(*tt, "lifetime_spend", where, 0, 1e12, &lifetime));
      STEWARD_RETURN_IF_ERROR(ReadNumber(*tt, "rolling_30d_spend", where, 0, 1e12, &rolling));
      STEWARD_RETURN_IF_ERROR(ReadInt(*tt, "callback_hours", where, 1, 24 * 30, &e.callback_hours));
      STEWARD_RETURN_IF_ERROR(ReadString(*tt, "ticket_priority", where, &e.ticket_priority));
      STEWARD_RETURN_IF_ERROR(ReadInt(*tt, "dispatch_minutes", where, 0, 30 * 24 * 60, &e.dispatch_minutes));
      STEWARD_RETURN_IF_ERROR(ReadInt(*tt, "answer_hours", where, 0, 365 * 24, &e.answer_hours));
      if (e.ticket_priority != "low" && e.ticket_priority != "normal" && e.ticket_priority != "high" &&
          e.ticket_priority != "urgent") {
        return absl::InvalidArgumentError(
            absl::StrCat("config: ", where, "ticket_priority must be low, normal, high or urgent"));
      }
      if (lifetime <= 0 && rolling <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("config: ", where, " needs lifetime_spend or rolling_30d_spend"));
      }
      if (!names.insert(e.name).second) {
        return absl::InvalidArgumentError(absl::StrCat("config: VIP tier ", e.name, " appears twice"));
      }
      // A threshold of 0 means "not by this measure".
      e.lifetime_cents = lifetime > 0 ? static_cast<int64_t>(std::llround(lifetime * 100)) : INT64_MAX;
      e.rolling_30d_cents = rolling > 0 ? static_cast<int64_t>(std::llround(rolling * 100)) : INT64_MAX;
      v->tiers.push_back(std::move(e));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadStrings(const toml::table& t, absl::string_view key, absl::string_view where,
                         std::vector<std::string>* out) {
  const toml::node* n = t.get(std::string_view(key.data(), key.size()));
  if (n == nullptr) return absl::OkStatus();
  const toml::array* arr = n->as_array();
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("config: ", where, key, " must be an array of strings"));
  };
  if (arr == nullptr) return bad();
  out->clear();
  for (const auto& e : *arr) {
    auto v = e.value<std::string>();
    if (!v) return bad();
    out->push_back(*v);
  }
  return absl::OkStatus();
}

absl::Status ParseLimits(const toml::table& t, const std::string& where, SlaLimitsConfig* l) {
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "dispatch_minutes", where, 1, 30 * 24 * 60, &l->dispatch_minutes));
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "answer_hours", where, 1, 365 * 24, &l->answer_hours));
  return absl::OkStatus();
}

// [sla.category.<name>] or [sla.priority.<name>] tables into `out`.
absl::Status ParseLimitTables(const toml::table& sla, const char* key,
                              std::map<std::string, SlaLimitsConfig>* out) {
  const toml::node* n = sla.get(key);
  if (n == nullptr) return absl::OkStatus();
  const toml::table* t = n->as_table();
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat("config: sla.", key, " must be a table"));
  for (const auto& [name, node] : *t) {
    std::string where = absl::StrCat("sla.", key, ".", std::string(name.str()), ".");
    const toml::table* lt = node.as_table();
    if (lt == nullptr) return absl::InvalidArgumentError(absl::StrCat("config: ", where, " must be a table"));
    SlaLimitsConfig& l = (*out)[std::string(name.str())];
    STEWARD_RETURN_IF_ERROR(ParseLimits(*lt, where, &l));
  }
  return absl::OkStatus();
}

absl::Status ParseSla(const toml::table& t, DeskConfig* d) {
  STEWARD_RETURN_IF_ERROR(ParseLimits(t, "sla.", &d->defaults));
  STEWARD_RETURN_IF_ERROR(ParseLimitTables(t, "category", &d->by_category));
  STEWARD_RETURN_IF_ERROR(ParseLimitTables(t, "priority", &d->by_priority));
  if (const toml::node* n = t.get("business_hours")) {
    const toml::table* bt = n->as_table();
    if (bt == nullptr) return absl::InvalidArgumentError("config: [sla.business_hours] must be a table");
    BusinessHoursConfig b;
    b.days = {"mon", "tue", "wed", "thu", "fri"};
    b.open = "09:00";
    b.close = "18:00";
    const char* w = "sla.business_hours.";
    STEWARD_RETURN_IF_ERROR(ReadString(*bt, "zone", w, &b.zone));
    STEWARD_RETURN_IF_ERROR(ReadStrings(*bt, "days", w, &b.days));
    STEWARD_RETURN_IF_ERROR(ReadString(*bt, "open", w, &b.open));
    STEWARD_RETURN_IF_ERROR(ReadString(*bt, "close", w, &b.close));
    STEWARD_RETURN_IF_ERROR(ReadStrings(*bt, "holidays", w, &b.holidays));
    d->business_hours = std::move(b);
  }
  return absl::OkStatus();
}

// Lower-cases a configured token hash and checks it is one.
absl::Status NormalizeTokenHash(absl::string_view where, std::string* hash) {
  *hash = absl::AsciiStrToLower(*hash);
  if (hash->size() != 64 || hash->find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", where, "token_sha256 must be 64 hex digits (stewardctl hash-token)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PrincipalConfig> ParsePrincipal(const toml::table& t, size_t i) {
  PrincipalConfig p;
  std::string where = absl::StrCat("principals[", i, "].");
  std::string kind, role;
  STEWARD_RETURN_IF_ERROR(ReadString(t, "name", where, &p.name));
  STEWARD_RETURN_IF_ERROR(ReadString(t, "kind", where, &kind));
  STEWARD_RETURN_IF_ERROR(ReadString(t, "role", where, &role));
  STEWARD_RETURN_IF_ERROR(ReadString(t, "realm", where, &p.realm));
  STEWARD_RETURN_IF_ERROR(ReadString(t, "server", where, &p.server));
  STEWARD_RETURN_IF_ERROR(ReadString(t, "token_sha256", where, &p.token_sha256));
  int cps = -1;  // unset: the [limits] default for the role
  STEWARD_RETURN_IF_ERROR(ReadInt(t, "calls_per_second", where, 0, 10'000'000, &cps));
  p.calls_per_second = cps;
  if (auto s = CheckId(absl::StrCat("config: ", where, "name"), p.name, true); !s.ok()) return s;
  if (kind == "gm") {
    p.kind = PrincipalKind::kGm;
    auto r = ParseRole(role);
    if (!r.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", where, "role must be agent, lead, supervisor or admin"));
    }
    p.role = *r;
  } else if (kind == "game_server") {
    p.kind = PrincipalKind::kGameServer;
    if (p.realm.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", where, "realm is required for a game_server"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", where, "kind must be \"gm\" or \"game_server\""));
  }
  STEWARD_RETURN_IF_ERROR(NormalizeTokenHash(where, &p.token_sha256));
  return p;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::string& text) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config: " << e.description() << " at line " << e.source().begin.line;
    return absl::InvalidArgumentError(os.str());
  }
  Config c;
  STEWARD_RETURN_IF_ERROR(ReadString(root, "listen", "", &c.listen));
  STEWARD_RETURN_IF_ERROR(ReadString(root, "data_dir", "", &c.data_dir));
  if (const toml::table* tls = root["tls"].as_table()) {
    STEWARD_RETURN_IF_ERROR(ReadString(*tls, "cert_file", "tls.", &c.tls.cert_file));
    STEWARD_RETURN_IF_ERROR(ReadString(*tls, "key_file", "tls.", &c.tls.key_file));
    STEWARD_RETURN_IF_ERROR(ReadString(*tls, "client_ca_file", "tls.", &c.tls.client_ca_file));
    STEWARD_RETURN_IF_ERROR(ReadString(*tls, "crl_directory", "tls.", &c.tls.crl_directory));
    STEWARD_RETURN_IF_ERROR(ReadInt(*tls, "refresh_seconds", "tls.", 1, 24 * 3600, &c.tls.refresh_seconds));
  }
  if (const toml::node* n = root.get("reports")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [reports] must be a table");
    STEWARD_RETURN_IF_ERROR(ParseReports(*t, &c.reports));
  }
  if (const toml::node* n = root.get("monitoring")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [monitoring] must be a table");
    STEWARD_RETURN_IF_ERROR(ParseMonitoring(*t, &c.monitoring));
  }
  if (const toml::node* n = root.get("vip")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [vip] must be a table");
    STEWARD_RETURN_IF_ERROR(ParseVip(*t, &c.vip));
  }
  if (const toml::node* n = root.get("directives")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [directives] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "retention_hours", "directives.", 1, 24 * 3650,
                            &c.directives.retention_hours));
  }
  if (const toml::node* n = root.get("store")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [store] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "max_pending_mib", "store.", 1, 64 * 1024, &c.store.max_pending_mib));
  }
  if (const toml::node* n = root.get("console")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [console] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "listen", "console.", &c.console.listen));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "assets_dir", "console.", &c.console.assets_dir));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "cert_file", "console.", &c.console.cert_file));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "key_file", "console.", &c.console.key_file));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "session_idle_minutes", "console.", 1, 24 * 60,
                                    &c.console.session_idle_minutes));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "session_max_hours", "console.", 1, 7 * 24, &c.console.session_max_hours));
    if (c.console.cert_file.empty() != c.console.key_file.empty()) {
      return absl::InvalidArgumentError("config: console.cert_file and console.key_file go together");
    }
  }
  if (const toml::node* n = root.get("metrics")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [metrics] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "listen", "metrics.", &c.metrics.listen));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "token_sha256", "metrics.", &c.metrics.token_sha256));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "cert_file", "metrics.", &c.metrics.cert_file));
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "key_file", "metrics.", &c.metrics.key_file));
    if (c.metrics.cert_file.empty() != c.metrics.key_file.empty()) {
      return absl::InvalidArgumentError("config: metrics.cert_file and metrics.key_file go together");
    }
    if (!c.metrics.token_sha256.empty()) {
      STEWARD_RETURN_IF_ERROR(NormalizeTokenHash("metrics.", &c.metrics.token_sha256));
    }
  }
  if (const toml::node* n = root.get("idempotency")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [idempotency] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "keep_hours", "idempotency.", 1, 24 * 3650, &c.idempotency.keep_hours));
  }
  if (const toml::node* n = root.get("desk")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [desk] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "csat_window_days", "desk.", 1, 365, &c.desk.csat_window_days));
  }
  if (const toml::node* n = root.get("sla")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [sla] must be a table");
    STEWARD_RETURN_IF_ERROR(ParseSla(*t, &c.desk));
  }
  if (const toml::node* n = root.get("quality")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [quality] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadStrings(*t, "criteria", "quality.", &c.desk.quality_criteria));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "max_score", "quality.", 2, 100, &c.desk.quality_max_score));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "sample_per_agent", "quality.", 1, 50, &c.desk.quality_per_agent));
    std::set<std::string> seen;
    for (const auto& name : c.desk.quality_criteria) {
      STEWARD_RETURN_IF_ERROR(CheckId("config: quality.criteria entry", name, true));
      if (!seen.insert(name).second) {
        return absl::InvalidArgumentError(absl::StrCat("config: quality criterion ", name, " appears twice"));
      }
    }
    if (c.desk.quality_criteria.empty() || c.desk.quality_criteria.size() > 16) {
      return absl::InvalidArgumentError("config: quality.criteria must name 1 to 16 criteria");
    }
  }
  if (const toml::node* n = root.get("sensitive")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return absl::InvalidArgumentError("config: sensitive must be an array of tables ([[sensitive]])");
    std::vector<DeskConfig::SensitiveTopicConfig> topics;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* tt = (*arr)[i].as_table();
      std::string where = absl::StrCat("sensitive[", i, "].");
      if (tt == nullptr) return absl::InvalidArgumentError(absl::StrCat("config: ", where, " must be a table"));
      DeskConfig::SensitiveTopicConfig topic;
      STEWARD_RETURN_IF_ERROR(ReadString(*tt, "name", where, &topic.name));
      STEWARD_RETURN_IF_ERROR(CheckId(absl::StrCat("config: ", where, "name"), topic.name, true));
      STEWARD_RETURN_IF_ERROR(ReadStrings(*tt, "categories", where, &topic.categories));
      STEWARD_RETURN_IF_ERROR(ReadStrings(*tt, "words", where, &topic.words));
      for (const auto& cat : topic.categories) {
        v1::TicketCategory parsed;
        if (!v1::TicketCategory_Parse("TICKET_CATEGORY_" + absl::AsciiStrToUpper(cat), &parsed) ||
            parsed == v1::TICKET_CATEGORY_UNSPECIFIED) {
          return absl::InvalidArgumentError(absl::StrCat("config: ", where, "categories: '", cat,
                                                         "' is not a ticket category (question, complaint, "
                                                         "payment, account, ...)"));
        }
      }
      for (const auto& w : topic.words) {
        if (w.size() < 2) return absl::InvalidArgumentError(absl::StrCat("config: ", where, "words: '", w, "' is too short"));
      }
      if (topic.categories.empty() && topic.words.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", where, " needs categories or words"));
      }
      topics.push_back(std::move(topic));
    }
    c.desk.sensitive = std::move(topics);
  }
  if (const toml::node* n = root.get("backup")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [backup] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "dir", "backup.", &c.backup.dir));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "every_hours", "backup.", 0, 24 * 365, &c.backup.every_hours));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "keep", "backup.", 1, 10000, &c.backup.keep));
    if (c.backup.every_hours > 0 && c.backup.dir.empty()) {
      return absl::InvalidArgumentError("config: backup.every_hours needs backup.dir");
    }
  }
  if (const toml::node* n = root.get("incidents")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [incidents] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "spike_count", "incidents.", 0, 1'000'000, &c.incidents.spike_count));
    STEWARD_RETURN_IF_ERROR(ReadInt(*t, "spike_window_minutes", "incidents.", 1, 24 * 60,
                                    &c.incidents.spike_window_minutes));
  }
  if (const toml::node* n = root.get("compensation")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [compensation] must be a table");
    STEWARD_RETURN_IF_ERROR(ReadString(*t, "unit", "compensation.", &c.compensation.unit));
    for (auto& [role, lim] : c.compensation.limits) {
      double per = static_cast<double>(lim.first), total = static_cast<double>(lim.second);
      STEWARD_RETURN_IF_ERROR(ReadNumber(*t, absl::StrCat(role, "_per_player"), "compensation.", 0, 1e15, &per));
      STEWARD_RETURN_IF_ERROR(ReadNumber(*t, absl::StrCat(role, "_total"), "compensation.", 0, 1e15, &total));
      lim = {static_cast<int64_t>(per), static_cast<int64_t>(total)};
    }
  }
  // Names, zone, days and hours are checked where they are turned into a policy.
  STEWARD_RETURN_IF_ERROR(SlaPolicyFromConfig(c.desk).status());
  LimitsConfig limits;
  if (const toml::node* n = root.get("limits")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return absl::InvalidArgumentError("config: [limits] must be a table");
    for (auto [key, out] : {std::pair<const char*, int*>{"agent", &limits.agent}, {"lead", &limits.lead},
                            {"supervisor", &limits.supervisor}, {"admin", &limits.admin},
                            {"game_server", &limits.game_server}}) {
      STEWARD_RETURN_IF_ERROR(ReadInt(*t, key, "limits.", 0, 10'000'000, out));
    }
  }
  c.limits = limits;
  if (const toml::node* n = root.get("principals")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) {
      return absl::InvalidArgumentError("config: principals must be an array of tables ([[principals]])");
    }
    std::set<std::string> names, hashes;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      if (t == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("config: principals[", i, "] must be a table"));
      }
      STEWARD_ASSIGN_OR_RETURN(PrincipalConfig p, ParsePrincipal(*t, i));
      if (p.name == kMonitorPrincipal || p.name == "steward") {
        return absl::InvalidArgumentError(absl::StrCat(
            "config: principal name ", p.name, " is reserved (Steward's own automatic actions use it)"));
      }
      if (!names.insert(p.name).second) {
        return absl::InvalidArgumentError(absl::StrCat("config: principal name ", p.name, " appears twice"));
      }
      if (!hashes.insert(p.token_sha256).second) {
        return absl::InvalidArgumentError(absl::StrCat("config: principal ", p.name, " reuses another principal's token"));
      }
      if (p.calls_per_second < 0) p.calls_per_second = limits.For(p);
      c.principals.push_back(std::move(p));
    }
  }
  return c;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("config file ", path, " cannot be read"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseConfig(ss.str());
  if (!c.ok()) {
    return absl::Status(c.status().code(), absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}


}  // namespace steward
