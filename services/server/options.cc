#include "services/server/options.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace steward {

absl::StatusOr<SlaPolicy> SlaPolicyFromConfig(const DeskConfig& c) {
  constexpr int64_t kMin = 60 * 1000, kHour = 60 * kMin;
  auto limits = [&](const SlaLimitsConfig& l) {
    return SlaLimits{l.dispatch_minutes * kMin, l.answer_hours * kHour};
  };
  SlaPolicy p;
  p.defaults = limits(c.defaults);
  p.by_category.clear();
  for (const auto& [name, l] : c.by_category) {
    v1::TicketCategory cat;
    if (!v1::TicketCategory_Parse("TICKET_CATEGORY_" + absl::AsciiStrToUpper(name), &cat) ||
        cat == v1::TICKET_CATEGORY_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: sla.category.", name,
          " is not a ticket category (question, complaint, suggestion, bug, player_report, account, payment, other)"));
    }
    p.by_category[cat] = limits(l);
  }
  for (const auto& [name, l] : c.by_priority) {
    v1::Priority pr;
    if (!v1::Priority_Parse("PRIORITY_" + absl::AsciiStrToUpper(name), &pr) ||
        pr == v1::PRIORITY_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: sla.priority.", name, " is not a priority (low, normal, high, urgent)"));
    }
    p.by_priority[pr] = limits(l);
  }
  if (c.business_hours) {
    const BusinessHoursConfig& b = *c.business_hours;
    auto cal = BusinessCalendar::Make(b.zone, {b.days.begin(), b.days.end()}, b.open, b.close,
                                      {b.holidays.begin(), b.holidays.end()});
    if (!cal.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config: sla.", cal.status().message()));
    }
    p.calendar = *std::move(cal);
  }
  return p;
}

ReportOptions ReportOptionsFrom(const ReportsConfig& c) {
  ReportOptions o;
  o.reports_per_hour = c.reports_per_hour;
  o.escalation_threshold = c.escalation_threshold;
  o.window_ms = int64_t{c.window_minutes} * 60 * 1000;
  o.custom_categories = c.custom_categories;
  if (!c.attachment_types.empty()) o.attachment_types = c.attachment_types;
  return o;
}

// The config was checked when it was parsed.
TicketsOptions TicketsOptionsFrom(const DeskConfig& c) {
  TicketsOptions o;
  auto policy = SlaPolicyFromConfig(c);
  if (policy.ok()) o.sla = *std::move(policy);
  o.csat_window_ms = int64_t{c.csat_window_days} * 24 * 3600 * 1000;
  if (c.sensitive) {
    o.sensitive.clear();
    for (const auto& t : *c.sensitive) {
      SensitiveTopic topic{t.name, {}, {}};
      for (const auto& cat : t.categories) {
        v1::TicketCategory parsed = v1::TICKET_CATEGORY_UNSPECIFIED;
        v1::TicketCategory_Parse("TICKET_CATEGORY_" + absl::AsciiStrToUpper(cat), &parsed);
        topic.categories.push_back(parsed);
      }
      for (const auto& w : t.words) topic.words.push_back(absl::AsciiStrToLower(w));
      o.sensitive.push_back(std::move(topic));
    }
  }
  return o;
}

BackupOptions BackupOptionsFrom(const BackupConfig& c) {
  BackupOptions o;
  o.dir = c.dir;
  o.every_ms = int64_t{c.every_hours} * 3600 * 1000;
  o.keep = static_cast<uint32_t>(c.keep);
  return o;
}

IncidentsOptions IncidentsOptionsFrom(const IncidentsConfig& c) {
  IncidentsOptions o;
  o.spike_count = c.spike_count;
  o.spike_window_ms = int64_t{c.spike_window_minutes} * 60 * 1000;
  return o;
}

CompensationOptions CompensationOptionsFrom(const CompensationConfig& c) {
  CompensationOptions o;
  o.unit = c.unit;
  o.limits.clear();
  const std::pair<const char*, Role> roles[] = {
      {"agent", Role::kAgent}, {"lead", Role::kLead}, {"supervisor", Role::kSupervisor}, {"admin", Role::kAdmin}};
  for (const auto& [name, role] : roles) {
    if (auto it = c.limits.find(name); it != c.limits.end()) o.limits[role] = {it->second.first, it->second.second};
  }
  return o;
}

DeskOptions DeskOptionsFrom(const DeskConfig& c) {
  DeskOptions o;
  o.criteria = c.quality_criteria;
  o.max_score = static_cast<uint32_t>(c.quality_max_score);
  o.per_agent = static_cast<uint32_t>(c.quality_per_agent);
  return o;
}

VipOptions VipOptionsFrom(const VipConfig& c) {
  VipOptions o;
  o.downgrade_grace_ms = int64_t{c.downgrade_grace_days} * 24 * 3600 * 1000;
  o.churn_threshold = c.churn_threshold;
  if (!c.tiers.empty()) {
    o.tiers.clear();
    for (const auto& t : c.tiers) {
      v1::Priority p = v1::PRIORITY_HIGH;
      v1::Priority_Parse("PRIORITY_" + absl::AsciiStrToUpper(t.ticket_priority), &p);
      o.tiers.push_back({t.name, t.lifetime_cents, t.rolling_30d_cents, t.callback_hours, p,
                         int64_t{t.dispatch_minutes} * 60 * 1000, int64_t{t.answer_hours} * 3600 * 1000});
    }
  }
  return o;
}

MonitoringOptions MonitoringOptionsFrom(const MonitoringConfig& c, const Clock* clock) {
  MonitoringOptions o;
  o.pipeline.clock = clock;
  o.pipeline.workers = c.workers;
  o.pipeline.memory_limit_bytes = static_cast<size_t>(c.memory_limit_mib) << 20;
  o.pipeline.allowed_lateness_ms = c.allowed_lateness_ms;
  o.pipeline.max_hold_ms = c.max_hold_ms;
  o.pipeline.checkpoint_period_ms = int64_t{c.checkpoint_seconds} * 1000;
  o.pipeline.rollup_flush_ms = int64_t{c.rollup_flush_seconds} * 1000;
  o.pipeline.queue_capacity = static_cast<size_t>(c.queue_items);
  o.minute_retention_ms = int64_t{c.minute_retention_hours} * 3600 * 1000;
  o.alerts_per_rule_per_minute = c.alerts_per_rule_per_minute;
  o.hour_retention_ms = int64_t{c.hour_retention_days} * 24 * 3600 * 1000;
  return o;
}

}  // namespace steward
