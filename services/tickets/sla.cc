#include "services/tickets/sla.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace steward {
namespace {

constexpr int kMaxDays = 4000;  // about eleven years of calendar walked at most

// "HH:MM" into minutes of the day; 24:00 allowed as a closing time.
bool ParseClock(const std::string& s, int* minutes) {
  int h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' || !absl::SimpleAtoi(s.substr(0, 2), &h) ||
      !absl::SimpleAtoi(s.substr(3, 2), &m) || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0)) {
    return false;
  }
  *minutes = h * 60 + m;
  return true;
}

bool ParseZone(const std::string& name, absl::TimeZone* tz) {
  if (name == "UTC") {
    *tz = absl::UTCTimeZone();
    return true;
  }
  if (name.size() == 9 && name.rfind("UTC", 0) == 0 && (name[3] == '+' || name[3] == '-')) {
    int minutes = 0;
    if (!ParseClock(name.substr(4), &minutes) || minutes > 14 * 60) return false;
    *tz = absl::FixedTimeZone((name[3] == '-' ? -60 : 60) * minutes);
    return true;
  }
  return absl::LoadTimeZone(name, tz);
}

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

}  // namespace

absl::StatusOr<std::shared_ptr<const BusinessCalendar>> BusinessCalendar::Make(
    const std::string& zone, const std::set<std::string>& days, const std::string& open,
    const std::string& close, const std::set<std::string>& holidays) {
  std::shared_ptr<BusinessCalendar> c(new BusinessCalendar());
  if (!ParseZone(zone, &c->zone_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "business hours: time zone \"", zone,
        "\" is unknown (use UTC, UTC+hh:mm, or an IANA name such as Europe/Berlin with tzdata installed)"));
  }
  static const char* kNames[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (const std::string& d : days) {
    auto it = std::find(kNames, kNames + 7, d);
    if (it == kNames + 7) {
      return absl::InvalidArgumentError(
          absl::StrCat("business hours: day \"", d, "\" must be one of mon, tue, wed, thu, fri, sat, sun"));
    }
    c->weekday_[it - kNames] = true;
  }
  if (days.empty()) return absl::InvalidArgumentError("business hours: name at least one working day");
  if (!ParseClock(open, &c->open_min_) || !ParseClock(close, &c->close_min_) ||
      c->open_min_ >= c->close_min_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "business hours: open \"", open, "\" and close \"", close, "\" must be HH:MM with open before close"));
  }
  for (const std::string& h : holidays) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(h, &day)) {
      return absl::InvalidArgumentError(absl::StrCat("business hours: holiday \"", h, "\" must be YYYY-MM-DD"));
    }
    c->holidays_.insert(day);
  }
  return std::shared_ptr<const BusinessCalendar>(std::move(c));
}

void BusinessCalendar::Day(int64_t ms, int64_t* open, int64_t* close, int64_t* next_day) const {
  absl::CivilDay day(zone_.At(absl::FromUnixMillis(ms)).cs);
  *next_day = Ms(zone_.At(absl::CivilSecond(day + 1)).pre);
  bool working = weekday_[static_cast<int>(absl::GetWeekday(day))] && holidays_.count(day) == 0;
  if (!working) {
    *open = *close = 0;
    return;
  }
  absl::CivilSecond start(day);
  *open = Ms(zone_.At(start + open_min_ * 60).pre);
  *close = Ms(zone_.At(start + close_min_ * 60).pre);
}

int64_t BusinessCalendar::Add(int64_t from_ms, int64_t ms) const {
  if (ms <= 0) return from_ms;
  int64_t t = from_ms;
  for (int i = 0; i < kMaxDays; ++i) {
    int64_t open, close, next;
    Day(t, &open, &close, &next);
    if (open != close) {
      t = std::max(t, open);
      if (t < close) {
        if (ms <= close - t) return t + ms;
        ms -= close - t;
      }
    }
    t = std::max(next, t + 1);
  }
  return t + ms;
}

int64_t BusinessCalendar::Between(int64_t from_ms, int64_t to_ms) const {
  int64_t total = 0, t = from_ms;
  for (int i = 0; i < kMaxDays && t < to_ms; ++i) {
    int64_t open, close, next;
    Day(t, &open, &close, &next);
    if (open != close) {
      int64_t s = std::max(t, open), e = std::min(close, to_ms);
      if (e > s) total += e - s;
    }
    t = std::max(next, t + 1);
  }
  return total;
}

SlaLimits SlaPolicy::For(v1::TicketCategory category, v1::Priority priority,
                         const std::string& vip_tier) const {
  SlaLimits l = defaults;
  if (auto it = by_category.find(category); it != by_category.end()) {
    if (it->second.dispatch_ms != 0) l.dispatch_ms = it->second.dispatch_ms;
    if (it->second.answer_ms != 0) l.answer_ms = it->second.answer_ms;
  }
  auto tighten = [&l](const SlaLimits& t) {
    if (t.dispatch_ms != 0) l.dispatch_ms = std::min(l.dispatch_ms, t.dispatch_ms);
    if (t.answer_ms != 0) l.answer_ms = std::min(l.answer_ms, t.answer_ms);
  };
  if (auto it = by_priority.find(priority); it != by_priority.end()) tighten(it->second);
  if (!vip_tier.empty()) {
    if (auto it = by_vip_tier.find(vip_tier); it != by_vip_tier.end()) tighten(it->second);
  }
  return l;
}

}  // namespace steward
