// EventBatchView must read exactly what protobuf's parser reads: the same
// batches accepted, the same values, the same bytes refused.
#include "services/common/event_batch.h"

#include <google/protobuf/unknown_field_set.h>

#include <cstring>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "steward/v1/events.pb.h"
#include "tests/fuzz/event_diff.h"

namespace steward {
namespace {

void ExpectSame(const v1::EventBatch& m, const EventBatchView& v, const std::string& where) {
  EXPECT_EQ(DescribeDifference(m, v), "") << where;
}

std::shared_ptr<const EventBatchView> ParseOwned(const std::string& bytes, bool publish = false) {
  auto owned = std::make_shared<std::string>(bytes);
  auto v = EventBatchView::Parse(*owned, owned, publish);
  return v.ok() ? *v : nullptr;
}

class RandomBatches {
 public:
  explicit RandomBatches(uint64_t seed) : rng_(seed) {}

  std::string Text(int max_len) {
    static const char* const kPieces[] = {"a", "Z",  "0", " ",  "-",    "é",
                                          "ж", "中", "😀", "\t", "gold", "player-"};
    std::string s;
    const int n = Below(max_len + 1);
    while (static_cast<int>(s.size()) < n) s += kPieces[Below(12)];
    return s;
  }
  v1::EventBatch Batch() {
    v1::EventBatch b;
    if (Below(8) != 0) b.set_realm_id(Text(12));
    if (Below(8) != 0) b.set_server_id(Text(12));
    const int n = Below(6);
    for (int i = 0; i < n; ++i) {
      v1::Event* e = b.add_events();
      if (Below(3) != 0) e->set_time_ms(static_cast<int64_t>(rng_()) >> Below(64));
      e->set_type(Text(10));
      if (Below(2) != 0) e->set_player_id(Text(20));
      if (Below(2) != 0) {
        uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        e->set_value(Below(2) != 0 ? d : static_cast<double>(Below(1000)));
      }
      if (Below(3) == 0) e->set_text(Text(80));
      const int attrs = Below(4);
      for (int j = 0; j < attrs; ++j) {
        auto* a = e->add_attributes();
        a->set_key(Text(8));
        a->set_value(Text(16));
      }
    }
    return b;
  }
  int Below(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::string Mutate(std::string s) {
    const int edits = 1 + Below(3);
    for (int k = 0; k < edits; ++k) {
      const size_t at = s.empty() ? 0 : static_cast<size_t>(Below(static_cast<int>(s.size())));
      switch (Below(5)) {
        case 0:
          if (!s.empty()) s[at] = static_cast<char>(rng_());
          break;
        case 1:
          s.insert(at, 1, static_cast<char>(rng_()));
          break;
        case 2:
          if (!s.empty()) s.erase(at, 1);
          break;
        case 3:
          s.resize(at);
          break;
        case 4:
          if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1 << Below(8)));
          break;
      }
    }
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(EventBatchViewTest, ReadsWhatProtobufWrote) {
  RandomBatches gen(1);
  for (int i = 0; i < 2000; ++i) {
    v1::EventBatch m = gen.Batch();
    auto v = ParseOwned(m.SerializeAsString());
    ASSERT_NE(v, nullptr) << m.DebugString();
    ExpectSame(m, *v, "batch " + std::to_string(i));
    // The same batch wrapped in a PublishEventsRequest.
    v1::PublishEventsRequest req;
    *req.mutable_batch() = m;
    auto pv = ParseOwned(req.SerializeAsString(), /*publish=*/true);
    ASSERT_NE(pv, nullptr);
    ExpectSame(m, *pv, "publish " + std::to_string(i));
    // And a message built in memory.
    auto shared = std::make_shared<v1::EventBatch>(m);
    ExpectSame(m, *EventBatchView::Of(shared), "of " + std::to_string(i));
  }
}

TEST(EventBatchViewTest, AcceptsAndRefusesExactlyAsProtobufOnDamagedBytes) {
  RandomBatches gen(2);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 30000; ++i) {
    const std::string bytes = gen.Mutate(gen.Batch().SerializeAsString());
    v1::EventBatch m;
    const bool pb_ok = m.ParseFromString(bytes);
    auto v = ParseOwned(bytes);
    ASSERT_EQ(v != nullptr, pb_ok)
        << "case " << i << ": protobuf " << (pb_ok ? "accepts" : "refuses") << " bytes the view "
        << (v ? "accepts" : "refuses") << ": " << absl::BytesToHexString(bytes);
    if (pb_ok) {
      ExpectSame(m, *v, "case " + std::to_string(i));
      ++accepted;
    } else {
      ++refused;
    }
  }
  // Both outcomes must have been exercised for the comparison to mean much.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 1000);
}

TEST(EventBatchViewTest, RepeatedFieldsMergeAsProtobufMerges) {
  RandomBatches gen(3);
  for (int i = 0; i < 500; ++i) {
    // Two batches back to back are one message: later singular fields
    // win, events add up.
    const std::string bytes = gen.Batch().SerializeAsString() + gen.Batch().SerializeAsString();
    v1::EventBatch m;
    ASSERT_TRUE(m.ParseFromString(bytes));
    auto v = ParseOwned(bytes);
    ASSERT_NE(v, nullptr);
    ExpectSame(m, *v, "merged " + std::to_string(i));
  }
  // The same within one event: a second time_ms and type override the first.
  v1::Event a, b;
  a.set_time_ms(5);
  a.set_type("first");
  a.add_attributes()->set_key("k1");
  b.set_time_ms(9);
  b.set_type("second");
  b.add_attributes()->set_key("k2");
  const std::string event = a.SerializeAsString() + b.SerializeAsString();
  std::string batch;
  batch += static_cast<char>(3 << 3 | 2);
  batch += static_cast<char>(event.size());
  batch += event;
  v1::EventBatch m;
  ASSERT_TRUE(m.ParseFromString(batch));
  auto v = ParseOwned(batch);
  ASSERT_NE(v, nullptr);
  ExpectSame(m, *v, "one event twice");
  EXPECT_EQ(v->events(0).type(), "second");
  EXPECT_EQ(v->events(0).attributes_size(), 2);
}

TEST(EventBatchViewTest, SkipsUnknownFieldsOfEveryWireType) {
  v1::EventBatch m;
  m.set_realm_id("eu");
  v1::Event* e = m.add_events();
  e->set_type("chat");
  e->add_attributes()->set_key("channel");
  for (google::protobuf::Message* msg :
       std::initializer_list<google::protobuf::Message*>{&m, e, e->mutable_attributes(0)}) {
    auto* unknown = msg->GetReflection()->MutableUnknownFields(msg);
    unknown->AddVarint(100, 7);
    unknown->AddFixed32(101, 7);
    unknown->AddFixed64(102, 7);
    unknown->AddLengthDelimited(103, "\xff\xfe not UTF-8, and not checked");
    auto* group = unknown->AddGroup(104);
    group->AddVarint(1, 1);
    group->AddGroup(2)->AddFixed32(3, 3);
  }
  const std::string bytes = m.SerializeAsString();
  v1::EventBatch back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  auto v = ParseOwned(bytes);
  ASSERT_NE(v, nullptr);
  ExpectSame(back, *v, "unknown fields");
  // A known field number with another wire type is unknown too (here the
  // event's value, field 4, sent as a varint).
  v1::Event plain;
  plain.set_type("chat");
  std::string odd = plain.SerializeAsString() + std::string("\x20\x05", 2);
  std::string batch =
      std::string(1, static_cast<char>(3 << 3 | 2)) + static_cast<char>(odd.size()) + odd;
  ASSERT_TRUE(back.ParseFromString(batch));
  v = ParseOwned(batch);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->events(0).value(), 0);
}

TEST(EventBatchViewTest, RefusesStringsThatAreNotUtf8InEveryStringField) {
  const std::string bad[] = {"\xff",       "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                             "ab\xe2\x82", "\x80"};
  for (const std::string& b : bad) {
    for (int field = 0; field < 7; ++field) {
      v1::EventBatch m;
      m.set_realm_id("eu");
      v1::Event* e = m.add_events();
      e->set_type("chat");
      auto* a = e->add_attributes();
      a->set_key("k");
      // Protobuf's setters take any bytes; its parser is what refuses them.
      switch (field) {
        case 0:
          m.set_realm_id(b);
          break;
        case 1:
          m.set_server_id(b);
          break;
        case 2:
          e->set_type(b);
          break;
        case 3:
          e->set_player_id(b);
          break;
        case 4:
          e->set_text(b);
          break;
        case 5:
          a->set_key(b);
          break;
        case 6:
          a->set_value(b);
          break;
      }
      std::string bytes;
      ASSERT_TRUE(m.SerializePartialToString(&bytes));
      v1::EventBatch pb;
      EXPECT_FALSE(pb.ParseFromString(bytes)) << "field " << field;
      auto owned = std::make_shared<std::string>(bytes);
      auto v = EventBatchView::Parse(*owned, owned);
      ASSERT_FALSE(v.ok()) << "field " << field;
      EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(v.status().message().find("EventBatch"), std::string::npos) << v.status().message();
    }
  }
  // Valid multi-byte text passes.
  v1::EventBatch m;
  m.add_events()->set_text("héllo 中文 😀");
  auto v = ParseOwned(m.SerializeAsString());
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->events(0).text(), "héllo 中文 😀");
}

TEST(EventBatchViewTest, StopsAtItsLimitsSayingWhich) {
  v1::EventBatch m;
  m.set_realm_id("eu");
  for (int i = 0; i < 6; ++i) m.add_events()->set_type("kill");
  for (int a = 0; a < 3; ++a) m.mutable_events(5)->add_attributes()->set_key("k");
  auto bytes = std::make_shared<std::string>(m.SerializeAsString());
  EventBatchView::Limits limits;
  limits.max_events = 6;
  limits.max_attributes_per_event = 3;
  auto v = EventBatchView::Parse(*bytes, bytes, false, limits);
  ASSERT_TRUE(v.ok()) << v.status();  // exactly at both limits
  EXPECT_EQ((*v)->events_size(), 6);
  limits.max_events = 5;
  v = EventBatchView::Parse(*bytes, bytes, false, limits);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message(), "a batch holds at most 5 events; this one has more; split it");
  limits.max_events = 6;
  limits.max_attributes_per_event = 2;
  v = EventBatchView::Parse(*bytes, bytes, false, limits);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "events[5].attributes: at most 2");
  // In a PublishEventsRequest the same.
  v1::PublishEventsRequest req;
  *req.mutable_batch() = m;
  auto wrapped = std::make_shared<std::string>(req.SerializeAsString());
  v = EventBatchView::Parse(*wrapped, wrapped, true, limits);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "events[5].attributes: at most 2");
}

