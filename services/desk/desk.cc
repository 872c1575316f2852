#include "services/desk/desk.h"
#include "services/incidents/incidents.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/audit/audit.h"
#include "services/common/records.h"
#include "services/tickets/tickets.h"
#include "services/common/validation.h"
#include "services/vip/vip.h"
#include "storage/keys.h"
#include "services/common/status_macros.h"

namespace steward {
namespace {

using storage::Cf;
using storage::KeyReader;
using storage::KeyWriter;
using storage::Txn;

// Keys in Cf::kDesk.
constexpr uint8_t kHandover = 'H';       // id -> Handover
constexpr uint8_t kHandoverTime = 'h';   // written, id -> ""
constexpr uint8_t kHandoverRead = 'r';   // gm, id -> ""
constexpr uint8_t kSample = 'S';         // id -> QualitySample
constexpr uint8_t kSamplePeriod = 'p';   // period -> sample id
constexpr uint8_t kReview = 'Q';         // sample, ticket -> QualityReview
constexpr uint8_t kReviewPeriod = 'q';   // period, agent, ticket -> QualityReview

constexpr size_t kMaxIssues = 32;
constexpr int64_t kDayMs = 24 * 3600 * 1000;

std::string HandoverKey(uint64_t id) { return KeyWriter().Byte(kHandover).U64(id).Release(); }
std::string ReadKey(absl::string_view gm, uint64_t id) {
  return KeyWriter().Byte(kHandoverRead).Str(gm).U64(id).Release();
}
std::string SampleKey(uint64_t id) { return KeyWriter().Byte(kSample).U64(id).Release(); }

template <typename M>
absl::Status LoadIn(Txn& txn, const std::string& key, absl::string_view what, uint64_t id, M* out) {
  std::string v;
  return ParseRecord(txn.Get(Cf::kDesk, key, &v), v, what, id, out);
}

template <typename M>
absl::Status ReadFrom(const storage::Store& store, const std::string& key, absl::string_view what,
                      uint64_t id, M* out) {
  std::string v;
  return ParseRecord(store.Get(Cf::kDesk, key, &v), v, what, id, out);
}

// "YYYY-MM" into its month.
absl::StatusOr<absl::CivilMonth> ParsePeriod(absl::string_view field, const std::string& s) {
  absl::CivilMonth m;
  if (s.size() != 7 || !absl::ParseCivilTime(s, &m)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", s, "\" must be a month, YYYY-MM"));
  }
  return m;
}

int64_t StartMs(absl::CivilSecond t) { return absl::ToUnixMillis(absl::FromCivil(t, absl::UTCTimeZone())); }

std::string PeriodName(absl::CivilMonth m) { return absl::FormatCivilTime(m).substr(0, 7); }

// Nearest-rank percentile of sorted values; 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, int pct) {
  if (sorted.empty()) return 0;
  size_t rank = (sorted.size() * pct + 99) / 100;
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

std::vector<uint64_t> SampleUniform(std::vector<uint64_t> ids, size_t k, std::mt19937_64& rng) {
  // A partial Fisher-Yates shuffle: the first k places get k distinct ids,
  // each subset of size k equally likely.
  k = std::min(k, ids.size());
  for (size_t i = 0; i < k; ++i) {
    size_t j = std::uniform_int_distribution<size_t>(i, ids.size() - 1)(rng);
    std::swap(ids[i], ids[j]);
  }
  ids.resize(k);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Desk::Desk(storage::Store* store, const Tickets* tickets, const VipCare* vip, DeskOptions options)
    : store_(store), tickets_(tickets), vip_(vip), options_(std::move(options)) {}

int64_t Desk::Now() const {
  return options_.clock->NowMs();
}

// ---- Shift handover -------------------------------------------------------

void Desk::WriteHandover(const Caller& c, const v1::WriteHandoverRequest& req, v1::Handover* resp,
                         storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "WriteHandover");
  if (s.ok()) s = CheckId("realm_id", req.realm_id(), false);
  if (s.ok()) s = CheckText("system_state", req.system_state(), 0, 4000);
  if (s.ok()) s = CheckText("staffing_notes", req.staffing_notes(), 0, 2000);
  if (s.ok() && static_cast<size_t>(req.open_issues_size()) > kMaxIssues) {
    s = absl::InvalidArgumentError(absl::StrCat("open_issues: at most ", kMaxIssues, " per handover"));
  }
  for (int i = 0; s.ok() && i < req.open_issues_size(); ++i) {
    s = CheckText(absl::StrCat("open_issues[", i, "]"), req.open_issues(i), 1, 500);
  }
  if (s.ok() && req.system_state().empty() && req.open_issues_size() == 0 && req.staffing_notes().empty()) {
    s = absl::InvalidArgumentError("a handover needs system_state, open_issues or staffing_notes");
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("handover"));
        int64_t now = Now();
        resp->set_id(id);
        resp->set_author(c.name());
        resp->set_written_at_ms(now);
        resp->set_realm_id(req.realm_id());
        resp->set_system_state(req.system_state());
        *resp->mutable_open_issues() = req.open_issues();
        resp->set_staffing_notes(req.staffing_notes());
        resp->add_read_by(c.name());  // the author has read it
        txn.Put(Cf::kDesk, HandoverKey(id), resp->SerializeAsString());
        txn.Put(Cf::kDesk, KeyWriter().Byte(kHandoverTime).I64(now).U64(id).key(), "");
        txn.Put(Cf::kDesk, ReadKey(c.name(), id), "");
        return AppendAudit(txn, c, now,
                           {.action = "handover.write", .target = absl::StrCat("handover/", id),
                            .after = resp});
      },
      std::move(done));
}

