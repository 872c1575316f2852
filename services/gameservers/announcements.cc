#include "services/gameservers/announcements.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/log.h"
#include "services/common/pagination.h"
#include "services/common/records.h"
#include "services/common/validation.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

// The longest the scheduler sleeps before looking at the clock again.
constexpr int64_t kMaxSleepMs = 1000;

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;
using v1::Announcement;

constexpr int64_t kMinRepeatMs = 60'000;
constexpr int64_t kMaxAheadMs = int64_t{366} * 24 * 3600 * 1000;
constexpr uint32_t kMaxShowings = 1000;
constexpr size_t kMaxTitleLen = 200;
constexpr size_t kMaxLocaleLen = 32;
constexpr int64_t kRetryMs = 5000;
// Index families in Cf::kAnnouncementIndex. Stores written before it
// existed kept them in moderation's index family; Start moves them.
constexpr uint8_t kIdxAll = 'N';
constexpr uint8_t kIdxScheduled = 'M';

std::string TimeKey(uint8_t family, int64_t t, uint64_t id) {
  return KeyWriter().Byte(family).I64(t).U64(id).Release();
}

absl::Status Validate(const v1::AnnouncementSpec& s, int64_t now) {
  STEWARD_RETURN_IF_ERROR(CheckText("spec.title", s.title(), 1, kMaxTitleLen));
  STEWARD_RETURN_IF_ERROR(CheckText("spec.body", s.body(), 1, kMaxTextLen));
  if (s.channel() == v1::ANNOUNCEMENT_CHANNEL_UNSPECIFIED ||
      !v1::AnnouncementChannel_IsValid(s.channel())) {
    return absl::InvalidArgumentError("spec.channel must be system_chat, banner or mail");
  }
  STEWARD_RETURN_IF_ERROR(CheckId("spec.target.realm_id", s.target().realm_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckId("spec.target.server_id", s.target().server_id(), false));
  if (!s.target().server_id().empty() && s.target().realm_id().empty()) {
    return absl::InvalidArgumentError("spec.target.server_id needs spec.target.realm_id");
  }
  STEWARD_RETURN_IF_ERROR(CheckText("spec.locale", s.locale(), 0, kMaxLocaleLen));
  STEWARD_RETURN_IF_ERROR(CheckId("spec.vip_tier", s.vip_tier(), false));
  if (s.starts_at_ms() < 0 || s.starts_at_ms() > now + kMaxAheadMs) {
    return absl::InvalidArgumentError("spec.starts_at_ms must be 0 (now) or within a year");
  }
  if (s.repeat_every_ms() != 0 &&
      (s.repeat_every_ms() < kMinRepeatMs || s.repeat_every_ms() > kMaxAheadMs)) {
    return absl::InvalidArgumentError(
        "spec.repeat_every_ms must be 0 (once) or between 60 s and a year");
  }
  int64_t start = s.starts_at_ms() == 0 ? now : s.starts_at_ms();
  if (s.ends_at_ms() < 0 || (s.ends_at_ms() != 0 && s.ends_at_ms() <= start)) {
    return absl::InvalidArgumentError("spec.ends_at_ms must be 0 or after the first showing");
  }
  if (s.show_for_ms() < 0 || s.show_for_ms() > kMaxAheadMs) {
    return absl::InvalidArgumentError("spec.show_for_ms must be 0 to a year");
  }
  return absl::OkStatus();
}

absl::Status Load(Txn& txn, uint64_t id, Announcement* a) {
  return LoadRecord(txn, Cf::kAnnouncements, id, "announcement", a);
}

void Put(Txn& txn, const Announcement& a) {
  txn.Put(Cf::kAnnouncements, RecordKey(a.id()), a.SerializeAsString());
  if (a.state() != v1::ANNOUNCEMENT_STATE_SCHEDULED) {
    txn.Delete(Cf::kAnnouncementIndex, TimeKey(kIdxScheduled, a.created_at_ms(), a.id()));
  }
}

// Sends the showing that is due (if any) and moves the schedule on.
// Returns the directive seq written, or 0.
absl::StatusOr<uint64_t> ShowIfDue(Txn& txn, DirectiveHub& hub, Announcement& a, int64_t now) {
  if (a.state() != v1::ANNOUNCEMENT_STATE_SCHEDULED || now < a.next_at_ms()) return 0;
  const auto& spec = a.spec();
  if (spec.ends_at_ms() != 0 && now >= spec.ends_at_ms()) {
    a.set_state(v1::ANNOUNCEMENT_STATE_FINISHED);
    return 0;
  }
  v1::Directive d;
  *d.mutable_target() = spec.target();
  auto* show = d.mutable_announcement();
  show->set_announcement_id(a.id());
  show->set_occurrence(a.showings() + 1);
  show->set_title(spec.title());
  show->set_body(spec.body());
  show->set_channel(spec.channel());
  show->set_locale(spec.locale());
  show->set_vip_tier(spec.vip_tier());
  show->set_show_until_ms(spec.show_for_ms() ? now + spec.show_for_ms() : spec.ends_at_ms());
  STEWARD_RETURN_IF_ERROR(hub.Append(txn, now, &d));
  a.set_showings(a.showings() + 1);
  a.set_last_seq(d.seq());
  if (spec.repeat_every_ms() == 0 || a.showings() >= kMaxShowings) {
    a.set_state(v1::ANNOUNCEMENT_STATE_FINISHED);
  } else {
    // Skip periods missed while down: one showing now, then on schedule.
    int64_t periods = (now - a.next_at_ms()) / spec.repeat_every_ms() + 1;
    int64_t next = a.next_at_ms() + periods * spec.repeat_every_ms();
    if (spec.ends_at_ms() != 0 && next >= spec.ends_at_ms()) {
      a.set_state(v1::ANNOUNCEMENT_STATE_FINISHED);
    } else {
      a.set_next_at_ms(next);
    }
  }
  return d.seq();
}

}  // namespace

