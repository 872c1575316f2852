#include "services/common/metrics_text.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace steward {
namespace {

void AppendNumber(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact form
    out->append(buf, r.ptr);
  }
}

void AppendEscaped(std::string* out, absl::string_view v, bool quote) {
  for (char ch : v) {
    if (ch == '\\') {
      out->append("\\\\");
    } else if (ch == '\n') {
      out->append("\\n");
    } else if (ch == '"' && quote) {
      out->append("\\\"");
    } else {
      out->push_back(ch);
    }
  }
}

absl::string_view TypeName(MetricsText::Type t) {
  switch (t) {
    case MetricsText::Type::kCounter: return "counter";
    case MetricsText::Type::kGauge: return "gauge";
    case MetricsText::Type::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

void MetricsText::Family(absl::string_view name, Type type, absl::string_view help) {
  family_ = std::string(name);
  absl::StrAppend(&out_, "# HELP ", name, " ");
  AppendEscaped(&out_, help, /*quote=*/false);
  absl::StrAppend(&out_, "\n# TYPE ", name, " ", TypeName(type), "\n");
}

void MetricsText::Head(absl::string_view suffix, Labels labels,
                       std::pair<absl::string_view, absl::string_view> extra) {
  absl::StrAppend(&out_, family_, suffix);
  bool first = true;
  auto label = [&](absl::string_view k, absl::string_view v) {
    absl::StrAppend(&out_, first ? "{" : ",", k, "=\"");
    AppendEscaped(&out_, v, /*quote=*/true);
    out_.push_back('"');
    first = false;
  };
  for (const auto& [k, v] : labels) label(k, v);
  if (!extra.first.empty()) label(extra.first, extra.second);
  out_.append(first ? " " : "} ");
}

void MetricsText::Sample(double value, Labels labels, absl::string_view suffix) {
  Head(suffix, labels);
  AppendNumber(&out_, value);
  out_.push_back('\n');
}

void MetricsText::Sample(uint64_t value, Labels labels, absl::string_view suffix) {
  Head(suffix, labels);
  absl::StrAppend(&out_, value, "\n");
}

void MetricsText::Histogram(const Log2Histogram::Snapshot& h, double per_unit, int lo, int hi,
                            Labels labels) {
  uint64_t cumulative = 0;
  int b = 0;
  for (int top = lo; top <= hi && top < static_cast<int>(Log2Histogram::kBuckets); ++top) {
    for (; b <= top; ++b) cumulative += h.counts[b];
    std::string le;
    AppendNumber(&le, std::ldexp(1.0, top) / per_unit);
    Head("_bucket", labels, {"le", le});
    absl::StrAppend(&out_, cumulative, "\n");
  }
  Head("_bucket", labels, {"le", "+Inf"});
  absl::StrAppend(&out_, h.count, "\n");
  Sample(static_cast<double>(h.sum) / per_unit, labels, "_sum");
  Sample(h.count, labels, "_count");
}

}  // namespace steward
