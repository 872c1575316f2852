#include "services/monitoring/rules.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <re2/re2.h>
#include <re2/set.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/validation.h"
#include "services/common/status_macros.h"
#include "absl/strings/ascii.h"
#include "steward/v1/moderation.pb.h"
#include "steward/v1/reports.pb.h"

namespace steward {
namespace {

constexpr int kMaxGroupBy = 4;
constexpr int kMaxEventTypes = 16;
constexpr int kMaxPanes = 60;
constexpr int64_t kMaxWindowSeconds = 24 * 3600;
constexpr size_t kMaxPatternLen = 1024;
constexpr int kMaxPatternProgram = 5000;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("rule.", field, ": ", why));
}

absl::StatusOr<Dim> ParseDim(absl::string_view field, absl::string_view s) {
  Dim d;
  if (s == "realm") {
    d.kind = Dim::kRealm;
  } else if (s == "server") {
    d.kind = Dim::kServer;
  } else if (s == "type") {
    d.kind = Dim::kType;
  } else if (s == "player") {
    d.kind = Dim::kPlayer;
  } else if (absl::StartsWith(s, "attr:") && s.size() > 5 && s.size() <= 5 + 32) {
    d.kind = Dim::kAttr;
    d.attr = std::string(s.substr(5));
  } else {
    return Bad(field, absl::StrCat("\"", s,
                                   "\" is not a dimension (realm, server, type, player, attr:<name>)"));
  }
  return d;
}

bool GroupsByPlayer(const CompiledRule& r) {
  for (const auto& d : r.group_by) {
    if (d.kind == Dim::kPlayer) return true;
  }
  return false;
}

}  // namespace

// Not absl::Hash: it is seeded afresh in each process. The length, then
// eight bytes at a time (the last eight overlapping the word before when
// the length is not a multiple of eight; shorter strings in two
// overlapping halves), each multiplied in and rotated; then a 64-bit
// finalizer (splitmix64's) so every input bit reaches every output bit,
// which the distinct-count sketches rely on.
uint64_t HashStr(absl::string_view s) {
  constexpr uint64_t kA = 0x9e3779b97f4a7c15ULL, kB = 0xbf58476d1ce4e5b9ULL, kC = 0x94d049bb133111ebULL;
  const char* p = s.data();
  const size_t len = s.size();
  uint64_t h = kA ^ (len * kB);
  auto mix = [&h](uint64_t v) {
    h ^= v * kC;
    h = ((h << 27) | (h >> 37)) * kA;
  };
  if (len >= 8) {
    uint64_t v;
    for (size_t n = len; n > 8; p += 8, n -= 8) {
      std::memcpy(&v, p, 8);
      mix(v);
    }
    std::memcpy(&v, s.data() + len - 8, 8);
    mix(v);
  } else if (len >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + len - 4, 4);
    mix(uint64_t{hi} << 32 | lo);
  } else if (len > 0) {
    mix(uint64_t{static_cast<uint8_t>(p[0])} << 16 | uint64_t{static_cast<uint8_t>(p[len / 2])} << 8 |
        static_cast<uint8_t>(p[len - 1]));
  }
  h ^= h >> 30;
  h *= kB;
  h ^= h >> 27;
  h *= kC;
  h ^= h >> 31;
  return h;
}

CompiledRule::CompiledRule() = default;
CompiledRule::~CompiledRule() = default;