TEST(EventBatchViewTest, CopyToReusesASlotWithoutLeftovers) {
  v1::EventBatch m;
  v1::Event* big = m.add_events();
  big->set_type("trade");
  big->set_player_id("p-1");
  big->set_text("a long line of chat that leaves its capacity behind");
  for (int i = 0; i < 3; ++i) big->add_attributes()->set_key("k" + std::to_string(i));
  v1::Event* small = m.add_events();
  small->set_type("kill");
  small->add_attributes()->set_key("weapon");
  auto v = EventBatchView::Of(std::make_shared<v1::EventBatch>(m));
  v1::Event slot;
  v->events(0).CopyTo(&slot);
  EXPECT_EQ(slot.SerializeAsString(), big->SerializeAsString());
  v->events(1).CopyTo(&slot);
  EXPECT_EQ(slot.SerializeAsString(), small->SerializeAsString());
}

}  // namespace
}  // namespace steward

namespace steward {
namespace {

// The encoder's bytes against protobuf's own serialization of the same
// content, so stewardd cannot tell them apart.
TEST(EventBatchEncoderTest, WritesTheBytesProtobufWrites) {
  RandomBatches gen(11);
  EventBatchEncoder enc;
  for (int i = 0; i < 3000; ++i) {
    v1::EventBatch m = gen.Batch();
    if (m.events_size() > 0) {
      v1::Event* e = m.mutable_events(0);
      if (i % 5 == 0) e->set_value(-0.0);                  // not a zero value to proto3
      if (i % 7 == 0) e->add_attributes();                 // an empty attribute is still sent
      if (i % 11 == 0) e->set_text(std::string(300, 'x'));  // lengths of two varint bytes
      if (i % 13 == 0) e->set_time_ms(-1);                 // ten varint bytes
    }
    enc.Start(m.realm_id(), m.server_id());
    for (const auto& e : m.events()) {
      std::vector<EventBatchEncoder::Attribute> attrs;
      for (const auto& a : e.attributes()) attrs.push_back({a.key(), a.value()});
      enc.Add(e.time_ms(), e.type(), e.player_id(), e.value(), attrs, e.text());
    }
    ASSERT_EQ(enc.bytes(), m.SerializeAsString()) << m.DebugString();
    EXPECT_EQ(enc.events(), m.events_size());
  }
  // Start begins afresh.
  enc.Start("eu1", "s1");
  v1::EventBatch m;
  m.set_realm_id("eu1");
  m.set_server_id("s1");
  EXPECT_EQ(enc.bytes(), m.SerializeAsString());
  EXPECT_EQ(enc.events(), 0);
}

}  // namespace
}  // namespace steward
