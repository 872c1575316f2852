// EventBatchView: a batch of events as the pipeline reads it, every string
// a view into bytes the batch keeps alive.
//
// Game servers send hundreds of thousands of events a second. Parsed into
// protobuf messages, each event's strings become heap blocks allocated on
// the gRPC thread and freed on a worker: about a fifth of stewardd's CPU
// under event load went to that parse and its allocations. Parse() reads
// the wire format of steward.v1.EventBatch (events.proto) in one pass
// into flat arrays of views instead, with protobuf's own rules: the last
// of a repeated singular field wins, unknown fields are skipped, a string
// field that is not UTF-8 fails the parse. Of() wraps a message built in
// memory (heartbeats, seeding, tests) in the same interface.
//
// Accessors are named as the message's, so code reads the same either way.
#ifndef STEWARD_SERVICES_COMMON_EVENT_BATCH_H_
#define STEWARD_SERVICES_COMMON_EVENT_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace steward {
namespace v1 {
class Event;
class EventBatch;
}  // namespace v1

struct AttributeView {
  absl::string_view key_, value_;
  absl::string_view key() const { return key_; }
  absl::string_view value() const { return value_; }
};

class EventView {
 public:
  int64_t time_ms() const { return time_ms_; }
  absl::string_view type() const { return type_; }
  absl::string_view player_id() const { return player_id_; }
  double value() const { return value_; }
  absl::string_view text() const { return text_; }
  absl::Span<const AttributeView> attributes() const { return {attrs_, attrs_size_}; }
  int attributes_size() const { return static_cast<int>(attrs_size_); }
  // The event as a message (evidence stored with an alert).
  void CopyTo(v1::Event* out) const;

 private:
  friend class EventBatchView;
  friend class WireEventParser;
  int64_t time_ms_ = 0;
  double value_ = 0;
  absl::string_view type_, player_id_, text_;
  const AttributeView* attrs_ = nullptr;  // set once the batch is whole
  uint32_t attrs_begin_ = 0;              // index in the batch's attributes
  uint32_t attrs_size_ = 0;
};

// Counts past which a parse stops instead of reading on: a 4 MiB batch
// of empty events is two million of them, which validation would refuse
// only after they were all laid out in memory.
struct EventBatchLimits {
  size_t max_events = SIZE_MAX;
  size_t max_attributes_per_event = SIZE_MAX;
};

class EventBatchView {
 public:
  using Limits = EventBatchLimits;
  // Parses `bytes` as a steward.v1.EventBatch, or, with `publish_request`,
  // as a steward.v1.PublishEventsRequest (whose field 1 is the batch).
  // `owner` keeps `bytes` alive for as long as the batch lives. Without
  // limits it fails (InvalidArgument) exactly where protobuf's parser
  // would; past a limit it fails saying which.
  static absl::StatusOr<std::shared_ptr<const EventBatchView>> Parse(
      absl::string_view bytes, std::shared_ptr<const void> owner, bool publish_request = false,
      const Limits& limits = {});
  // A view of a message, which it keeps alive.
  static std::shared_ptr<const EventBatchView> Of(std::shared_ptr<const v1::EventBatch> message);

  absl::string_view realm_id() const { return realm_id_; }
  absl::string_view server_id() const { return server_id_; }
  int events_size() const { return static_cast<int>(events_.size()); }
  const EventView& events(int i) const { return events_[static_cast<size_t>(i)]; }
  absl::Span<const EventView> events() const { return events_; }

 private:
  friend class WireEventParser;
  void Seal();  // points each event at its attributes
  std::shared_ptr<const void> owner_;
  absl::string_view realm_id_, server_id_;
  std::vector<EventView> events_;
  std::vector<AttributeView> attrs_;
};

// Writes the EventBatch wire format directly: the bytes protobuf would
// serialize for the same content (fields in number order, zero values
// left out), without building a message per event. For senders of many
// events, the plugin's event stream and the load generator, where
// building and serializing messages cost several times what this does.
// It does not check limits or UTF-8: stewardd refuses such a batch as it
// would the message.
class EventBatchEncoder {
 public:
  struct Attribute {
    absl::string_view key, value;
  };

  // Starts a new batch of (realm, server).
  void Start(absl::string_view realm_id, absl::string_view server_id);
  void Add(int64_t time_ms, absl::string_view type, absl::string_view player_id, double value,
           absl::Span<const Attribute> attributes = {}, absl::string_view text = {});

  int events() const { return events_; }
  // The encoded batch so far (valid until the next Start or Add).
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
  int events_ = 0;
};

}  // namespace steward

#endif  // STEWARD_SERVICES_COMMON_EVENT_BATCH_H_
