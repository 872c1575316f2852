#include "services/reports/reports.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/moderation/moderation.h"
#include "services/common/pagination.h"
#include "services/common/records.h"
#include "services/common/validation.h"
#include "steward/v1/gameserver.pb.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Case;

constexpr size_t kMaxReportMessage = 1000;
constexpr int kMaxChatLines = 50;
constexpr size_t kMaxChatLine = 500;
constexpr int kMaxEvents = 50;
constexpr size_t kMaxEventDetail = 200;
constexpr int kMaxWindowEntries = 256;
constexpr int kMaxAttachments = 8;
constexpr size_t kMaxAttachmentBytes = 256 << 10;
constexpr size_t kMaxAttachmentsTotal = 768 << 10;
constexpr size_t kMaxBugText = 4000;
constexpr size_t kNoticeChunk = 500;  // players per notice directive

// Index families in Cf::kReportIndex.
constexpr uint8_t kIdxActiveCase = 'k';  // realm, type, subject, family -> case id
constexpr uint8_t kIdxCaseReporter = 'd';  // case, reporter -> report id
constexpr uint8_t kIdxOpenBySubject = 'u'; // realm, type, subject, reporter -> open report id
constexpr uint8_t kIdxCaseState = 'c';     // state, first seen, case
constexpr uint8_t kIdxCaseReports = 'x';   // case, time, report
constexpr uint8_t kIdxPlayerReports = 'm'; // realm, player, time, report
constexpr uint8_t kIdxCredibility = 'R';   // realm, reporter -> upheld, dismissed
constexpr uint8_t kIdxSignature = 'g';     // signature -> bug id
constexpr uint8_t kIdxAffected = 'a';      // bug, realm, player -> ""
constexpr uint8_t kIdxBugStatus = 'b';     // status, first seen, bug
constexpr uint8_t kIdxAllBugs = 'B';       // first seen, bug
constexpr uint8_t kIdxBugReports = 'y';    // bug, time, bug report
constexpr uint8_t kIdxPlayerBugs = 'n';    // realm, player, time, bug report


absl::string_view Family(v1::ReportCategory c) {
  switch (c) {
    case v1::REPORT_CATEGORY_CHEATING:
    case v1::REPORT_CATEGORY_EXPLOITING:
    case v1::REPORT_CATEGORY_BOTTING:
      return "cheating";
    case v1::REPORT_CATEGORY_OFFENSIVE_NAME:
    case v1::REPORT_CATEGORY_VERBAL_ABUSE:
    case v1::REPORT_CATEGORY_HARASSMENT:
      return "conduct";
    case v1::REPORT_CATEGORY_SCAMMING:
    case v1::REPORT_CATEGORY_REAL_MONEY_TRADING:
      return "fraud";
    case v1::REPORT_CATEGORY_SPAMMING:
    case v1::REPORT_CATEGORY_RECRUITING:
      return "spam";
    default:
      return "other";
  }
}

// Operator-defined categories are families of their own.
std::string FamilyOf(const v1::SubmitReportRequest& r) {
  if (r.category() == v1::REPORT_CATEGORY_CUSTOM) return "custom:" + r.custom_category();
  return std::string(Family(r.category()));
}

std::string OpenReportKey(absl::string_view realm, int subject_type, absl::string_view subject,
                          absl::string_view reporter) {
  return KeyWriter()
      .Byte(kIdxOpenBySubject)
      .Str(realm)
      .Byte(static_cast<uint8_t>(subject_type))
      .Str(subject)
      .Str(reporter)
      .Release();
}

// The open case for a subject and family, or a new one (is_new true; its
// active-case entry is written, the case record is the caller's to write).
absl::StatusOr<bool> ActiveCase(Txn& txn, absl::string_view realm, v1::ReportSubjectType type,
                                absl::string_view subject, const std::string& family, int64_t now,
                                Case* kase) {
  std::string active =
      KeyWriter().Byte(kIdxActiveCase).Str(realm).Byte(type).Str(subject).Str(family).Release();
  std::string case_ref;
  absl::Status cs = txn.Get(Cf::kReportIndex, active, &case_ref);
  if (!absl::IsNotFound(cs)) {
    STEWARD_RETURN_IF_ERROR(cs);
    auto id = KeyReader(case_ref).U64();
    if (!id) return absl::DataLossError("case index entry is unreadable");
    STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kCases, *id, "case", kase));
    return false;
  }
  STEWARD_ASSIGN_OR_RETURN(uint64_t case_id, txn.NextId("case"));
  kase->set_id(case_id);
  kase->set_subject_type(type);
  kase->set_subject_id(std::string(subject));
  kase->set_realm_id(std::string(realm));
  kase->set_family(family);
  kase->set_state(v1::CASE_STATE_OPEN);
  kase->set_first_seen_ms(now);
  txn.Put(Cf::kReportIndex, active, KeyWriter().U64(case_id).key());
  return true;
}

std::string CaseStateKey(const Case& c) {
  return KeyWriter().Byte(kIdxCaseState).Byte(c.state()).I64(c.first_seen_ms()).U64(c.id()).Release();
}
// The window matters only until a case escalates; after that it is
// dropped, which keeps hot cases small to rewrite.
void EscalateCase(Case* kase, int64_t now) {
  kase->set_state(v1::CASE_STATE_ESCALATED);
  kase->set_escalated_at_ms(now);
  kase->clear_window();
}

// Bumps the version, moves the state index entry (old_state_key is "" for
// a new case) and writes the record.
void WriteCase(Txn& txn, const std::string& old_state_key, Case* kase) {
  kase->set_version(kase->version() + 1);
  if (!old_state_key.empty() && old_state_key != CaseStateKey(*kase)) {
    txn.Delete(Cf::kReportIndex, old_state_key);
  }
  txn.Put(Cf::kReportIndex, CaseStateKey(*kase), "");
  txn.Put(Cf::kCases, RecordKey(kase->id()), kase->SerializeAsString());
}