void Desk::MarkHandoverRead(const Caller& c, const v1::MarkHandoverReadRequest& req, v1::Handover* resp,
                            storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kAgent, "MarkHandoverRead");
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        v1::Handover before;
        STEWARD_RETURN_IF_ERROR(LoadIn(txn, HandoverKey(req.id()), "handover", req.id(), &before));
        *resp = before;
        const auto& readers = before.read_by();
        if (std::find(readers.begin(), readers.end(), c.name()) != readers.end()) {
          return absl::OkStatus();  // already read; nothing to record
        }
        resp->add_read_by(c.name());
        txn.Put(Cf::kDesk, HandoverKey(req.id()), resp->SerializeAsString());
        txn.Put(Cf::kDesk, ReadKey(c.name(), req.id()), "");
        return AppendAudit(txn, c, Now(),
                           {.action = "handover.read", .target = absl::StrCat("handover/", req.id()),
                            .before = &before, .after = resp});
      },
      std::move(done));
}

absl::Status Desk::GetShiftBrief(const Caller& c, const v1::GetShiftBriefRequest& req,
                                 v1::ShiftBrief* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kAgent, "GetShiftBrief"));
  if (req.limit() > 500) return absl::InvalidArgumentError("limit: at most 500");
  const int limit = req.limit() == 0 ? 50 : static_cast<int>(req.limit());
  int64_t now = Now();
  std::string prefix = KeyWriter().Byte(kHandoverTime).Release();
  absl::Status bad;
  STEWARD_RETURN_IF_ERROR(store_->Scan(
      Cf::kDesk, KeyWriter(prefix).I64(now - options_.handover_horizon_ms).key(),
      storage::PrefixSuccessor(prefix), false, [&](absl::string_view key, absl::string_view) {
        KeyReader r(key.substr(prefix.size()));
        r.I64();
        std::optional<uint64_t> id = r.U64();
        if (!id) {
          bad = absl::DataLossError("handover index entry is unreadable");
          return false;
        }
        std::string mark;
        absl::Status read = store_->Get(Cf::kDesk, ReadKey(c.name(), *id), &mark);
        if (read.ok()) return true;
        if (!absl::IsNotFound(read)) {
          bad = read;
          return false;
        }
        bad = ReadFrom(*store_, HandoverKey(*id), "handover", *id, resp->add_unread_handovers());
        return bad.ok() && resp->unread_handovers_size() < limit;
      }));
  STEWARD_RETURN_IF_ERROR(bad);
  auto collect = [&](google::protobuf::RepeatedPtrField<v1::Ticket>* out) {
    return [&c, out, limit](const v1::Ticket& t) {
      v1::Ticket* copy = out->Add();
      *copy = t;
      RedactTicketFor(c, copy);
      return out->size() < limit;
    };
  };
  STEWARD_RETURN_IF_ERROR(tickets_->ScanOpenEscalated(collect(resp->mutable_open_escalations())));
  STEWARD_RETURN_IF_ERROR(tickets_->ScanOpenBreached(collect(resp->mutable_breached())));
  if (incidents_ != nullptr) {
    for (auto& inc : incidents_->Active()) *resp->add_incidents() = std::move(inc);
  }
  return absl::OkStatus();
}

// ---- Quality inspection ---------------------------------------------------

