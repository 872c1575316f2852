#include "services/common/event_batch.h"

#include "services/common/validation.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "steward/v1/events.pb.h"

namespace steward {
namespace {

// Wire types (the low three bits of a tag).
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4,
                   kFixed32 = 5;
constexpr int kMaxGroupDepth = 100;  // protobuf's recursion limit

// Standard UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool IsUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  // Nearly every string is ASCII: one look at all its bytes decides that.
  uint64_t high = 0;
  const auto* q = p;
  for (; end - q >= 8; q += 8) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    high |= w;
  }
  for (; q < end; ++q) high |= *q;
  if ((high & 0x8080808080808080ULL) == 0) return true;
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int more;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= more) return false;
    for (int i = 1; i <= more; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (more == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    p += more + 1;
  }
  return true;
}

// Reads protobuf's wire format from [p, end). Every method returns false
// on bytes protobuf's parser would refuse.
class WireReader {
 public:
  WireReader(const char* p, const char* end) : p_(p), end_(end) {}
  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;  // more than ten bytes
  }
  // A tag: at most five bytes, bits past the 32nd dropped (as protobuf
  // does), a field number above zero.
  bool Tag(uint32_t* field, uint32_t* wire_type) {
    uint32_t t = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      t |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        *field = t >> 3;
        *wire_type = t & 7;
        return *field != 0;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  // A length: at most five bytes and under 2 GiB, as protobuf reads it.
  bool Len(absl::string_view* out) {
    uint64_t n = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      if (i == 4 && b >= 8) return false;
      n |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) break;
    }
    if (n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = absl::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Utf8(absl::string_view* out) { return Len(out) && IsUtf8(*out); }
  // Skips the value of a field this build does not read.
  bool Skip(uint32_t field, uint32_t wire_type, int depth = 0) {
    uint64_t scratch;
    absl::string_view bytes;
    switch (wire_type) {
      case kVarint:
        return Varint(&scratch);
      case kFixed64:
        return Fixed64(&scratch);
      case kLen:
        return Len(&bytes);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return false;
        while (true) {
          uint32_t f, w;
          if (!Tag(&f, &w)) return false;
          if (w == kEndGroup) return f == field;
          if (!Skip(f, w, depth + 1)) return false;
        }
      }
      default:
        return false;  // an end group out of place, or types 6 and 7
    }
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

// Fills an EventBatchView from the wire, field numbers as in events.proto.
class WireEventParser {
 public:
  WireEventParser(EventBatchView* out, const EventBatchView::Limits& limits)
      : out_(out), limits_(limits) {}
  // Why the parse stopped when it did not fail on the bytes themselves.
  const std::string& over_limit() const { return over_limit_; }

  bool PublishRequest(absl::string_view bytes) {
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    while (!r.done()) {
      uint32_t f, w;
      if (!r.Tag(&f, &w)) return false;
      absl::string_view batch;
      if (f == 1 && w == kLen) {
        if (!r.Len(&batch) || !Batch(batch)) return false;  // repeated: merged, as protobuf does
      } else if (!r.Skip(f, w)) {
        return false;
      }
    }
    return true;
  }

  bool Batch(absl::string_view bytes) {
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    while (!r.done()) {
      uint32_t f, w;
      if (!r.Tag(&f, &w)) return false;
      bool ok;
      absl::string_view event;
      if (f == 1 && w == kLen) {
        ok = r.Utf8(&out_->realm_id_);
      } else if (f == 2 && w == kLen) {
        ok = r.Utf8(&out_->server_id_);
      } else if (f == 3 && w == kLen) {
        ok = r.Len(&event) && Event(event);
      } else {
        ok = r.Skip(f, w);
      }
      if (!ok) return false;
    }
    return true;
  }

 private:
  bool Event(absl::string_view bytes) {
    if (out_->events_.size() >= limits_.max_events) {
      over_limit_ = absl::StrCat("a batch holds at most ", limits_.max_events,
                                 " events; this one has more; split it");
      return false;
    }
    EventView e;
    e.attrs_begin_ = static_cast<uint32_t>(out_->attrs_.size());
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    while (!r.done()) {
      uint32_t f, w;
      if (!r.Tag(&f, &w)) return false;
      bool ok;
      uint64_t v = 0;
      absl::string_view attr;
      if (f == 1 && w == kVarint) {
        ok = r.Varint(&v);
        e.time_ms_ = static_cast<int64_t>(v);
      } else if (f == 2 && w == kLen) {
        ok = r.Utf8(&e.type_);
      } else if (f == 3 && w == kLen) {
        ok = r.Utf8(&e.player_id_);
      } else if (f == 4 && w == kFixed64) {
        ok = r.Fixed64(&v);
        std::memcpy(&e.value_, &v, sizeof v);
      } else if (f == 5 && w == kLen) {
        if (out_->attrs_.size() - e.attrs_begin_ >= limits_.max_attributes_per_event) {
          over_limit_ = absl::StrCat("events[", out_->events_.size(), "].attributes: at most ",
                                     limits_.max_attributes_per_event);
          return false;
        }
        ok = r.Len(&attr) && Attribute(attr);
      } else if (f == 6 && w == kLen) {
        ok = r.Utf8(&e.text_);
      } else {
        ok = r.Skip(f, w);
      }
      if (!ok) return false;
    }
    e.attrs_size_ = static_cast<uint32_t>(out_->attrs_.size()) - e.attrs_begin_;
    out_->events_.push_back(e);
    return true;
  }

  bool Attribute(absl::string_view bytes) {
    AttributeView a;
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    while (!r.done()) {
      uint32_t f, w;
      if (!r.Tag(&f, &w)) return false;
      bool ok;
      if (f == 1 && w == kLen) {
        ok = r.Utf8(&a.key_);
      } else if (f == 2 && w == kLen) {
        ok = r.Utf8(&a.value_);
      } else {
        ok = r.Skip(f, w);
      }
      if (!ok) return false;
    }
    out_->attrs_.push_back(a);
    return true;
  }

  EventBatchView* out_;
  const EventBatchView::Limits& limits_;
  std::string over_limit_;
};

void EventView::CopyTo(v1::Event* out) const {
  // Assigned in place: `out` is usually a sample slot whose strings
  // already have the room.
  out->set_time_ms(time_ms_);
  out->mutable_type()->assign(type_.data(), type_.size());
  out->mutable_player_id()->assign(player_id_.data(), player_id_.size());
  out->set_value(value_);
  out->mutable_text()->assign(text_.data(), text_.size());
  auto* attrs = out->mutable_attributes();
  while (attrs->size() > attributes_size()) attrs->RemoveLast();
  for (int i = 0; i < attributes_size(); ++i) {
    v1::Attribute* a = i < attrs->size() ? attrs->Mutable(i) : attrs->Add();
    a->mutable_key()->assign(attrs_[i].key_.data(), attrs_[i].key_.size());
    a->mutable_value()->assign(attrs_[i].value_.data(), attrs_[i].value_.size());
  }
}

absl::StatusOr<std::shared_ptr<const EventBatchView>> EventBatchView::Parse(
    absl::string_view bytes, std::shared_ptr<const void> owner, bool publish_request,
    const Limits& limits) {
  auto batch = std::make_shared<EventBatchView>();
  batch->owner_ = std::move(owner);
  // A typical event is 50-100 bytes on the wire; a batch of the largest
  // events reserves no more than a full batch of small ones would use.
  const size_t guess = std::min<size_t>(bytes.size() / 64 + 1, 4096);
  batch->events_.reserve(guess);
  batch->attrs_.reserve(guess);
  WireEventParser parser(batch.get(), limits);
  if (!(publish_request ? parser.PublishRequest(bytes) : parser.Batch(bytes))) {
    if (!parser.over_limit().empty()) return absl::InvalidArgumentError(parser.over_limit());
    return absl::InvalidArgumentError(
        UnparsableRequest(publish_request ? "PublishEventsRequest" : "EventBatch"));
  }
  batch->Seal();
  return batch;
}

std::shared_ptr<const EventBatchView> EventBatchView::Of(
    std::shared_ptr<const v1::EventBatch> message) {
  auto batch = std::make_shared<EventBatchView>();
  const v1::EventBatch& m = *message;
  batch->realm_id_ = m.realm_id();
  batch->server_id_ = m.server_id();
  batch->events_.reserve(static_cast<size_t>(m.events_size()));
  for (const v1::Event& src : m.events()) {
    EventView e;
    e.time_ms_ = src.time_ms();
    e.value_ = src.value();
    e.type_ = src.type();
    e.player_id_ = src.player_id();
    e.text_ = src.text();
    e.attrs_begin_ = static_cast<uint32_t>(batch->attrs_.size());
    for (const auto& a : src.attributes())
      batch->attrs_.push_back(AttributeView{a.key(), a.value()});
    e.attrs_size_ = static_cast<uint32_t>(batch->attrs_.size()) - e.attrs_begin_;
    batch->events_.push_back(e);
  }
  batch->owner_ = std::move(message);
  batch->Seal();
  return batch;
}

void EventBatchView::Seal() {
  for (EventView& e : events_) e.attrs_ = attrs_.data() + e.attrs_begin_;
}

namespace {

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// A length-delimited field of number < 16 (a one-byte tag); an empty
// string is a zero value and left out, as protobuf does.
size_t StringFieldSize(absl::string_view s) { return s.empty() ? 0 : 1 + VarintSize(s.size()) + s.size(); }

// Writes into space already sized for it (the encoder sizes each event
// first), so no byte pays for a capacity check.
class WireWriter {
 public:
  explicit WireWriter(char* at) : p_(at) {}
  void Byte(uint8_t b) { *p_++ = static_cast<char>(b); }
  void Varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) Byte(static_cast<uint8_t>(v | 0x80));
    Byte(static_cast<uint8_t>(v));
  }
  void String(uint8_t tag, absl::string_view s) {
    if (s.empty()) return;
    Byte(tag);
    Varint(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void Fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));  // little-endian
  }
  const char* end() const { return p_; }

 private:
  char* p_;
};