std::string BugStatusKey(const v1::Bug& b) {
  return KeyWriter().Byte(kIdxBugStatus).Byte(b.status()).I64(b.first_seen_ms()).U64(b.id()).Release();
}
std::string CredKey(absl::string_view realm, absl::string_view reporter) {
  return KeyWriter().Byte(kIdxCredibility).Str(realm).Str(reporter).Release();
}

// A reporter's standing: how many of their resolved cases were actioned
// and dismissed.
struct Credibility {
  uint64_t upheld = 0, dismissed = 0;
  double Weight() const {
    return std::clamp((1.0 + upheld) / (1.0 + dismissed), 0.25, 3.0);
  }
};

absl::StatusOr<Credibility> LoadCred(Txn& txn, absl::string_view realm, absl::string_view reporter) {
  std::string v;
  absl::Status s = txn.Get(Cf::kReportIndex, CredKey(realm, reporter), &v);
  if (absl::IsNotFound(s)) return Credibility{};
  STEWARD_RETURN_IF_ERROR(s);
  KeyReader r(v);
  auto up = r.U64();
  auto down = r.U64();
  if (!up || !down) return absl::DataLossError("credibility record is unreadable");
  return Credibility{*up, *down};
}

absl::Status ValidateReport(const Caller& c, const v1::SubmitReportRequest& r,
                            const ReportOptions& o) {
  STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(c, "SubmitReport"));
  STEWARD_RETURN_IF_ERROR(CheckText("idempotency_key", r.idempotency_key(), 1, kMaxIdempotencyKeyLen));
  if (r.category() == v1::REPORT_CATEGORY_UNSPECIFIED || !v1::ReportCategory_IsValid(r.category())) {
    return absl::InvalidArgumentError("category must be a report category (cheating, harassment, ...)");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("custom_category", r.custom_category(),
                          r.category() == v1::REPORT_CATEGORY_CUSTOM));
  if (r.category() != v1::REPORT_CATEGORY_CUSTOM && !r.custom_category().empty()) {
    return absl::InvalidArgumentError("custom_category is only for category CUSTOM");
  }
  if (r.category() == v1::REPORT_CATEGORY_CUSTOM &&
      std::find(o.custom_categories.begin(), o.custom_categories.end(), r.custom_category()) ==
          o.custom_categories.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "custom_category ", r.custom_category(),
        " is not one of this game's categories ([reports] custom_categories in the config)"));
  }
  if (r.subject_type() == v1::REPORT_SUBJECT_TYPE_UNSPECIFIED ||
      !v1::ReportSubjectType_IsValid(r.subject_type())) {
    return absl::InvalidArgumentError("subject_type must be player, guild or channel");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("subject_id", r.subject_id(), true));
  if (r.subject_type() == v1::REPORT_SUBJECT_TYPE_PLAYER && r.subject_id() == c.player_id) {
    return absl::InvalidArgumentError("subject_id is the reporting player");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", r.realm_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", r.server_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("match_id", r.match_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckText("message", r.message(), 0, kMaxReportMessage));
  const auto& ev = r.evidence();
  if (ev.chat_size() > kMaxChatLines || ev.events_size() > kMaxEvents) {
    return absl::InvalidArgumentError(absl::StrCat("evidence holds at most ", kMaxChatLines,
                                                   " chat lines and ", kMaxEvents, " events"));
  }
  for (const auto& l : ev.chat()) {
    STEWARD_RETURN_IF_ERROR(CheckId("evidence.chat.speaker_id", l.speaker_id(), false));
    STEWARD_RETURN_IF_ERROR(CheckText("evidence.chat.text", l.text(), 0, kMaxChatLine));
  }
  for (const auto& e : ev.events()) {
    STEWARD_RETURN_IF_ERROR(CheckId("evidence.events.type", e.type(), true));
    STEWARD_RETURN_IF_ERROR(CheckText("evidence.events.detail", e.detail(), 0, kMaxEventDetail));
  }
  STEWARD_RETURN_IF_ERROR(RequireGameServerScope(c, r.realm_id(), r.server_id(), "file reports"));
  return absl::OkStatus();
}