absl::StatusOr<std::shared_ptr<const CompiledRule>> CompileRule(const v1::Rule& in) {
  auto out = std::make_shared<CompiledRule>();
  v1::Rule& r = out->rule;
  r = in;
  STEWARD_RETURN_IF_ERROR(CheckText("rule.name", r.name(), 1, 64));
  if (!v1::RuleKind_IsValid(r.kind()) || r.kind() == v1::RULE_KIND_UNSPECIFIED) {
    return Bad("kind", "choose threshold, rate_of_change, pattern, distinct or absence");
  }
  if (!v1::Severity_IsValid(r.severity())) return Bad("severity", "unknown value");
  if (r.severity() == v1::SEVERITY_UNSPECIFIED) r.set_severity(v1::SEVERITY_WARNING);
  if (r.event_types_size() > kMaxEventTypes) {
    return Bad("event_types", absl::StrCat("at most ", kMaxEventTypes));
  }
  for (const auto& t : r.event_types()) {
    STEWARD_RETURN_IF_ERROR(CheckId("rule.event_types", t, true));
    out->event_types.push_back(t);
  }
  if (r.attribute_equals_size() > 8) return Bad("attribute_equals", "at most 8 pairs");
  for (const auto& [k, v] : r.attribute_equals()) {
    STEWARD_RETURN_IF_ERROR(CheckId("rule.attribute_equals key", k, true));
    out->attribute_equals.emplace_back(k, v);
  }
  if (r.group_by_size() > kMaxGroupBy) return Bad("group_by", absl::StrCat("at most ", kMaxGroupBy, " dimensions"));
  for (const auto& g : r.group_by()) {
    STEWARD_ASSIGN_OR_RETURN(Dim d, ParseDim("group_by", g));
    out->group_by.push_back(std::move(d));
  }
  // Player ids are unique within a realm only, so a player key carries its
  // realm (which also scopes the sanction a rule may place).
  bool has_realm = false;
  for (const auto& d : out->group_by) has_realm |= d.kind == Dim::kRealm;
  if (GroupsByPlayer(*out) && !has_realm) {
    out->group_by.insert(out->group_by.begin(), Dim{Dim::kRealm, ""});
    r.mutable_group_by()->Add("realm");
    std::rotate(r.mutable_group_by()->rbegin(), r.mutable_group_by()->rbegin() + 1,
                r.mutable_group_by()->rend());
  }
  if (r.window_seconds() == 0) r.set_window_seconds(60);
  if (r.window_seconds() < 1 || r.window_seconds() > kMaxWindowSeconds) {
    return Bad("window_seconds", "between 1 and 86400");
  }
  out->window_ms = r.window_seconds() * 1000;
  out->pane_ms = out->window_ms;
  if (r.slide_seconds() != 0) {
    if (r.slide_seconds() < 0 || r.slide_seconds() > r.window_seconds() ||
        r.window_seconds() % r.slide_seconds() != 0) {
      return Bad("slide_seconds", "must divide window_seconds (0 = tumbling)");
    }
    if (r.window_seconds() / r.slide_seconds() > kMaxPanes) {
      return Bad("slide_seconds", absl::StrCat("a window holds at most ", kMaxPanes, " slides"));
    }
    out->pane_ms = r.slide_seconds() * 1000;
  }
  out->panes = static_cast<int>(out->window_ms / out->pane_ms);
  if (!v1::Aggregate_IsValid(r.aggregate())) return Bad("aggregate", "unknown value");
  if (r.aggregate() == v1::AGGREGATE_UNSPECIFIED) r.set_aggregate(v1::AGGREGATE_COUNT);
  if (!v1::Comparison_IsValid(r.comparison())) return Bad("comparison", "unknown value");
  if (r.comparison() == v1::COMPARISON_UNSPECIFIED) r.set_comparison(v1::COMPARISON_ABOVE);
  if (!std::isfinite(r.threshold())) return Bad("threshold", "must be a finite number");
  if (r.cooldown_seconds() == 0) r.set_cooldown_seconds(300);
  if (r.cooldown_seconds() < 0 || r.cooldown_seconds() > kMaxWindowSeconds) {
    return Bad("cooldown_seconds", "between 1 and 86400 (0 = 300)");
  }
  out->cooldown_ms = r.cooldown_seconds() * 1000;

  switch (r.kind()) {
    case v1::RULE_KIND_THRESHOLD:
      out->checked_on_close = r.comparison() == v1::COMPARISON_BELOW;
      break;
    case v1::RULE_KIND_RATE_OF_CHANGE:
      if (r.slide_seconds() != 0) return Bad("slide_seconds", "rate of change compares tumbling windows");
      if (r.threshold() <= 0) return Bad("threshold", "the z-score bound must be above 0, e.g. 3");
      if (r.baseline_windows() == 0) r.set_baseline_windows(5);
      if (r.baseline_windows() < 2 || r.baseline_windows() > 1000) {
        return Bad("baseline_windows", "between 2 and 1000");
      }
      out->checked_on_close = true;
      break;
    case v1::RULE_KIND_PATTERN: {
      if (r.pattern().empty() || r.pattern().size() > kMaxPatternLen) {
        return Bad("pattern", absl::StrCat("required, at most ", kMaxPatternLen, " bytes"));
      }
      RE2::Options o;
      o.set_log_errors(false);
      o.set_case_sensitive(!r.case_insensitive());
      out->pattern = std::make_unique<RE2>(r.pattern(), o);
      if (!out->pattern->ok()) return Bad("pattern", out->pattern->error());
      if (out->pattern->ProgramSize() > kMaxPatternProgram) {
        return Bad("pattern", "too complex; split it into several rules");
      }
      if (r.threshold() <= 0) r.set_threshold(1);
      break;
    }
    case v1::RULE_KIND_DISTINCT: {
      if (r.distinct_of().empty()) return Bad("distinct_of", "required, e.g. player");
      STEWARD_ASSIGN_OR_RETURN(out->distinct_of, ParseDim("distinct_of", r.distinct_of()));
      if (r.threshold() < 2) return Bad("threshold", "a distinct count bound of at least 2");
      break;
    }
    case v1::RULE_KIND_ABSENCE:
      if (r.absence_seconds() < 1 || r.absence_seconds() > kMaxWindowSeconds) {
        return Bad("absence_seconds", "required, between 1 and 86400");
      }
      if (out->group_by.empty()) return Bad("group_by", "absence needs a key, e.g. server");
      out->absence_ms = r.absence_seconds() * 1000;
      break;
    default:
      break;
  }

  const auto& a = r.action();
  if (!v1::ActionKind_IsValid(a.kind())) return Bad("action.kind", "unknown value");
  STEWARD_RETURN_IF_ERROR(CheckText("rule.action.reason", a.reason(), 0, kMaxReasonLen));
  switch (a.kind()) {
    case v1::ACTION_KIND_SANCTION:
      if (!GroupsByPlayer(*out)) return Bad("action", "a sanction needs group_by to include player");
      switch (a.sanction_type()) {
        case v1::SANCTION_TYPE_WARNING:
        case v1::SANCTION_TYPE_MUTE:
        case v1::SANCTION_TYPE_SHADOW_MUTE:
        case v1::SANCTION_TYPE_KICK:
        case v1::SANCTION_TYPE_TEMP_BAN:
        case v1::SANCTION_TYPE_BAN:
          break;
        default:
          return Bad("action.sanction_type", "warning, mute, shadow_mute, kick, temp_ban or ban");
      }
      if (a.sanction_type() == v1::SANCTION_TYPE_TEMP_BAN && a.sanction_duration_ms() <= 0) {
        return Bad("action.sanction_duration_ms", "a temp ban needs a duration");
      }
      if (a.sanction_duration_ms() < 0) return Bad("action.sanction_duration_ms", "must not be negative");
      if (a.reason().empty()) return Bad("action.reason", "the player is shown a reason; required");
      STEWARD_RETURN_IF_ERROR(CheckId("rule.action.policy_code", a.policy_code(), false));
      break;
    case v1::ACTION_KIND_OPEN_CASE: {
      if (!GroupsByPlayer(*out)) return Bad("action", "a case needs group_by to include player");
      v1::ReportCategory c;
      if (!v1::ReportCategory_Parse("REPORT_CATEGORY_" + absl::AsciiStrToUpper(a.case_category()), &c) ||
          c == v1::REPORT_CATEGORY_UNSPECIFIED || c == v1::REPORT_CATEGORY_CUSTOM) {
        return Bad("action.case_category", "a report category, e.g. cheating, botting, spamming");
      }
      break;
    }
    default:
      break;
  }
  return std::shared_ptr<const CompiledRule>(std::move(out));
}