void Desk::DrawQualitySample(const Caller& c, const v1::DrawQualitySampleRequest& req,
                             v1::QualitySample* resp, storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kSupervisor, "DrawQualitySample");
  absl::StatusOr<absl::CivilMonth> month = absl::InvalidArgumentError("period is required");
  if (s.ok()) month = ParsePeriod("period", req.period());
  if (s.ok()) s = month.status();
  if (s.ok() && req.per_agent() > 50) s = absl::InvalidArgumentError("per_agent: at most 50");
  if (s.ok() && StartMs(absl::CivilSecond(*month)) > Now()) {
    s = absl::InvalidArgumentError(absl::StrCat("period ", req.period(), " has not begun"));
  }
  if (!s.ok()) return done(s);
  const uint32_t per_agent = req.per_agent() == 0 ? options_.per_agent : req.per_agent();
  // Each agent's resolved tickets of the month.
  std::map<std::string, std::vector<uint64_t>> by_agent;
  s = tickets_->ScanResolved(StartMs(absl::CivilSecond(*month)), StartMs(absl::CivilSecond(*month + 1)),
                             [&](const v1::Ticket& t) {
                               if (!t.assignee().empty()) by_agent[t.assignee()].push_back(t.id());
                               return true;
                             });
  if (!s.ok()) return done(s);
  std::mt19937_64 rng(options_.seed ? options_.seed() : std::random_device{}());
  resp->set_period(PeriodName(*month));
  resp->set_per_agent(per_agent);
  for (const auto& [agent, ids] : by_agent) {
    for (uint64_t id : SampleUniform(ids, per_agent, rng)) {
      auto* item = resp->add_items();
      item->set_ticket_id(id);
      item->set_agent(agent);
    }
  }
  store_->Commit(
      [this, c, resp](Txn& txn) -> absl::Status {
        std::string period_key = KeyWriter().Byte(kSamplePeriod).Str(resp->period()).Release();
        std::string existing;
        absl::Status got = txn.Get(Cf::kDesk, period_key, &existing);
        if (got.ok()) {
          std::optional<uint64_t> id = KeyReader(existing).U64();
          return absl::AlreadyExistsError(absl::StrCat(
              "period ", resp->period(), " was already sampled (sample ", id.value_or(0),
              "); a second draw would let a reviewer pick the sample"));
        }
        if (!absl::IsNotFound(got)) return got;
        STEWARD_ASSIGN_OR_RETURN(uint64_t id, txn.NextId("quality_sample"));
        int64_t now = Now();
        resp->set_id(id);
        resp->set_drawn_by(c.name());
        resp->set_drawn_at_ms(now);
        txn.Put(Cf::kDesk, SampleKey(id), resp->SerializeAsString());
        txn.Put(Cf::kDesk, period_key, KeyWriter().U64(id).key());
        return AppendAudit(txn, c, now,
                           {.action = "quality.sample", .target = absl::StrCat("quality_sample/", id),
                            .after = resp});
      },
      std::move(done));
}

absl::Status Desk::GetQualitySample(const Caller& c, const v1::GetQualitySampleRequest& req,
                                    v1::QualitySample* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kSupervisor, "GetQualitySample"));
  return ReadFrom(*store_, SampleKey(req.id()), "quality sample", req.id(), resp);
}