absl::Status ValidateBug(const Caller& c, const v1::SubmitBugRequest& r, const ReportOptions& o) {
  STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(c, "SubmitBug"));
  STEWARD_RETURN_IF_ERROR(CheckText("idempotency_key", r.idempotency_key(), 1, kMaxIdempotencyKeyLen));
  STEWARD_RETURN_IF_ERROR(CheckText("title", r.title(), 1, kMaxSubjectLen));
  if (r.severity() == v1::BUG_SEVERITY_UNSPECIFIED || !v1::BugSeverity_IsValid(r.severity())) {
    return absl::InvalidArgumentError("severity must be S1 to S4");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", r.realm_id(), true));
  STEWARD_RETURN_IF_ERROR(CheckId("server_id", r.server_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckText("build", r.build(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("platform", r.platform(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("device", r.device(), 0, kMaxShortTextLen));
  STEWARD_RETURN_IF_ERROR(CheckText("repro_steps", r.repro_steps(), 0, kMaxBugText));
  STEWARD_RETURN_IF_ERROR(CheckText("expected", r.expected(), 0, kMaxBugText));
  STEWARD_RETURN_IF_ERROR(CheckText("actual", r.actual(), 0, kMaxBugText));
  STEWARD_RETURN_IF_ERROR(CheckText("crash_signature", r.crash_signature(), 0, kMaxTextLen));
  if (r.attachments_size() > kMaxAttachments) {
    return absl::InvalidArgumentError(
        absl::StrCat("attachments: at most ", kMaxAttachments, " files, not ", r.attachments_size()));
  }
  size_t total = 0;
  for (int i = 0; i < r.attachments_size(); ++i) {
    const auto& a = r.attachments(i);
    std::string at = absl::StrCat("attachments[", i, "]");
    STEWARD_RETURN_IF_ERROR(CheckText(at + ".name", a.name(), 1, kMaxShortTextLen));
    STEWARD_RETURN_IF_ERROR(CheckText(at + ".content_type", a.content_type(), 1, 128));
    STEWARD_RETURN_IF_ERROR(CheckMediaType(at + ".content_type", a.content_type(), o.attachment_types));
    if (a.data().empty() || a.data().size() > kMaxAttachmentBytes) {
      return absl::InvalidArgumentError(absl::StrCat(at, " (", a.name(), ") is ", a.data().size(),
                                                     " bytes; each file must be 1 to ",
                                                     kMaxAttachmentBytes, " bytes"));
    }
    total += a.data().size();
  }
  if (total > kMaxAttachmentsTotal) {
    return absl::ResourceExhaustedError(absl::StrCat("attachments total ", total,
                                                     " bytes; a submission may carry at most ",
                                                     kMaxAttachmentsTotal));
  }
  STEWARD_RETURN_IF_ERROR(RequireGameServerScope(c, r.realm_id(), r.server_id(), "file bugs"));
  return absl::OkStatus();
}

// Appends notice directives for (realm, player) pairs, a chunk per realm at
// a time. Returns the newest seq written (0 when none).
template <typename MakeNotice>
absl::StatusOr<uint64_t> NotifyPlayers(Txn& txn, DirectiveHub& hub, int64_t now,
                                       const std::vector<std::pair<std::string, std::string>>& players,
                                       MakeNotice make) {
  // players are (realm, player); group by realm keeping order.
  std::vector<std::pair<std::string, std::string>> sorted = players;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t seq = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    v1::Directive d;
    d.mutable_target()->set_realm_id(sorted[i].first);
    std::vector<size_t> members;
    while (j < sorted.size() && sorted[j].first == sorted[i].first && members.size() < kNoticeChunk) {
      members.push_back(j++);
    }
    make(&d, members, sorted);
    STEWARD_RETURN_IF_ERROR(hub.Append(txn, now, &d));
    seq = d.seq();
    i = j;
  }
  return seq;
}

}  // namespace

std::string BugSignature(absl::string_view crash_signature, absl::string_view title) {
  // Crash signatures lose addresses and long numbers (they differ per run);
  // titles lose case and punctuation.
  absl::string_view src = crash_signature.empty() ? title : crash_signature;
  std::string out = crash_signature.empty() ? "title:" : "crash:";
  bool space = false;
  for (size_t i = 0; i < src.size(); ++i) {
    char ch = absl::ascii_tolower(static_cast<unsigned char>(src[i]));
    if (!crash_signature.empty() && ch == '0' && i + 1 < src.size() &&
        absl::ascii_tolower(static_cast<unsigned char>(src[i + 1])) == 'x') {
      i += 2;
      while (i < src.size() && absl::ascii_isxdigit(static_cast<unsigned char>(src[i]))) ++i;
      --i;
      out += '#';
      space = false;
      continue;
    }
    if (!crash_signature.empty() && absl::ascii_isdigit(static_cast<unsigned char>(ch))) {
      size_t j = i;
      while (j < src.size() && absl::ascii_isdigit(static_cast<unsigned char>(src[j]))) ++j;
      if (j - i >= 4) {
        out += '#';
        i = j - 1;
        space = false;
        continue;
      }
    }
    if (absl::ascii_isalnum(static_cast<unsigned char>(ch)) ||
        (!crash_signature.empty() && (ch == ':' || ch == '_' || ch == '.' || ch == '+'))) {
      if (space && out.back() != ':') out += ' ';
      out += ch;
      space = false;
    } else {
      space = true;
    }
  }
  return out.substr(0, 512);
}

absl::Status Reports::TakeAllowance(absl::string_view realm, absl::string_view player, int64_t now) {
  const std::string key = absl::StrCat(realm, "/", player);
  absl::MutexLock lock(&mu_);
  const int64_t hour = 3600 * 1000;
  if (now - started_ms_ < hour && !recent_.contains(key)) {
    // The reporter's first report since the start: this hour's stored
    // reports count, so a restart forgives nothing.
    std::vector<int64_t> times;
    const std::string prefix = KeyWriter().Byte(kIdxPlayerReports).Str(realm).Str(player).Release();
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kReportIndex, KeyWriter(prefix).I64(now - hour + 1).key(),
                                 storage::PrefixSuccessor(prefix), false,
                                 [&](absl::string_view k, absl::string_view) {
                                   KeyReader r(k.substr(prefix.size()));
                                   if (auto at = r.I64()) times.push_back(*at);
                                   return true;
                                 }));
    recent_.emplace(key, std::move(times));
  }
  if (now - last_sweep_ms_ > hour) {  // forget reporters idle for an hour
    for (auto it = recent_.begin(); it != recent_.end();) {
      if (it->second.empty() || it->second.back() <= now - hour) {
        recent_.erase(it++);
      } else {
        ++it;
      }
    }
    last_sweep_ms_ = now;
  }
  auto& times = recent_[key];
  while (!times.empty() && times.front() <= now - hour) times.erase(times.begin());
  if (static_cast<int>(times.size()) >= options_.reports_per_hour) {
    int64_t wait_s = (times.front() + hour - now + 999) / 1000;
    return absl::ResourceExhaustedError(absl::StrCat(
        "this player filed ", times.size(), " reports in the last hour (the limit); the next one is allowed in ",
        wait_s, " s"));
  }
  times.push_back(now);
  return absl::OkStatus();
}

void Reports::ReturnAllowance(absl::string_view realm, absl::string_view player, int64_t taken_at_ms) {
  absl::MutexLock lock(&mu_);
  auto it = recent_.find(absl::StrCat(realm, "/", player));
  if (it == recent_.end()) return;
  auto& times = it->second;
  for (auto t = times.rbegin(); t != times.rend(); ++t) {
    if (*t == taken_at_ms) {
      times.erase(std::next(t).base());
      return;
    }
  }
}

void Reports::SubmitReport(const Caller& c, const v1::SubmitReportRequest& req,
                           v1::SubmitReportResponse* resp, storage::DoneFn done) {
  if (absl::Status s = ValidateReport(c, req, options_); !s.ok()) return done(s);
  auto taken_at = std::make_shared<int64_t>(0);  // when the allowance was taken; 0: not taken
  store_->Commit(
      [this, c, &req, resp, taken_at](Txn& txn) -> absl::Status {
        std::string idem = IdempotencyKey(c.name(), "report", req.idempotency_key());
        STEWARD_ASSIGN_OR_RETURN(uint64_t earlier, FindIdempotent(txn, idem));
        if (earlier != 0) {
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kReports, earlier, "report", resp->mutable_report()));
          if (resp->report().reporter_id() != c.player_id) {
            resp->Clear();
            return absl::AlreadyExistsError("idempotency_key was used for another player's report");
          }
          resp->set_case_id(resp->report().case_id());
          resp->set_deduplicated(true);
          return absl::OkStatus();
        }
        int64_t now = options_.clock->NowMs();
        // One open report per reporter per subject, whatever its category.
        std::string open_key = OpenReportKey(req.realm_id(), req.subject_type(), req.subject_id(),
                                             c.player_id);
        std::string dup;
        absl::Status ds = txn.Get(Cf::kReportIndex, open_key, &dup);
        if (ds.ok()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "player ", c.player_id, " already has an open report about ", req.subject_id(),
              " (report ", KeyReader(dup).U64().value_or(0), ")"));
        }
        if (!absl::IsNotFound(ds)) return ds;
        // Only reports that are stored count against the reporter's hour
        // (retries and refused duplicates do not), the same as the stored
        // reports counted after a restart; a commit that fails gives the
        // allowance back.
        STEWARD_RETURN_IF_ERROR(TakeAllowance(req.realm_id(), c.player_id, now));
        *taken_at = now;
        Case kase;
        STEWARD_ASSIGN_OR_RETURN(bool is_new_case,
                         ActiveCase(txn, req.realm_id(), req.subject_type(), req.subject_id(),
                                    FamilyOf(req), now, &kase));
        STEWARD_ASSIGN_OR_RETURN(Credibility cred, LoadCred(txn, req.realm_id(), c.player_id));
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("report"));
        v1::Report* r = resp->mutable_report();
        r->set_id(id);
        r->set_reporter_id(c.player_id);
        r->set_category(req.category());
        r->set_custom_category(req.custom_category());
        r->set_subject_type(req.subject_type());
        r->set_subject_id(req.subject_id());
        r->set_realm_id(req.realm_id());
        r->set_server_id(req.server_id());
        r->set_match_id(req.match_id());
        r->set_message(req.message());
        *r->mutable_evidence() = req.evidence();
        r->set_created_at_ms(now);
        r->set_case_id(kase.id());
        r->set_weight(cred.Weight());
        r->set_submitted_by(c.name());
        txn.Put(Cf::kReports, RecordKey(id), r->SerializeAsString());
        txn.Put(Cf::kReportIndex, KeyWriter().Byte(kIdxCaseReporter).U64(kase.id()).Str(c.player_id).key(),
                KeyWriter().U64(id).key());
        txn.Put(Cf::kReportIndex, open_key, KeyWriter().U64(id).key());
        txn.Put(Cf::kReportIndex, KeyWriter().Byte(kIdxCaseReports).U64(kase.id()).I64(now).U64(id).key(), "");
        txn.Put(Cf::kReportIndex,
                KeyWriter().Byte(kIdxPlayerReports).Str(req.realm_id()).Str(c.player_id).I64(now).U64(id).key(),
                "");
        RecordIdempotent(txn, idem, id, now);

        // The case: counts and the escalation window.
        std::string old_state_key = is_new_case ? "" : CaseStateKey(kase);
        kase.set_report_count(kase.report_count() + 1);
        kase.set_distinct_reporters(kase.distinct_reporters() + 1);  // one report per reporter
        kase.set_last_seen_ms(now);
        // The window matters only until the case escalates; after that it
        // is dropped, which keeps hot cases (one cheater, thousands of
        // reporters) small to rewrite.
        bool escalate = false;
        if (kase.state() == v1::CASE_STATE_OPEN) {
          auto* window = kase.mutable_window();
          int drop = 0;
          while (drop < window->size() && window->Get(drop).at_ms() <= now - options_.window_ms) ++drop;
          if (window->size() - drop >= kMaxWindowEntries) ++drop;
          window->DeleteSubrange(0, drop);
          auto* e = window->Add();
          e->set_reporter_id(c.player_id);
          e->set_at_ms(now);
          e->set_weight(cred.Weight());
          double score = 0;
          for (const auto& w : *window) score += w.weight();
          kase.set_window_score(score);
          escalate = score >= options_.escalation_threshold;
        }
        if (escalate) EscalateCase(&kase, now);
        WriteCase(txn, old_state_key, &kase);
        if (escalate) {
          STEWARD_RETURN_IF_ERROR(AppendAudit(
              txn, c, now,
              {.action = "case.escalate",
               .target = absl::StrCat("case/", kase.id()),
               .reason = absl::StrCat("weighted reports within the window reached ",
                                      kase.window_score()),
               .after = &kase}));
        }
        resp->set_case_id(kase.id());
        return absl::OkStatus();
      },
      [this, realm = req.realm_id(), player = c.player_id, taken_at, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok() && *taken_at != 0) ReturnAllowance(realm, player, *taken_at);
        done(s);
      });
}

