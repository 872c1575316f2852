#include "services/desk/knowledge.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/audit/audit.h"
#include "services/common/records.h"
#include "services/common/validation.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;

// Cf::kKbIndex entries.
constexpr uint8_t kIdxVersion = 'v';  // U64(id) U64(version) -> KbEntry
constexpr uint8_t kIdxWord = 'w';     // Str(word) U64(id) -> ""
constexpr uint8_t kIdxTag = 't';      // Str(tag) U64(id) -> ""
constexpr size_t kMaxTags = 16;
constexpr size_t kMaxWordLen = 40;

// Lower-cased words of two letters or more; bytes of UTF-8 sequences count
// as letters, so non-Latin words are indexed whole.
std::set<std::string> Words(absl::string_view text) {
  std::set<std::string> out;
  std::string w;
  auto flush = [&] {
    if (w.size() >= 2 && w.size() <= kMaxWordLen) out.insert(w);
    w.clear();
  };
  for (char ch : text) {
    auto u = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(ch) || u >= 0x80) {
      w += absl::ascii_tolower(ch);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::set<std::string> IndexWords(const v1::KbEntry& e) {
  std::set<std::string> words = Words(e.title());
  for (auto& w : Words(e.body())) words.insert(w);
  for (const auto& t : e.tags()) {
    for (auto& w : Words(t)) words.insert(w);
  }
  return words;
}

std::string WordKey(absl::string_view word, uint64_t id) {
  return KeyWriter().Byte(kIdxWord).Str(word).U64(id).Release();
}
std::string TagKey(absl::string_view tag, uint64_t id) {
  return KeyWriter().Byte(kIdxTag).Str(tag).U64(id).Release();
}

bool ValidAt(const v1::KbEntry& e, int64_t now) {
  return (e.valid_from_ms() == 0 || now >= e.valid_from_ms()) &&
         (e.valid_until_ms() == 0 || now < e.valid_until_ms());
}

absl::Status Validate(const v1::SaveKbEntryRequest& req) {
  const v1::KbEntry& e = req.entry();
  STEWARD_RETURN_IF_ERROR(CheckText("entry.title", e.title(), 1, kMaxSubjectLen));
  STEWARD_RETURN_IF_ERROR(CheckText("entry.body", e.body(), 1, kMaxTextLen));
  STEWARD_RETURN_IF_ERROR(CheckId("entry.locale", e.locale(), true));
  if (static_cast<size_t>(e.tags_size()) > kMaxTags) {
    return absl::InvalidArgumentError(absl::StrCat("entry.tags: at most ", kMaxTags));
  }
  for (const auto& t : e.tags()) STEWARD_RETURN_IF_ERROR(CheckId("entry.tags", t, true));
  if (e.valid_from_ms() < 0 || e.valid_until_ms() < 0 ||
      (e.valid_until_ms() != 0 && e.valid_until_ms() <= e.valid_from_ms())) {
    return absl::InvalidArgumentError("entry.valid_until_ms must be after valid_from_ms (or 0)");
  }
  STEWARD_RETURN_IF_ERROR(CheckText("reason", req.reason(), e.id() == 0 ? 0 : 1, kMaxReasonLen));
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadCitableEntry(Txn& txn, uint64_t id, int64_t now, v1::KbEntry* out) {
  STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kKnowledge, id, "knowledge-base entry", out));
  if (!ValidAt(*out, now)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "knowledge-base entry ", id, " \"", out->title(), "\" is not valid now (",
        out->valid_until_ms() != 0 && now >= out->valid_until_ms() ? "expired" : "not yet in force",
        "); update it or cite another"));
  }
  return absl::OkStatus();
}

Knowledge::Knowledge(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

int64_t Knowledge::Now() const { return clock_->NowMs(); }

void Knowledge::Save(const Caller& c, const v1::SaveKbEntryRequest& req, v1::SaveKbEntryResponse* resp,
                     storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "SaveEntry");
  if (s.ok()) s = Validate(req);
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        const int64_t now = Now();
        v1::KbEntry before;
        const bool is_new = req.entry().id() == 0;
        if (!is_new) {
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kKnowledge, req.entry().id(), "knowledge-base entry", &before));
          if (req.entry().version() != 0 && req.entry().version() != before.version()) {
            return absl::AbortedError(absl::StrCat("entry ", before.id(), " is at version ", before.version(),
                                                   "; reload it and edit again"));
          }
        }
        v1::KbEntry& e = *resp->mutable_entry();
        e = req.entry();
        if (is_new) {
          STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("kb"));
          e.set_id(id);
          e.set_created_by(c.name());
        } else {
          e.set_created_by(before.created_by());
          for (const auto& w : IndexWords(before)) txn.Delete(Cf::kKbIndex, WordKey(w, e.id()));
          for (const auto& t : before.tags()) txn.Delete(Cf::kKbIndex, TagKey(t, e.id()));
        }
        e.set_version(before.version() + 1);
        e.set_updated_by(c.name());
        e.set_updated_at_ms(now);
        e.set_change_reason(req.reason());
        txn.Put(Cf::kKnowledge, RecordKey(e.id()), e.SerializeAsString());
        txn.Put(Cf::kKbIndex, KeyWriter().Byte(kIdxVersion).U64(e.id()).U64(e.version()).key(),
                e.SerializeAsString());
        for (const auto& w : IndexWords(e)) txn.Put(Cf::kKbIndex, WordKey(w, e.id()), "");
        for (const auto& t : e.tags()) txn.Put(Cf::kKbIndex, TagKey(t, e.id()), "");
        std::string target = absl::StrCat("kb/", e.id());
        return AppendAudit(txn, c, now,
                           {.action = is_new ? "kb.create" : "kb.update", .target = target,
                            .reason = req.reason(), .before = is_new ? nullptr : &before, .after = &e});
      },
      std::move(done));
}