void Desk::ScoreTicket(const Caller& c, const v1::ScoreTicketRequest& req, v1::QualityReview* resp,
                       storage::DoneFn done) {
  absl::Status s = RequireGm(c, Role::kSupervisor, "ScoreTicket");
  if (s.ok()) s = CheckText("comment", req.comment(), 0, 2000);
  std::set<std::string> given;
  for (int i = 0; s.ok() && i < req.scores_size(); ++i) {
    const auto& sc = req.scores(i);
    if (std::find(options_.criteria.begin(), options_.criteria.end(), sc.criterion()) ==
        options_.criteria.end()) {
      s = absl::InvalidArgumentError(absl::StrCat("scores[", i, "]: \"", sc.criterion(),
                                                  "\" is not on the sheet (",
                                                  absl::StrJoin(options_.criteria, ", "), ")"));
    } else if (sc.score() < 1 || sc.score() > options_.max_score) {
      s = absl::InvalidArgumentError(absl::StrCat("scores[", i, "]: ", sc.criterion(), " must be 1 to ",
                                                  options_.max_score));
    } else if (!given.insert(sc.criterion()).second) {
      s = absl::InvalidArgumentError(absl::StrCat("scores[", i, "]: ", sc.criterion(), " scored twice"));
    }
  }
  if (s.ok() && given.size() != options_.criteria.size()) {
    s = absl::InvalidArgumentError(absl::StrCat("scores: every criterion of the sheet needs a score (",
                                                absl::StrJoin(options_.criteria, ", "), ")"));
  }
  if (!s.ok()) return done(s);
  store_->Commit(
      [this, c, &req, resp](Txn& txn) -> absl::Status {
        v1::QualitySample sample;
        STEWARD_RETURN_IF_ERROR(LoadIn(txn, SampleKey(req.sample_id()), "quality sample", req.sample_id(), &sample));
        v1::QualityItem* item = nullptr;
        for (auto& it : *sample.mutable_items()) {
          if (it.ticket_id() == req.ticket_id()) item = &it;
        }
        if (item == nullptr) {
          return absl::NotFoundError(absl::StrCat("ticket ", req.ticket_id(), " is not in quality sample ",
                                                  sample.id()));
        }
        if (item->agent() == c.name()) {
          return absl::PermissionDeniedError("a reviewer cannot score their own ticket");
        }
        std::string key = KeyWriter().Byte(kReview).U64(sample.id()).U64(req.ticket_id()).Release();
        v1::QualityReview before;
        bool rescore = false;
        std::string v;
        absl::Status got = txn.Get(Cf::kDesk, key, &v);
        if (got.ok()) {
          if (!before.ParseFromString(v)) return absl::DataLossError("a quality review is unreadable");
          rescore = true;
        } else if (!absl::IsNotFound(got)) {
          return got;
        }
        int64_t now = Now();
        resp->set_sample_id(sample.id());
        resp->set_ticket_id(req.ticket_id());
        resp->set_agent(item->agent());
        resp->set_period(sample.period());
        resp->set_reviewer(c.name());
        resp->set_reviewed_at_ms(now);
        // In the sheet's order, whatever order they came in.
        for (const auto& crit : options_.criteria) {
          for (const auto& sc : req.scores()) {
            if (sc.criterion() == crit) *resp->add_scores() = sc;
          }
        }
        resp->set_comment(req.comment());
        item->set_scored(true);
        txn.Put(Cf::kDesk, SampleKey(sample.id()), sample.SerializeAsString());
        txn.Put(Cf::kDesk, key, resp->SerializeAsString());
        txn.Put(Cf::kDesk,
                KeyWriter().Byte(kReviewPeriod).Str(sample.period()).Str(item->agent()).U64(req.ticket_id()).key(),
                resp->SerializeAsString());
        return AppendAudit(txn, c, now,
                           {.action = rescore ? "quality.rescore" : "quality.score",
                            .target = absl::StrCat("ticket/", req.ticket_id()), .reason = req.comment(),
                            .before = rescore ? &before : nullptr, .after = resp});
      },
      std::move(done));
}

absl::Status Desk::GetQualityTrends(const Caller& c, const v1::QualityTrendsRequest& req,
                                    v1::QualityTrends* resp) const {
  // Supervisors see everyone's; an agent or lead sees their own.
  if (!(c.is_gm() && !req.agent().empty() && req.agent() == c.name())) {
    STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kSupervisor, "GetQualityTrends for other agents"));
  }
  STEWARD_RETURN_IF_ERROR(CheckId("agent", req.agent(), false));
  STEWARD_ASSIGN_OR_RETURN(absl::CivilMonth from, ParsePeriod("from_period", req.from_period()));
  STEWARD_ASSIGN_OR_RETURN(absl::CivilMonth to, ParsePeriod("to_period", req.to_period()));
  if (to < from || to - from >= 24) {
    return absl::InvalidArgumentError("to_period must be from_period or up to 23 months after it");
  }
  for (const auto& crit : options_.criteria) resp->add_criteria(crit);
  resp->set_max_score(options_.max_score);
  struct Acc {
    uint32_t reviews = 0;
    std::map<std::string, double> sum;
  };
  std::map<std::pair<std::string, std::string>, Acc> acc;  // (agent, period)
  absl::Status bad;
  for (absl::CivilMonth m = from; m <= to; ++m) {
    std::string period = PeriodName(m);
    KeyWriter w;
    w.Byte(kReviewPeriod).Str(period);
    if (!req.agent().empty()) w.Str(req.agent());
    std::string prefix = w.Release();
    STEWARD_RETURN_IF_ERROR(store_->Scan(Cf::kDesk, prefix, storage::PrefixSuccessor(prefix), false,
                                 [&](absl::string_view, absl::string_view v) {
                                   v1::QualityReview r;
                                   if (!r.ParseFromArray(v.data(), v.size())) {
                                     bad = absl::DataLossError("a quality review is unreadable");
                                     return false;
                                   }
                                   Acc& a = acc[{r.agent(), period}];
                                   ++a.reviews;
                                   for (const auto& sc : r.scores()) a.sum[sc.criterion()] += sc.score();
                                   return true;
                                 }));
    STEWARD_RETURN_IF_ERROR(bad);
  }
  for (const auto& [key, a] : acc) {
    auto* p = resp->add_points();
    p->set_agent(key.first);
    p->set_period(key.second);
    p->set_reviews(a.reviews);
    double total = 0;
    for (const auto& [crit, sum] : a.sum) {
      (*p->mutable_average())[crit] = sum / a.reviews;
      total += sum / a.reviews;
    }
    if (!a.sum.empty()) p->set_overall(total / a.sum.size());
  }
  return absl::OkStatus();
}