void Reports::SubmitBug(const Caller& c, const v1::SubmitBugRequest& req, v1::SubmitBugResponse* resp,
                        storage::DoneFn done) {
  if (absl::Status s = ValidateBug(c, req, options_); !s.ok()) return done(s);
  std::string signature = BugSignature(req.crash_signature(), req.title());
  store_->Commit(
      [this, c, &req, resp, signature](Txn& txn) -> absl::Status {
        std::string idem = IdempotencyKey(c.name(), "bug", req.idempotency_key());
        STEWARD_ASSIGN_OR_RETURN(uint64_t earlier, FindIdempotent(txn, idem));
        if (earlier != 0) {
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kBugReports, earlier, "bug report", resp->mutable_report()));
          if (resp->report().player_id() != c.player_id) {
            resp->Clear();
            return absl::AlreadyExistsError("idempotency_key was used for another player's bug");
          }
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kBugs, resp->report().bug_id(), "bug", resp->mutable_bug()));
          resp->set_deduplicated(true);
          return absl::OkStatus();
        }
        int64_t now = options_.clock->NowMs();
        v1::Bug* bug = resp->mutable_bug();
        std::string sig_key = KeyWriter().Byte(kIdxSignature).Str(signature).Release();
        std::string ref;
        absl::Status ss = txn.Get(Cf::kReportIndex, sig_key, &ref);
        std::string old_status_key;
        if (ss.ok()) {
          auto id = KeyReader(ref).U64();
          if (!id) return absl::DataLossError("signature index entry is unreadable");
          STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kBugs, *id, "bug", bug));
          old_status_key = BugStatusKey(*bug);
          resp->set_joined_existing(true);
          // A lower number is more severe.
          if (req.severity() < bug->severity()) bug->set_severity(req.severity());
        } else if (absl::IsNotFound(ss)) {
          STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("bug"));
          bug->set_id(id);
          bug->set_signature(signature);
          bug->set_title(req.title());
          bug->set_severity(req.severity());
          bug->set_status(v1::BUG_STATUS_NEW);
          bug->set_first_seen_ms(now);
          txn.Put(Cf::kReportIndex, sig_key, KeyWriter().U64(id).key());
          txn.Put(Cf::kReportIndex, BugStatusKey(*bug), "");
          txn.Put(Cf::kReportIndex, KeyWriter().Byte(kIdxAllBugs).I64(now).U64(id).key(), "");
        } else {
          return ss;
        }
        STEWARD_ASSIGN_OR_RETURN(uint64_t rid, txn.NextId("bug_report"));
        v1::BugReport* r = resp->mutable_report();
        r->set_id(rid);
        r->set_bug_id(bug->id());
        r->set_player_id(c.player_id);
        r->set_realm_id(req.realm_id());
        r->set_server_id(req.server_id());
        r->set_title(req.title());
        r->set_severity(req.severity());
        r->set_build(req.build());
        r->set_platform(req.platform());
        r->set_device(req.device());
        r->set_repro_steps(req.repro_steps());
        r->set_expected(req.expected());
        r->set_actual(req.actual());
        r->set_crash_signature(req.crash_signature());
        r->set_created_at_ms(now);
        for (int i = 0; i < req.attachments_size(); ++i) {
          const auto& a = req.attachments(i);
          auto* info = r->add_attachments();
          info->set_index(i);
          info->set_name(a.name());
          info->set_content_type(a.content_type());
          info->set_size(a.data().size());
          txn.Put(Cf::kAttachments, KeyWriter().U64(rid).U64(i).key(), a.SerializeAsString());
        }
        txn.Put(Cf::kBugReports, RecordKey(rid), r->SerializeAsString());
        txn.Put(Cf::kReportIndex, KeyWriter().Byte(kIdxBugReports).U64(bug->id()).I64(now).U64(rid).key(), "");
        txn.Put(Cf::kReportIndex,
                KeyWriter().Byte(kIdxPlayerBugs).Str(req.realm_id()).Str(c.player_id).I64(now).U64(rid).key(),
                "");
        std::string affected =
            KeyWriter().Byte(kIdxAffected).U64(bug->id()).Str(req.realm_id()).Str(c.player_id).Release();
        std::string seen;
        absl::Status as = txn.Get(Cf::kReportIndex, affected, &seen);
        if (absl::IsNotFound(as)) {
          bug->set_affected_players(bug->affected_players() + 1);
          txn.Put(Cf::kReportIndex, affected, "");
        } else if (!as.ok()) {
          return as;
        }
        bug->set_report_count(bug->report_count() + 1);
        bug->set_last_seen_ms(now);
        bug->set_version(bug->version() + 1);
        if (!old_status_key.empty() && old_status_key != BugStatusKey(*bug)) {
          txn.Delete(Cf::kReportIndex, old_status_key);
          txn.Put(Cf::kReportIndex, BugStatusKey(*bug), "");
        }
        txn.Put(Cf::kBugs, RecordKey(bug->id()), bug->SerializeAsString());
        RecordIdempotent(txn, idem, rid, now);
        return absl::OkStatus();
      },
      std::move(done),
      req.ByteSizeLong() + storage::Store::kDefaultWriteBytes);
}