// Tags: field number << 3 | wire type (0 varint, 1 fixed64, 2 length-delimited).
constexpr uint8_t kTagBatchRealm = 1 << 3 | 2, kTagBatchServer = 2 << 3 | 2, kTagBatchEvent = 3 << 3 | 2;
constexpr uint8_t kTagTime = 1 << 3 | 0, kTagType = 2 << 3 | 2, kTagPlayer = 3 << 3 | 2;
constexpr uint8_t kTagValue = 4 << 3 | 1, kTagAttribute = 5 << 3 | 2, kTagText = 6 << 3 | 2;
constexpr uint8_t kTagAttrKey = 1 << 3 | 2, kTagAttrValue = 2 << 3 | 2;

}  // namespace

void EventBatchEncoder::Start(absl::string_view realm_id, absl::string_view server_id) {
  out_.resize(StringFieldSize(realm_id) + StringFieldSize(server_id));
  events_ = 0;
  WireWriter w(out_.data());
  w.String(kTagBatchRealm, realm_id);
  w.String(kTagBatchServer, server_id);
}

void EventBatchEncoder::Add(int64_t time_ms, absl::string_view type, absl::string_view player_id,
                            double value, absl::Span<const Attribute> attributes, absl::string_view text) {
  // proto3 leaves out a double whose bits are all zero (so -0.0 is sent).
  uint64_t value_bits = 0;
  std::memcpy(&value_bits, &value, sizeof value);
  size_t size = (time_ms != 0 ? 1 + VarintSize(static_cast<uint64_t>(time_ms)) : 0) + StringFieldSize(type) +
                StringFieldSize(player_id) + (value_bits != 0 ? 1 + sizeof value : 0) + StringFieldSize(text);
  for (const Attribute& a : attributes) {
    const size_t inner = StringFieldSize(a.key) + StringFieldSize(a.value);
    size += 1 + VarintSize(inner) + inner;  // a repeated message is sent even when empty
  }
  const size_t at = out_.size();
  out_.resize(at + 1 + VarintSize(size) + size);
  WireWriter w(out_.data() + at);
  w.Byte(kTagBatchEvent);
  w.Varint(size);
  if (time_ms != 0) {
    w.Byte(kTagTime);
    w.Varint(static_cast<uint64_t>(time_ms));
  }
  w.String(kTagType, type);
  w.String(kTagPlayer, player_id);
  if (value_bits != 0) {
    w.Byte(kTagValue);
    w.Fixed64(value_bits);
  }
  for (const Attribute& a : attributes) {
    w.Byte(kTagAttribute);
    w.Varint(StringFieldSize(a.key) + StringFieldSize(a.value));
    w.String(kTagAttrKey, a.key);
    w.String(kTagAttrValue, a.value);
  }
  w.String(kTagText, text);
  assert(w.end() == out_.data() + out_.size());
  ++events_;
}

}  // namespace steward
