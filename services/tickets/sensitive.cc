// Support rule 13: which tickets are sensitive, and why.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/tickets/tickets.h"

namespace steward {
namespace {

bool IsAsciiWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

}  // namespace

bool TextHoldsWord(absl::string_view text, absl::string_view word) {
  bool ascii = true;
  for (char c : word) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  for (size_t at = text.find(word); at != absl::string_view::npos; at = text.find(word, at + 1)) {
    if (!ascii) return true;
    bool left = at == 0 || !IsAsciiWordChar(text[at - 1]);
    size_t end = at + word.size();
    bool right = end >= text.size() || !IsAsciiWordChar(text[end]);
    if (left && right) return true;
  }
  return false;
}

std::vector<SensitiveTopic> DefaultSensitiveTopics() {
  return {
      {"payment",
       {v1::TICKET_CATEGORY_PAYMENT},
       {"refund", "refunds", "chargeback", "discount", "discounts", "price", "coupon", "退款", "折扣",
        "优惠", "充值", "возврат", "скидк", "rückerstattung", "rabatt", "remboursement", "réduction",
        "reembolso", "descuento"}},
      {"compensation",
       {},
       {"compensation", "compensate", "compensated", "reimburse", "补偿", "赔偿", "компенсац",
        "entschädigung", "kompensation", "dédommagement", "compensación"}},
      {"account", {v1::TICKET_CATEGORY_ACCOUNT}, {}},
      {"policy",
       {},
       {"policy", "terms of service", "tos", "政策", "条款", "правила", "richtlinie", "politique",
        "política"}},
  };
}

void MarkSensitive(const std::vector<SensitiveTopic>& topics, v1::Ticket* t) {
  std::string text = absl::AsciiStrToLower(absl::StrCat(t->subject(), "\n", t->description()));
  const auto& extra = t->context().extra();
  auto topic = extra.find("topic");
  for (const SensitiveTopic& s : topics) {
    std::string why;
    for (v1::TicketCategory c : s.categories) {
      if (c == t->category()) why = "category";
    }
    if (why.empty() && topic != extra.end() && absl::AsciiStrToLower(topic->second) == s.name) {
      why = "topic chosen in game";
    }
    if (why.empty()) {
      for (const std::string& w : s.words) {
        if (TextHoldsWord(text, w)) {
          why = absl::StrCat("\"", w, "\"");
          break;
        }
      }
    }
    if (!why.empty()) t->add_sensitive_reasons(absl::StrCat(s.name, ": ", why));
  }
}

}  // namespace steward