void Reports::ResolveCase(const Caller& c, const v1::ResolveCaseRequest& req,
                          v1::ResolveCaseResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "resolving a case");
  if (s.ok() && req.case_id() == 0) s = absl::InvalidArgumentError("case_id is required");
  if (s.ok()) s = CheckText("resolution", req.resolution(), 1, kMaxReasonLen);
  if (s.ok() && req.sanction_ids_size() > 100) s = absl::InvalidArgumentError("at most 100 sanction_ids");
  if (s.ok() && !req.action_taken() && req.sanction_ids_size() > 0) {
    s = absl::InvalidArgumentError("sanction_ids need action_taken");
  }
  if (!s.ok()) return done(s);
  // Who reported, read before the transaction; the transaction checks the
  // count did not move meanwhile (else the caller retries).
  struct Reporter {
    std::string player;
    uint64_t report_id;
  };
  auto reporters = std::make_shared<std::vector<Reporter>>();
  std::string prefix = KeyWriter().Byte(kIdxCaseReporter).U64(req.case_id()).Release();
  s = store_->Scan(Cf::kReportIndex, prefix, storage::PrefixSuccessor(prefix), false,
                   [&](absl::string_view key, absl::string_view value) {
                     KeyReader r(key.substr(prefix.size()));
                     auto player = r.Str();
                     auto id = KeyReader(value).U64();
                     if (player && id) reporters->push_back({std::string(*player), *id});
                     return true;
                   });
  if (!s.ok()) return done(s);
  auto seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, c, &req, resp, reporters, seq](Txn& txn) -> absl::Status {
        Case before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kCases, req.case_id(), "case", &before));
        if (before.state() == v1::CASE_STATE_ACTIONED || before.state() == v1::CASE_STATE_DISMISSED) {
          return absl::FailedPreconditionError(
              absl::StrCat("case ", before.id(), " was already resolved by ", before.resolved_by()));
        }
        if (before.report_count() != reporters->size()) {
          return absl::AbortedError(
              absl::StrCat("case ", before.id(), " received a report meanwhile; retry"));
        }
        for (uint64_t sid : req.sanction_ids()) STEWARD_RETURN_IF_ERROR(CheckSanctionExists(txn, sid));
        int64_t now = options_.clock->NowMs();
        Case after = before;
        after.set_state(req.action_taken() ? v1::CASE_STATE_ACTIONED : v1::CASE_STATE_DISMISSED);
        after.set_resolved_by(c.name());
        after.set_resolved_at_ms(now);
        after.set_resolution(req.resolution());
        for (uint64_t sid : req.sanction_ids()) after.add_sanction_ids(sid);
        after.set_version(after.version() + 1);
        txn.Delete(Cf::kReportIndex, CaseStateKey(before));
        txn.Put(Cf::kReportIndex, CaseStateKey(after), "");
        // New reports about the subject start a new case.
        txn.Delete(Cf::kReportIndex, KeyWriter()
                                         .Byte(kIdxActiveCase)
                                         .Str(before.realm_id())
                                         .Byte(before.subject_type())
                                         .Str(before.subject_id())
                                         .Str(before.family())
                                         .key());
        txn.Put(Cf::kCases, RecordKey(after.id()), after.SerializeAsString());
        std::vector<std::pair<std::string, std::string>> players;
        for (const Reporter& r : *reporters) {
          STEWARD_ASSIGN_OR_RETURN(Credibility cred, LoadCred(txn, before.realm_id(), r.player));
          (req.action_taken() ? cred.upheld : cred.dismissed)++;
          txn.Put(Cf::kReportIndex, CredKey(before.realm_id(), r.player),
                  KeyWriter().U64(cred.upheld).U64(cred.dismissed).key());
          // The report is closed: the reporter may report this subject again.
          txn.Delete(Cf::kReportIndex, OpenReportKey(before.realm_id(), before.subject_type(),
                                                     before.subject_id(), r.player));
          players.emplace_back(before.realm_id(), r.player);
        }
        std::vector<uint64_t> report_ids;
        for (const Reporter& r : *reporters) report_ids.push_back(r.report_id);
        STEWARD_ASSIGN_OR_RETURN(*seq, NotifyPlayers(txn, *hub_, now, players,
                                             [&](v1::Directive* d, const std::vector<size_t>& members,
                                                 const std::vector<std::pair<std::string, std::string>>& all) {
                                               auto* o = d->mutable_report_outcome();
                                               o->set_action_taken(req.action_taken());
                                               for (size_t m : members) {
                                                 o->add_player_ids(all[m].second);
                                                 // all is in reporter order within a realm
                                                 o->add_report_ids(report_ids[m]);
                                               }
                                             }));
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "case.resolve",
                                     .target = absl::StrCat("case/", after.id()),
                                     .reason = req.resolution(),
                                     .before = &before,
                                     .after = &after}));
        resp->set_reporters_notified(reporters->size());
        after.clear_window();
        *resp->mutable_case_() = std::move(after);
        return absl::OkStatus();
      },
      [this, seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok() && *seq) hub_->Published(*seq);
        done(s);
      });
}

