#include "domain/entities.hpp"

namespace betsdb::domain {

std::string_view to_string(LedgerKind kind) noexcept {
  switch (kind) {
    case LedgerKind::deposit:
      return "deposit";
    case LedgerKind::stake:
      return "stake";
    case LedgerKind::payout:
      return "payout";
    case LedgerKind::refund:
      return "refund";
    case LedgerKind::cash_out:
      return "cash_out";
  }
  return "deposit";
}

std::optional<LedgerKind> parse_ledger_kind(std::string_view text) noexcept {
  if (text == "deposit") return LedgerKind::deposit;
  if (text == "stake") return LedgerKind::stake;
  if (text == "payout") return LedgerKind::payout;
  if (text == "refund") return LedgerKind::refund;
  if (text == "cash_out") return LedgerKind::cash_out;
  return std::nullopt;
}

}  // namespace betsdb::domain