Announcements::~Announcements() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // A showing's completion runs on the store's thread and touches this.
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return firing_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

namespace {

// Moves the index entries an older build kept in moderation's index family
// into the announcements' own, in one transaction (they are few: one or
// two per announcement ever made).
absl::Status MoveLegacyIndex(storage::Store& store) {
  std::vector<std::string> keys;
  for (uint8_t family : {kIdxAll, kIdxScheduled}) {
    std::string p = KeyWriter().Byte(family).Release();
    STEWARD_RETURN_IF_ERROR(store.Scan(Cf::kModIndex, p, storage::PrefixSuccessor(p), false,  // layering: allow
                                       [&](absl::string_view key, absl::string_view) {
                                         keys.emplace_back(key);
                                         return true;
                                       }));
  }
  if (keys.empty()) return absl::OkStatus();
  STEWARD_RETURN_IF_ERROR(store.CommitAndWait([&](Txn& txn) {
    for (const auto& k : keys) {
      txn.Put(Cf::kAnnouncementIndex, k, "");
      txn.Delete(Cf::kModIndex, k);  // layering: allow
    }
    return absl::OkStatus();
  }));
  LogInfo("announcements: moved ", keys.size(), " index entries out of moderation's index");
  return absl::OkStatus();
}

}  // namespace