void Reports::UpdateBugStatus(const Caller& c, const v1::UpdateBugStatusRequest& req,
                              v1::UpdateBugStatusResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "changing a bug's status");
  if (s.ok() && req.bug_id() == 0) s = absl::InvalidArgumentError("bug_id is required");
  if (s.ok() && (req.status() == v1::BUG_STATUS_UNSPECIFIED || !v1::BugStatus_IsValid(req.status()))) {
    s = absl::InvalidArgumentError("status must be new, confirmed, fixed or wont_fix");
  }
  if (s.ok()) s = CheckText("fixed_in_build", req.fixed_in_build(), req.status() == v1::BUG_STATUS_FIXED ? 1 : 0, kMaxShortTextLen);
  if (s.ok()) s = CheckText("note", req.note(), 0, kMaxReasonLen);
  if (!s.ok()) return done(s);
  auto players = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  std::string prefix = KeyWriter().Byte(kIdxAffected).U64(req.bug_id()).Release();
  s = store_->Scan(Cf::kReportIndex, prefix, storage::PrefixSuccessor(prefix), false,
                   [&](absl::string_view key, absl::string_view) {
                     KeyReader r(key.substr(prefix.size()));
                     auto realm = r.Str();
                     auto player = r.Str();
                     if (realm && player) players->emplace_back(std::string(*realm), std::string(*player));
                     return true;
                   });
  if (!s.ok()) return done(s);
  auto seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, c, &req, resp, players, seq](Txn& txn) -> absl::Status {
        v1::Bug before;
        STEWARD_RETURN_IF_ERROR(LoadRecord(txn, Cf::kBugs, req.bug_id(), "bug", &before));
        if (before.affected_players() != players->size()) {
          return absl::AbortedError(absl::StrCat("bug ", before.id(), " received a report meanwhile; retry"));
        }
        int64_t now = options_.clock->NowMs();
        v1::Bug after = before;
        after.set_status(req.status());
        after.set_fixed_in_build(req.status() == v1::BUG_STATUS_FIXED ? req.fixed_in_build() : "");
        after.set_status_note(req.note());
        after.set_version(after.version() + 1);
        txn.Delete(Cf::kReportIndex, BugStatusKey(before));
        txn.Put(Cf::kReportIndex, BugStatusKey(after), "");
        txn.Put(Cf::kBugs, RecordKey(after.id()), after.SerializeAsString());
        STEWARD_ASSIGN_OR_RETURN(*seq, NotifyPlayers(txn, *hub_, now, *players,
                                             [&](v1::Directive* d, const std::vector<size_t>& members,
                                                 const std::vector<std::pair<std::string, std::string>>& all) {
                                               auto* n = d->mutable_bug_status();
                                               n->set_bug_id(after.id());
                                               n->set_title(after.title());
                                               n->set_status(after.status());
                                               n->set_fixed_in_build(after.fixed_in_build());
                                               n->set_note(after.status_note());
                                               for (size_t m : members) n->add_player_ids(all[m].second);
                                             }));
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "bug.status",
                                     .target = absl::StrCat("bug/", after.id()),
                                     .reason = req.note(),
                                     .before = &before,
                                     .after = &after}));
        resp->set_players_notified(players->size());
        *resp->mutable_bug() = std::move(after);
        return absl::OkStatus();
      },
      [this, seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok() && *seq) hub_->Published(*seq);
        done(s);
      });
}

