// Event batches as game servers send them, under arbitrary bytes: the
// pipeline's own wire parser (EventBatchView) must accept exactly the
// bytes protobuf's parser accepts and read the same values from them, as
// a batch and inside a PublishEventsRequest. And what game servers write
// with EventBatchEncoder must be the bytes protobuf writes for the same
// batch.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "services/common/event_batch.h"
#include "steward/v1/events.pb.h"
#include "tests/fuzz/event_diff.h"

namespace {

void Compare(const std::string& bytes, bool publish) {
  using steward::EventBatchView;
  steward::v1::EventBatch batch;
  steward::v1::PublishEventsRequest req;
  const bool pb_ok = publish ? req.ParseFromString(bytes) : batch.ParseFromString(bytes);
  auto owned = std::make_shared<std::string>(bytes);
  auto view = EventBatchView::Parse(*owned, owned, publish);
  if (view.ok() != pb_ok) {
    std::fprintf(stderr, "protobuf %s, the view %s (%s)\n", pb_ok ? "accepts" : "refuses",
                 view.ok() ? "accepts" : "refuses",
                 publish ? "PublishEventsRequest" : "EventBatch");
    std::abort();
  }
  if (!pb_ok) return;
  const std::string diff = steward::DescribeDifference(publish ? req.batch() : batch, **view);
  if (!diff.empty()) {
    std::fprintf(stderr, "the view reads %s differently\n", diff.c_str());
    std::abort();
  }
  if (publish) return;
  batch.DiscardUnknownFields();  // the encoder writes known fields only
  steward::EventBatchEncoder enc;
  enc.Start(batch.realm_id(), batch.server_id());
  std::vector<steward::EventBatchEncoder::Attribute> attrs;
  for (const auto& e : batch.events()) {
    attrs.clear();
    for (const auto& a : e.attributes()) attrs.push_back({a.key(), a.value()});
    enc.Add(e.time_ms(), e.type(), e.player_id(), e.value(), attrs, e.text());
  }
  if (enc.bytes() != batch.SerializeAsString()) {
    std::fprintf(stderr, "the encoder writes other bytes than protobuf for the same batch\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Compare(bytes, /*publish=*/false);
  Compare(bytes, /*publish=*/true);
  return 0;
}