absl::Status Announcements::Start() {
  STEWARD_RETURN_IF_ERROR(MoveLegacyIndex(*store_));
  std::string prefix = KeyWriter().Byte(kIdxScheduled).Release();
  std::vector<uint64_t> ids;
  STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kAnnouncementIndex, prefix, storage::PrefixSuccessor(prefix), false,
                               [&](absl::string_view key, absl::string_view) {
                                 KeyReader r(key.substr(prefix.size()));
                                 r.I64();
                                 if (auto id = r.U64()) ids.push_back(*id);
                                 return true;
                               }));
  for (uint64_t id : ids) {
    std::string v;
    STEWARD_RETURN_IF_ERROR(store_->Get(Cf::kAnnouncements, RecordKey(id), &v));
    Announcement a;
    if (!a.ParseFromString(v)) {
      return absl::DataLossError(absl::StrCat("announcement ", id, " is unreadable"));
    }
    if (a.state() == v1::ANNOUNCEMENT_STATE_SCHEDULED) Enqueue(a.next_at_ms(), id);
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Announcements::Enqueue(int64_t at_ms, uint64_t id) {
  absl::MutexLock lock(&mu_);
  queue_.emplace(at_ms, id);
}

void Announcements::Run() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    int64_t now = clock_->NowMs();
    if (!queue_.empty() && queue_.begin()->first <= now) {
      uint64_t id = queue_.begin()->second;
      queue_.erase(queue_.begin());
      mu_.Unlock();
      Fire(id);
      mu_.Lock();
      continue;
    }
    // Wake at the next due time, when something earlier is queued, or stop.
    int64_t due = queue_.empty() ? now + 60'000 : queue_.begin()->first;
    auto first = queue_.empty() ? std::pair<int64_t, uint64_t>{0, 0} : *queue_.begin();
    auto changed = [this, first]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || (!queue_.empty() && *queue_.begin() != first);
    };
    // The wait is measured in real time but the due time on `clock_`: a
    // clock that jumps (a test's, or the wall clock stepped by NTP) is
    // looked at again within kMaxSleepMs.
    mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(std::min(due - now, kMaxSleepMs)));
  }
}

void Announcements::Fire(uint64_t id) {
  {
    absl::MutexLock lock(&mu_);
    ++firing_;
  }
  auto a = std::make_shared<Announcement>();
  store_->Commit(
      [this, id, a](Txn& txn) -> absl::Status {
        STEWARD_RETURN_IF_ERROR(Load(txn, id, a.get()));
        STEWARD_ASSIGN_OR_RETURN(uint64_t seq, ShowIfDue(txn, *hub_, *a, clock_->NowMs()));
        (void)seq;
        Put(txn, *a);
        return absl::OkStatus();
      },
      [this, id, a](absl::Status s) {
        if (!s.ok()) {
          // The store refused (shutting down or failing): try again later;
          // the stored schedule is unchanged.
          if (!absl::IsNotFound(s)) Enqueue(clock_->NowMs() + kRetryMs, id);
        } else {
          if (a->last_seq() != 0) hub_->Published(a->last_seq());
          if (a->state() == v1::ANNOUNCEMENT_STATE_SCHEDULED) Enqueue(a->next_at_ms(), id);
        }
        absl::MutexLock lock(&mu_);
        --firing_;
      });
}

void Announcements::Create(const Caller& c, const v1::CreateAnnouncementRequest& req,
                           v1::AnnouncementResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "announcing");
  if (s.ok()) s = CheckText("idempotency_key", req.idempotency_key(), 1, kMaxIdempotencyKeyLen);
  if (s.ok()) s = Validate(req.spec(), clock_->NowMs());
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        std::string idem = IdempotencyKey(c.name(), "announce", req.idempotency_key());
        STEWARD_ASSIGN_OR_RETURN(uint64_t earlier, FindIdempotent(txn, idem));
        if (earlier != 0) return Load(txn, earlier, resp->mutable_announcement());
        int64_t now = clock_->NowMs();
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("announcement"));
        Announcement* a = resp->mutable_announcement();
        a->set_id(id);
        *a->mutable_spec() = req.spec();
        a->set_state(v1::ANNOUNCEMENT_STATE_SCHEDULED);
        a->set_created_by(c.name());
        a->set_created_at_ms(now);
        a->set_next_at_ms(req.spec().starts_at_ms() == 0 ? now : req.spec().starts_at_ms());
        txn.Put(Cf::kAnnouncementIndex, TimeKey(kIdxAll, now, id), "");
        txn.Put(Cf::kAnnouncementIndex, TimeKey(kIdxScheduled, now, id), "");
        STEWARD_RETURN_IF_ERROR(ShowIfDue(txn, *hub_, *a, now).status());
        Put(txn, *a);
        RecordIdempotent(txn, idem, id, now);
        return AppendAudit(txn, c, now,
                           {.action = "announcement.create",
                            .target = absl::StrCat("announcement/", id),
                            .after = a});
      },
      [this, resp, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          const Announcement& a = resp->announcement();
          if (a.last_seq() != 0) hub_->Published(a.last_seq());
          if (a.state() == v1::ANNOUNCEMENT_STATE_SCHEDULED) Enqueue(a.next_at_ms(), a.id());
        }
        done(s);
      });
}

