// Monitoring rules: validation and the compiled form the pipeline runs.
#ifndef STEWARD_SERVICES_MONITORING_RULES_H_
#define STEWARD_SERVICES_MONITORING_RULES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "steward/v1/events.pb.h"

namespace re2 {
class RE2;
}

namespace steward {

// A part of an event a key is made of.
struct Dim {
  enum Kind : uint8_t { kRealm, kServer, kType, kPlayer, kAttr };
  Kind kind = kPlayer;
  std::string attr;  // kAttr only
};

// Hash of a string as the pipeline uses it for types, keys and distinct
// values. Window keys and distinct sketches are saved across restarts
// (Pipeline::SaveState), so it is the same in every process and every
// build: a change to it makes saved window state unrecognisable.
uint64_t HashStr(absl::string_view s);

struct CompiledRule {
  CompiledRule();
  ~CompiledRule();
  CompiledRule(const CompiledRule&) = delete;
  CompiledRule& operator=(const CompiledRule&) = delete;

  v1::Rule rule;
  std::vector<std::string> event_types;  // empty = any
  std::vector<std::pair<std::string, std::string>> attribute_equals;
  std::vector<Dim> group_by;
  Dim distinct_of;
  int64_t window_ms = 60'000;
  int64_t pane_ms = 60'000;  // = slide, or the window when tumbling
  int panes = 1;             // window_ms / pane_ms
  int64_t absence_ms = 0;
  int64_t cooldown_ms = 300'000;
  std::unique_ptr<re2::RE2> pattern;
  bool checked_on_close = false;  // BELOW thresholds and RATE_OF_CHANGE
};

// Checks a rule as a GM wrote it and fills defaults; InvalidArgument names
// the field and the reason.
absl::StatusOr<std::shared_ptr<const CompiledRule>> CompileRule(const v1::Rule& rule);

struct PatternMatcher;  // rules.cc

// The rules an event of one type (or of any type) is offered to.
struct RuleGroup {
  RuleGroup();
  ~RuleGroup();
  RuleGroup(RuleGroup&&) noexcept;
  RuleGroup& operator=(RuleGroup&&) noexcept;

  std::vector<uint16_t> rules;  // indexes into RuleSet::rules
  // The group's pattern rules, matched together in one pass over the text
  // (null when the group has none).
  std::unique_ptr<const PatternMatcher> patterns;

  // Sets *matched to the group's pattern rules (indexes into
  // RuleSet::rules) whose pattern occurs in `text`.
  void MatchPatterns(absl::string_view text, std::vector<uint16_t>* matched) const;
  // Whether the pattern rules are matched as one set (false: one by one,
  // as the set did not fit its memory budget, or there are none).
  bool HasPatternSet() const;
};

// The rules in force, indexed for the ingest path.
struct RuleSet {
  std::vector<std::shared_ptr<const CompiledRule>> rules;  // enabled ones
  absl::flat_hash_map<uint64_t, RuleGroup> by_type;  // type hash -> its rules
  RuleGroup any_type;                                // rules without a type filter
  uint64_t generation = 0;
};

// `pattern_set_max_mem` bounds each group's RE2::Set (0: RE2's default);
// a set over its budget falls back to the rules' own patterns.
std::shared_ptr<const RuleSet> MakeRuleSet(std::vector<std::shared_ptr<const CompiledRule>> rules,
                                           uint64_t generation, int64_t pattern_set_max_mem = 0);

}  // namespace steward

#endif  // STEWARD_SERVICES_MONITORING_RULES_H_