absl::Status Reports::ListMyReports(const Caller& c, const v1::ListMyReportsRequest& req,
                                    v1::ListMyReportsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGameServerWithPlayer(c, "ListMyReports"));
  size_t limit = EffectivePageSize(req.page_size());
  const std::string& realm = c.principal->realm;
  std::string prefix = KeyWriter().Byte(kIdxPlayerReports).Str(realm).Str(c.player_id).Release();
  absl::Status bad = absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kReportIndex, prefix, storage::PrefixSuccessor(prefix), true,
                               [&](absl::string_view key, absl::string_view) {
    KeyReader r(key.substr(prefix.size()));
    r.I64();
    auto id = r.U64();
    v1::Report rep;
    v1::Case kase;
    bad = id ? ReadRecord(*store_, Cf::kReports, *id, "report", &rep) : absl::DataLossError("bad index");
    if (bad.ok()) bad = ReadRecord(*store_, Cf::kCases, rep.case_id(), "case", &kase);
    if (!bad.ok()) return false;
    auto* v = resp->add_reports();
    v->set_report_id(rep.id());
    v->set_category(rep.category());
    v->set_subject_id(rep.subject_id());
    v->set_created_at_ms(rep.created_at_ms());
    v->set_outcome(kase.state() == v1::CASE_STATE_ACTIONED    ? "action_taken"
                   : kase.state() == v1::CASE_STATE_DISMISSED ? "no_action"
                                                              : "received");
    return resp->reports_size() < static_cast<int>(limit);
  }));
  STEWARD_RETURN_IF_ERROR(bad);
  prefix = KeyWriter().Byte(kIdxPlayerBugs).Str(realm).Str(c.player_id).Release();
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kReportIndex, prefix, storage::PrefixSuccessor(prefix), true,
                               [&](absl::string_view key, absl::string_view) {
    KeyReader r(key.substr(prefix.size()));
    r.I64();
    auto id = r.U64();
    v1::BugReport rep;
    v1::Bug bug;
    bad = id ? ReadRecord(*store_, Cf::kBugReports, *id, "bug report", &rep) : absl::DataLossError("bad index");
    if (bad.ok()) bad = ReadRecord(*store_, Cf::kBugs, rep.bug_id(), "bug", &bug);
    if (!bad.ok()) return false;
    auto* v = resp->add_bugs();
    v->set_bug_report_id(rep.id());
    v->set_bug_id(bug.id());
    v->set_title(rep.title());
    v->set_status(bug.status());
    v->set_fixed_in_build(bug.fixed_in_build());
    v->set_status_note(bug.status_note());
    return resp->bugs_size() < static_cast<int>(limit);
  }));
  return bad;
}