// ---- Reports --------------------------------------------------------------

absl::Status Desk::FillRow(const v1::DeskReportRequest& req, v1::DeskReportRow* row) const {
  const int64_t from = row->period_start_ms(), to = row->period_end_ms();
  auto in_realm = [&req](const v1::Ticket& t) {
    return req.realm_id().empty() || t.context().realm_id() == req.realm_id();
  };
  STEWARD_RETURN_IF_ERROR(tickets_->ScanCreated(from, to, [&](const v1::Ticket& t) {
    if (!in_realm(t)) return true;
    row->set_received(row->received() + 1);
    std::string cat = v1::TicketCategory_Name(t.category());
    cat = absl::AsciiStrToLower(absl::string_view(cat).substr(sizeof("TICKET_CATEGORY_") - 1));
    ++(*row->mutable_received_by_category())[cat];
    return true;
  }));
  std::vector<int64_t> first_response, resolution;
  uint32_t compliant = 0, rated = 0;
  double csat_sum = 0;
  struct Agent {
    uint32_t resolved = 0, rated = 0;
    double csat = 0;
  };
  std::map<std::string, Agent> agents;
  STEWARD_RETURN_IF_ERROR(tickets_->ScanResolved(from, to, [&](const v1::Ticket& t) {
    if (!in_realm(t)) return true;
    row->set_resolved(row->resolved() + 1);
    if (t.first_response_at_ms() != 0) first_response.push_back(t.first_response_at_ms() - t.created_at_ms());
    resolution.push_back(t.resolved_at_ms() - t.created_at_ms());
    if (!t.sla().dispatch_breached() && !t.sla().answer_breached()) ++compliant;
    Agent& a = agents[t.assignee().empty() ? "-" : t.assignee()];
    ++a.resolved;
    if (t.satisfaction().score() != 0) {
      ++rated;
      csat_sum += t.satisfaction().score();
      ++a.rated;
      a.csat += t.satisfaction().score();
    }
    return true;
  }));
  std::sort(first_response.begin(), first_response.end());
  std::sort(resolution.begin(), resolution.end());
  row->set_first_response_p50_ms(Percentile(first_response, 50));
  row->set_first_response_p90_ms(Percentile(first_response, 90));
  row->set_resolution_p50_ms(Percentile(resolution, 50));
  row->set_resolution_p90_ms(Percentile(resolution, 90));
  if (row->resolved() != 0) row->set_sla_compliance_pct(100.0 * compliant / row->resolved());
  row->set_csat_count(rated);
  if (rated != 0) row->set_csat_average(csat_sum / rated);
  for (const auto& [name, a] : agents) {
    auto* w = row->add_agents();
    w->set_agent(name);
    w->set_resolved(a.resolved);
    if (a.rated != 0) w->set_csat_average(a.csat / a.rated);
  }
  if (vip_ != nullptr) {
    STEWARD_RETURN_IF_ERROR(vip_->ScanCallbacksDue(req.realm_id(), from, to, [&](const v1::CareTask& task) {
      row->set_callbacks_due(row->callbacks_due() + 1);
      if (task.state() == v1::CARE_TASK_STATE_DONE) row->set_callbacks_reached(row->callbacks_reached() + 1);
      return true;
    }));
    if (row->callbacks_due() != 0) {
      row->set_callback_rate_pct(100.0 * row->callbacks_reached() / row->callbacks_due());
    }
  }
  if (incidents_ != nullptr) {
    auto in_scope = [&req](const v1::Incident& i) {
      return req.realm_id().empty() || i.filter().realm_id() == req.realm_id();
    };
    STEWARD_RETURN_IF_ERROR(incidents_->ScanCreated(from, to, [&](const v1::Incident& i) {
      if (in_scope(i) && i.state() != v1::INCIDENT_STATE_DISMISSED) row->set_incidents_opened(row->incidents_opened() + 1);
    }));
    std::vector<int64_t> took;
    uint64_t tickets = 0;
    STEWARD_RETURN_IF_ERROR(incidents_->ScanResolved(from, to, [&](const v1::Incident& i) {
      if (!in_scope(i) || i.state() != v1::INCIDENT_STATE_RESOLVED) return;
      row->set_incidents_resolved(row->incidents_resolved() + 1);
      tickets += i.linked() + i.detached();
      took.push_back(i.resolved_at_ms() - i.created_at_ms());
    }));
    std::sort(took.begin(), took.end());
    row->set_incident_resolution_p50_ms(Percentile(took, 50));
    if (row->incidents_resolved() != 0) {
      row->set_tickets_per_incident(static_cast<double>(tickets) / row->incidents_resolved());
    }
  }
  return absl::OkStatus();
}