void Announcements::Cancel(const Caller& c, const v1::CancelAnnouncementRequest& req,
                           v1::AnnouncementResponse* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kLead, "cancelling announcements");
  if (s.ok() && req.announcement_id() == 0) {
    s = absl::InvalidArgumentError("announcement_id is required");
  }
  if (s.ok()) s = CheckText("reason", req.reason(), 1, kMaxReasonLen);
  if (!s.ok()) return done(s);
  auto seq = std::make_shared<uint64_t>(0);
  store_->Commit(
      [this, c, &req, resp, seq](Txn& txn) -> absl::Status {
        Announcement before;
        STEWARD_RETURN_IF_ERROR(Load(txn, req.announcement_id(), &before));
        if (before.state() == v1::ANNOUNCEMENT_STATE_CANCELLED) {
          return absl::FailedPreconditionError(
              absl::StrCat("announcement ", before.id(), " is already cancelled"));
        }
        int64_t now = clock_->NowMs();
        Announcement after = before;
        after.set_state(v1::ANNOUNCEMENT_STATE_CANCELLED);
        after.set_cancelled_by(c.name());
        after.set_cancel_reason(req.reason());
        // Servers take down what they show of it.
        v1::Directive d;
        *d.mutable_target() = before.spec().target();
        d.mutable_announcement_cancel()->set_announcement_id(before.id());
        STEWARD_RETURN_IF_ERROR(hub_->Append(txn, now, &d));
        *seq = d.seq();
        after.set_last_seq(d.seq());
        Put(txn, after);
        STEWARD_RETURN_IF_ERROR(AppendAudit(txn, c, now,
                                    {.action = "announcement.cancel",
                                     .target = absl::StrCat("announcement/", before.id()),
                                     .reason = req.reason(),
                                     .before = &before,
                                     .after = &after}));
        *resp->mutable_announcement() = std::move(after);
        return absl::OkStatus();
      },
      [this, seq, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) hub_->Published(*seq);
        done(s);
      });
}

absl::Status Announcements::List(const Caller& c, const v1::ListAnnouncementsRequest& req,
                                 v1::ListAnnouncementsResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading announcements"));
  TimeScan scan;
  scan.cf = Cf::kAnnouncementIndex;
  scan.prefix = KeyWriter().Byte(req.scheduled_only() ? kIdxScheduled : kIdxAll).Release();
  scan.page_token = req.page_token();
  scan.page_size = EffectivePageSize(req.page_size());
  auto token = PageRecords(*store_, scan, Cf::kAnnouncements, "announcement",
                           resp->mutable_announcements());
  if (!token.ok()) return token.status();
  resp->set_next_page_token(*token);
  return absl::OkStatus();
}

absl::Status Announcements::Deliveries(const Caller& c, const v1::GetDeliveriesRequest& req,
                                       v1::GetDeliveriesResponse* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "reading announcement deliveries"));
  if (req.announcement_id() == 0) return absl::InvalidArgumentError("announcement_id is required");
  std::string v;
  absl::Status s = store_->Get(Cf::kAnnouncements, RecordKey(req.announcement_id()), &v);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("announcement ", req.announcement_id(), " not found"));
  }
  STEWARD_RETURN_IF_ERROR(s);
  Announcement* a = resp->mutable_announcement();
  if (!a->ParseFromString(v)) return absl::DataLossError("announcement is unreadable");
  v1::ListServersResponse servers;
  STEWARD_RETURN_IF_ERROR(servers_->ListAll("", &servers));
  for (const auto& info : servers.servers()) {
    if (!DirectiveMatches(a->spec().target(), info.realm_id(), info.server_id())) continue;
    auto* d = resp->add_servers();
    d->set_server_id(info.server_id());
    d->set_realm_id(info.realm_id());
    d->set_acked_seq(info.acked_seq());
    d->set_online(info.online());
    d->set_acknowledged(a->last_seq() != 0 && info.acked_seq() >= a->last_seq());
    if (d->acknowledged()) resp->set_acknowledged(resp->acknowledged() + 1);
  }
  return absl::OkStatus();
}

}  // namespace steward
