// Time-limit policies for tickets: limits per category and priority, and an
// optional business calendar the clocks run on.
#ifndef STEWARD_SERVICES_TICKETS_SLA_H_
#define STEWARD_SERVICES_TICKETS_SLA_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "steward/v1/ticket.pb.h"

namespace steward {

// Working hours the clocks count. Time outside them (nights, weekends,
// holidays) does not use up a limit. The same hours every working day.
class BusinessCalendar {
 public:
  // `zone`: "UTC", "UTC+02:00" / "UTC-05:30", or an IANA name (needs the
  // tzdata package). `days`: weekday names "mon".."sun". `open`/`close`:
  // "HH:MM", open before close. `holidays`: "YYYY-MM-DD".
  static absl::StatusOr<std::shared_ptr<const BusinessCalendar>> Make(
      const std::string& zone, const std::set<std::string>& days, const std::string& open,
      const std::string& close, const std::set<std::string>& holidays);

  // The instant `ms` of working time after `from_ms` (both unix ms).
  int64_t Add(int64_t from_ms, int64_t ms) const;
  // Working time in [from_ms, to_ms); 0 when to <= from.
  int64_t Between(int64_t from_ms, int64_t to_ms) const;

 private:
  BusinessCalendar() = default;
  // The working interval of the day holding `ms` (unix ms), or {0,0} on a
  // day off; `next_day` gets the start of the following day.
  void Day(int64_t ms, int64_t* open, int64_t* close, int64_t* next_day) const;

  absl::TimeZone zone_;
  bool weekday_[7] = {};  // indexed by absl::Weekday (monday = 0)
  int open_min_ = 0, close_min_ = 0;
  std::set<absl::CivilDay> holidays_;
};

// Limits in ms; 0 means "not set here".
struct SlaLimits {
  int64_t dispatch_ms = 0;
  int64_t answer_ms = 0;
};

// Which limits a ticket gets: the category's (else the defaults), tightened
// by its priority's where that is shorter. DOMAIN.md's numbers are the
// defaults: complaints get an owner within 60 minutes, other tickets within
// 4 hours, and every ticket an answer within 3 days.
struct SlaPolicy {
  SlaLimits defaults{4 * 3600 * 1000, int64_t{3} * 24 * 3600 * 1000};
  std::map<v1::TicketCategory, SlaLimits> by_category{
      {v1::TICKET_CATEGORY_COMPLAINT, {60 * 60 * 1000, 0}}};
  std::map<v1::Priority, SlaLimits> by_priority;
  // A VIP tier's limits tighten further (filled from VIP care's tiers).
  std::map<std::string, SlaLimits> by_vip_tier;
  // Null: the clocks run around the clock.
  std::shared_ptr<const BusinessCalendar> calendar;

  SlaLimits For(v1::TicketCategory category, v1::Priority priority,
               const std::string& vip_tier = "") const;
  // `from` plus `ms` of counted time.
  int64_t Due(int64_t from_ms, int64_t ms) const {
    return calendar ? calendar->Add(from_ms, ms) : from_ms + ms;
  }
  // Counted time in [from, to).
  int64_t Counted(int64_t from_ms, int64_t to_ms) const {
    if (calendar) return calendar->Between(from_ms, to_ms);
    return to_ms > from_ms ? to_ms - from_ms : 0;
  }
};

}  // namespace steward

#endif  // STEWARD_SERVICES_TICKETS_SLA_H_