// A group's pattern rules as one RE2::Set: a chat line is scanned once
// however many pattern rules watch chat. Should the set not build (its
// memory budget), each rule's own RE2 is run instead.
struct PatternMatcher {
  std::vector<uint16_t> rules;   // set position -> rule index
  std::vector<const RE2*> each;  // the rules' own patterns, same order
  std::unique_ptr<RE2::Set> set;
};

RuleGroup::RuleGroup() = default;
RuleGroup::~RuleGroup() = default;
RuleGroup::RuleGroup(RuleGroup&&) noexcept = default;
RuleGroup& RuleGroup::operator=(RuleGroup&&) noexcept = default;

bool RuleGroup::HasPatternSet() const { return patterns != nullptr && patterns->set != nullptr; }

void RuleGroup::MatchPatterns(absl::string_view text, std::vector<uint16_t>* matched) const {
  matched->clear();
  if (patterns == nullptr) return;
  const re2::StringPiece piece(text.data(), text.size());
  if (patterns->set != nullptr) {
    thread_local std::vector<int> hits;
    hits.clear();
    RE2::Set::ErrorInfo error{RE2::Set::kNoError};
    if (patterns->set->Match(piece, &hits, &error)) {
      for (int h : hits) matched->push_back(patterns->rules[static_cast<size_t>(h)]);
      return;
    }
    // No match, unless the set failed on this text (its DFA ran out of
    // memory): then the rules' own patterns decide.
    if (error.kind == RE2::Set::kNoError) return;
  }
  for (size_t i = 0; i < patterns->each.size(); ++i) {
    if (RE2::PartialMatch(piece, *patterns->each[i])) matched->push_back(patterns->rules[i]);
  }
}