absl::Status Desk::GetDeskReport(const Caller& c, const v1::DeskReportRequest& req,
                                 v1::DeskReport* resp) const {
  STEWARD_RETURN_IF_ERROR(RequireGm(c, Role::kLead, "GetDeskReport"));
  STEWARD_RETURN_IF_ERROR(CheckId("realm_id", req.realm_id(), false));
  STEWARD_RETURN_IF_ERROR(CheckEnum("granularity", req.granularity(),
                            v1::ReportGranularity_IsValid(req.granularity()), false));
  if (req.from_ms() <= 0 || req.to_ms() <= req.from_ms()) {
    return absl::InvalidArgumentError("from_ms and to_ms are required, from before to");
  }
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::CivilDay day = absl::ToCivilDay(absl::FromUnixMillis(req.from_ms()), utc);
  // Period starts, rounded down to the granularity.
  absl::CivilSecond start;
  switch (req.granularity()) {
    case v1::REPORT_GRANULARITY_DAY: start = absl::CivilSecond(day); break;
    case v1::REPORT_GRANULARITY_WEEK: start = absl::CivilSecond(absl::PrevWeekday(day + 1, absl::Weekday::monday)); break;
    default: start = absl::CivilSecond(absl::CivilMonth(day)); break;
  }
  auto next = [&req](absl::CivilSecond s) {
    switch (req.granularity()) {
      case v1::REPORT_GRANULARITY_DAY: return absl::CivilSecond(absl::CivilDay(s) + 1);
      case v1::REPORT_GRANULARITY_WEEK: return absl::CivilSecond(absl::CivilDay(s) + 7);
      default: return absl::CivilSecond(absl::CivilMonth(s) + 1);
    }
  };
  for (absl::CivilSecond s = start; StartMs(s) < req.to_ms(); s = next(s)) {
    if (req.max_rows() != 0 && static_cast<uint32_t>(resp->rows_size()) == req.max_rows()) {
      resp->set_next_from_ms(StartMs(s));
      break;
    }
    if (resp->rows_size() == 400) {
      return absl::InvalidArgumentError("the range holds more than 400 periods; ask for fewer or coarser ones");
    }
    auto* row = resp->add_rows();
    row->set_period_start_ms(StartMs(s));
    row->set_period_end_ms(StartMs(next(s)));
  }
  for (auto& row : *resp->mutable_rows()) STEWARD_RETURN_IF_ERROR(FillRow(req, &row));
  // Backlog: open tickets now, by age.
  int64_t now = Now();
  v1::BacklogAging* b = resp->mutable_backlog();
  return tickets_->ScanOpen([&](const v1::Ticket& t) {
    if (!req.realm_id().empty() && t.context().realm_id() != req.realm_id()) return true;
    int64_t age = now - t.created_at_ms();
    b->set_open(b->open() + 1);
    if (age < kDayMs) b->set_under_1d(b->under_1d() + 1);
    else if (age < 3 * kDayMs) b->set_d1_to_3(b->d1_to_3() + 1);
    else if (age < 7 * kDayMs) b->set_d3_to_7(b->d3_to_7() + 1);
    else b->set_over_7d(b->over_7d() + 1);
    return true;
  });
}

}  // namespace steward