absl::Status Reports::ListCases(const Caller& c, const v1::ListCasesRequest& req,
                                v1::ListCasesResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading cases"));
  if (!v1::CaseState_IsValid(req.state())) return absl::InvalidArgumentError("state is out of range");
  if (!req.subject_id().empty() || !req.realm_id().empty()) {
    STEWARD_RETURN_IF_ERROR(CheckId("subject_id", req.subject_id(), true));
    STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), true));
    const std::string prefix = KeyWriter()
                                   .Byte(kIdxActiveCase)
                                   .Str(req.realm_id())
                                   .Byte(v1::REPORT_SUBJECT_TYPE_PLAYER)
                                   .Str(req.subject_id())
                                   .Release();
    const size_t page = EffectivePageSize(req.page_size());
    std::vector<uint64_t> ids;
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kReportIndex, prefix, storage::PrefixSuccessor(prefix), false,
                                         [&](absl::string_view, absl::string_view v) {
                                           if (auto id = KeyReader(v).U64()) ids.push_back(*id);
                                           return ids.size() < page;
                                         }));
    for (uint64_t id : ids) {
      STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kCases, id, "case", resp->add_cases()));
    }
    return absl::OkStatus();
  }
  // Default: escalated first (they need attention), then open; oldest first.
  std::vector<v1::CaseState> states;
  if (req.state() == v1::CASE_STATE_UNSPECIFIED) {
    states = {v1::CASE_STATE_ESCALATED, v1::CASE_STATE_OPEN};
  } else {
    states = {req.state()};
  }
  // Page tokens carry the state they are in: "<state>:<token>".
  absl::string_view token = req.page_token();
  size_t first = 0;
  if (!token.empty()) {
    size_t colon = token.find(':');
    int st = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(token.substr(0, colon), &st)) {
      return absl::InvalidArgumentError("page_token is not one this server issued");
    }
    while (first < states.size() && states[first] != st) ++first;
    if (first == states.size()) return absl::InvalidArgumentError("page_token does not fit this filter");
    token = token.substr(colon + 1);
  }
  size_t page = EffectivePageSize(req.page_size());
  for (size_t i = first; i < states.size() && static_cast<size_t>(resp->cases_size()) < page; ++i) {
    TimeScan scan;
    scan.cf = Cf::kReportIndex;
    scan.prefix = KeyWriter().Byte(kIdxCaseState).Byte(states[i]).Release();
    scan.oldest_first = true;
    scan.page_token = i == first ? token : absl::string_view();
    scan.page_size = page - resp->cases_size();
    auto next = ScanByTime(*store_, scan,
                           [&](int64_t, uint64_t id, absl::string_view, absl::string_view) -> absl::StatusOr<bool> {
                             Case* k = resp->add_cases();
                             STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kCases, id, "case", k));
                             k->clear_window();
                             return true;
                           });
    if (!next.ok()) return next.status();
    if (!next->empty()) {
      resp->set_next_page_token(absl::StrCat(static_cast<int>(states[i]), ":", *next));
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status Reports::GetCase(const Caller& c, const v1::GetCaseRequest& req,
                              v1::GetCaseResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading cases"));
  if (req.case_id() == 0) return absl::InvalidArgumentError("case_id is required");
  STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kCases, req.case_id(), "case", resp->mutable_case_()));
  size_t max = req.max_reports() == 0 ? 20 : std::min<size_t>(req.max_reports(), kMaxPageSize);
  return ReadNewest(*store_, Cf::kReportIndex, KeyWriter().Byte(kIdxCaseReports).U64(req.case_id()).Release(),
                    Cf::kReports, "report", max, resp->mutable_reports());
}

absl::Status Reports::ListBugs(const Caller& c, const v1::ListBugsRequest& req,
                               v1::ListBugsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading bugs"));
  if (!v1::BugStatus_IsValid(req.status())) return absl::InvalidArgumentError("status is out of range");
  TimeScan scan;
  scan.cf = Cf::kReportIndex;
  scan.prefix = req.status() == v1::BUG_STATUS_UNSPECIFIED
                    ? KeyWriter().Byte(kIdxAllBugs).Release()
                    : KeyWriter().Byte(kIdxBugStatus).Byte(req.status()).Release();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  auto token = PageRecords(*store_, scan, Cf::kBugs, "bug", resp->mutable_bugs());
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

absl::Status Reports::GetBug(const Caller& c, const v1::GetBugRequest& req, v1::GetBugResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading bugs"));
  if (req.bug_id() == 0) return absl::InvalidArgumentError("bug_id is required");
  STEWARD_RETURN_IF_ERROR(ReadRecord(*store_, Cf::kBugs, req.bug_id(), "bug", resp->mutable_bug()));
  size_t max = req.max_reports() == 0 ? 20 : std::min<size_t>(req.max_reports(), kMaxPageSize);
  return ReadNewest(*store_, Cf::kReportIndex, KeyWriter().Byte(kIdxBugReports).U64(req.bug_id()).Release(),
                    Cf::kBugReports, "bug report", max, resp->mutable_reports());
}

absl::Status Reports::GetAttachment(const Caller& c, const v1::GetAttachmentRequest& req,
                                    v1::Attachment* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading attachments"));
  std::string v;
  absl::Status s = store_->Get(Cf::kAttachments, KeyWriter().U64(req.bug_report_id()).U64(req.index()).key(), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("bug report ", req.bug_report_id(), " has no attachment ", req.index()));
  }
  STEWARD_RETURN_IF_ERROR(s);
  if (!resp->ParseFromString(v)) return absl::DataLossError("attachment is unreadable");
  return absl::OkStatus();
}

}  // namespace steward

namespace steward {

void Reports::OpenCaseFromAlert(const Caller& monitor, absl::string_view realm,
                                absl::string_view player, v1::ReportCategory category,
                                absl::string_view alert_ref, absl::string_view rule_name,
                                absl::AnyInvocable<void(absl::StatusOr<uint64_t>)> done) {
  auto case_id = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, monitor, realm = std::string(realm), player = std::string(player), category,
       alert_ref = std::string(alert_ref), rule_name = std::string(rule_name), case_id](Txn& txn) -> absl::Status {
        const int64_t now = options_.clock->NowMs();
        Case kase;
        STEWARD_ASSIGN_OR_RETURN(bool is_new, ActiveCase(txn, realm, v1::REPORT_SUBJECT_TYPE_PLAYER, player,
                                                 std::string(Family(category)), now, &kase));
        Case before = kase;
        std::string old_state_key = is_new ? "" : CaseStateKey(kase);
        kase.set_last_seen_ms(now);
        // The monitor's evidence is enough to put the case in front of GMs.
        if (kase.state() == v1::CASE_STATE_OPEN) EscalateCase(&kase, now);
        WriteCase(txn, old_state_key, &kase);
        *case_id = kase.id();
        return AppendAudit(txn, monitor, now,
                           {.action = "case.open_from_alert",
                            .target = absl::StrCat("case/", kase.id()),
                            .reason = absl::StrCat(alert_ref, " from rule ", rule_name),
                            .before = is_new ? nullptr : &before,
                            .after = &kase});
      },
      [case_id, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          done(*case_id);
        } else {
          done(s);
        }
      });
}

}  // namespace steward