namespace {

void BuildPatterns(const RuleSet& set, int64_t max_mem, RuleGroup& g) {
  auto m = std::make_unique<PatternMatcher>();
  for (uint16_t idx : g.rules) {
    const CompiledRule& r = *set.rules[idx];
    if (r.pattern == nullptr) continue;
    m->rules.push_back(idx);
    m->each.push_back(r.pattern.get());
  }
  if (m->rules.empty()) return;
  RE2::Options o;
  o.set_log_errors(false);
  if (max_mem > 0) o.set_max_mem(max_mem);
  auto rs = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
  bool ok = true;
  for (uint16_t idx : m->rules) {
    const CompiledRule& r = *set.rules[idx];
    // Each rule keeps its own case setting inside the shared set.
    const std::string p = absl::StrCat(r.rule.case_insensitive() ? "(?i:" : "(?:", r.pattern->pattern(), ")");
    if (rs->Add(p, nullptr) < 0) {
      ok = false;
      break;
    }
  }
  if (ok && rs->Compile()) m->set = std::move(rs);
  g.patterns = std::move(m);
}

}  // namespace

std::shared_ptr<const RuleSet> MakeRuleSet(std::vector<std::shared_ptr<const CompiledRule>> rules,
                                           uint64_t generation, int64_t pattern_set_max_mem) {
  auto set = std::make_shared<RuleSet>();
  set->generation = generation;
  for (auto& r : rules) {
    if (!r->rule.enabled()) continue;
    if (set->rules.size() >= 0xFFFE) break;
    auto idx = static_cast<uint16_t>(set->rules.size());
    if (r->event_types.empty()) {
      set->any_type.rules.push_back(idx);
    } else {
      for (const auto& t : r->event_types) set->by_type[HashStr(t)].rules.push_back(idx);
    }
    set->rules.push_back(std::move(r));
  }
  BuildPatterns(*set, pattern_set_max_mem, set->any_type);
  for (auto& [type, g] : set->by_type) BuildPatterns(*set, pattern_set_max_mem, g);
  return set;
}

}  // namespace steward