absl::Status Knowledge::Get(const Caller& c, const v1::GetKbEntryRequest& req, v1::KbEntry* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "GetEntry"));
  if (req.version() == 0) return ReadRecord(*store_, Cf::kKnowledge, req.id(), "knowledge-base entry", resp);
  std::string v;
  absl::Status got =
      store_->Get(Cf::kKbIndex, KeyWriter().Byte(kIdxVersion).U64(req.id()).U64(req.version()).key(), &v);
  if (absl::IsNotFound(got)) {
    return absl::NotFoundError(absl::StrCat("knowledge-base entry ", req.id(), " has no version ", req.version()));
  }
  STEWARD_RETURN_IF_ERROR(got);
  if (!resp->ParseFromString(v)) return absl::DataLossError("a knowledge-base version is unreadable");
  return absl::OkStatus();
}

absl::Status Knowledge::History(const Caller& c, const v1::ListKbHistoryRequest& req,
                                v1::ListKbHistoryResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "ListHistory"));
  std::string prefix = KeyWriter().Byte(kIdxVersion).U64(req.id()).Release();
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kKbIndex, prefix, storage::PrefixSuccessor(prefix), false,
                               [&](absl::string_view, absl::string_view v) {
                                 if (!resp->add_versions()->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                   bad = absl::DataLossError("a knowledge-base version is unreadable");
                                   return false;
                                 }
                                 return true;
                               }));
  STEWARD_RETURN_IF_ERROR(bad);
  if (resp->versions_size() == 0) {
    return absl::NotFoundError(absl::StrCat("knowledge-base entry ", req.id(), " not found"));
  }
  return absl::OkStatus();
}

absl::Status Knowledge::Search(const Caller& c, const v1::SearchKbRequest& req, v1::SearchKbResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "Search"));
  STEWARD_RETURN_IF_ERROR(CheckText("query", req.query(), 0, kMaxSubjectLen));
  STEWARD_RETURN_IF_ERROR(CheckId("locale", req.locale(), false));
  for (const auto& t : req.tags()) STEWARD_RETURN_IF_ERROR(CheckId("tags", t, true));
  const std::set<std::string> words = Words(req.query());
  if (words.empty() && req.tags().empty()) {
    return absl::InvalidArgumentError("give a query of words (two letters or more) or tags");
  }
  const size_t limit = req.limit() == 0 ? 20 : std::min<size_t>(req.limit(), 100);
  // Posting lists, intersected: every word and every tag must match.
  std::optional<std::set<uint64_t>> ids;
  auto intersect = [&](const std::string& prefix) -> absl::Status {
    std::set<uint64_t> found;
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kKbIndex, prefix, storage::PrefixSuccessor(prefix), false,
                                 [&](absl::string_view k, absl::string_view) {
                                   if (auto id = KeyReader(k.substr(prefix.size())).U64()) found.insert(*id);
                                   return found.size() < 100'000;
                                 }));
    if (!ids) {
      ids = std::move(found);
    } else {
      std::set<uint64_t> both;
      std::set_intersection(ids->begin(), ids->end(), found.begin(), found.end(),
                            std::inserter(both, both.begin()));
      ids = std::move(both);
    }
    return absl::OkStatus();
  };
  for (const auto& w : words) STEWARD_RETURN_IF_ERROR(intersect(KeyWriter().Byte(kIdxWord).Str(w).Release()));
  for (const auto& t : req.tags()) STEWARD_RETURN_IF_ERROR(intersect(KeyWriter().Byte(kIdxTag).Str(t).Release()));
  const int64_t now = Now();
  std::vector<std::pair<int, v1::KbEntry>> hits;  // (title words matched, entry)
  for (uint64_t id : *ids) {
    v1::KbEntry e;
    STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kKnowledge, id, "knowledge-base entry", &e));
    if (!req.locale().empty() && e.locale() != req.locale()) continue;
    if (!req.include_expired() && !ValidAt(e, now)) continue;
    std::set<std::string> title = Words(e.title());
    int score = 0;
    for (const auto& w : words) score += title.count(w) > 0;
    hits.emplace_back(score, std::move(e));
  }
  std::stable_sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second.updated_at_ms() > b.second.updated_at_ms();
  });
  for (auto& [score, e] : hits) {
    if (static_cast<size_t>(resp->entries_size()) >= limit) break;
    *resp->add_entries() = std::move(e);
  }
  return absl::OkStatus();
}

}  // namespace steward
