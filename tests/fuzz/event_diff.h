// How a parsed EventBatchView differs from the message protobuf parsed
// from the same bytes: the fuzz harness and the unit tests both hold the
// view to protobuf's reading with it.
#ifndef STEWARD_TESTS_FUZZ_EVENT_DIFF_H_
#define STEWARD_TESTS_FUZZ_EVENT_DIFF_H_

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/event_batch.h"
#include "steward/v1/events.pb.h"

namespace steward {

// Empty when every field the view reads is as protobuf read it (values
// bit for bit: NaN payloads and negative zero included).
inline std::string DescribeDifference(const v1::EventBatch& m, const EventBatchView& v) {
  if (v.realm_id() != m.realm_id()) return "realm_id";
  if (v.server_id() != m.server_id()) return "server_id";
  if (v.events_size() != m.events_size()) {
    return absl::StrCat("events: ", v.events_size(), " vs ", m.events_size());
  }
  for (int i = 0; i < m.events_size(); ++i) {
    const v1::Event& me = m.events(i);
    const EventView& ve = v.events(i);
    const std::string at = absl::StrCat("events[", i, "].");
    const double a = ve.value(), b = me.value();
    if (ve.time_ms() != me.time_ms()) return at + "time_ms";
    if (ve.type() != me.type()) return at + "type";
    if (ve.player_id() != me.player_id()) return at + "player_id";
    if (std::memcmp(&a, &b, sizeof a) != 0) return at + "value";
    if (ve.text() != me.text()) return at + "text";
    if (ve.attributes_size() != me.attributes_size()) return at + "attributes";
    for (int j = 0; j < me.attributes_size(); ++j) {
      if (ve.attributes()[j].key() != me.attributes(j).key() ||
          ve.attributes()[j].value() != me.attributes(j).value()) {
        return absl::StrCat(at, "attributes[", j, "]");
      }
    }
  }
  return "";
}

}  // namespace steward

#endif  // STEWARD_TESTS_FUZZ_EVENT_DIFF_H_
