#include "domain/account.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "domain/text.hpp"

namespace betsdb::domain {

namespace {
constexpr std::array<std::pair<OperatorRole, std::string_view>, 3> kRoles{{
    {OperatorRole::admin, "admin"},
    {OperatorRole::trader, "trader"},
    {OperatorRole::support, "support"},
}};
constexpr std::array<std::pair<AuditAction, std::string_view>, 10> kActions{{
    {AuditAction::match_create, "match.create"},
    {AuditAction::match_update, "match.update"},
    {AuditAction::match_suspend, "match.suspend"},
    {AuditAction::match_resume, "match.resume"},
    {AuditAction::match_settle, "match.settle"},
    {AuditAction::user_create, "user.create"},
    {AuditAction::user_deposit, "user.deposit"},
    {AuditAction::operator_create, "operator.create"},
    {AuditAction::operator_update, "operator.update"},
    {AuditAction::operator_password, "operator.password"},
}};
constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 128;

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) noexcept {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return {};
}
template <class Enum, std::size_t N>
std::optional<Enum> parse(const std::array<std::pair<Enum, std::string_view>, N>& table,
                          std::string_view text) noexcept {
  for (const auto& [v, name] : table)
    if (name == text) return v;
  return std::nullopt;
}
}  // namespace

std::string_view to_string(OperatorRole role) noexcept {
  return name_of(kRoles, role);
}
std::optional<OperatorRole> parse_operator_role(std::string_view text) noexcept {
  return parse(kRoles, text);
}
std::string_view to_string(AuditAction action) noexcept {
  return name_of(kActions, action);
}
std::optional<AuditAction> parse_audit_action(std::string_view text) noexcept {
  return parse(kActions, text);
}

std::string operator_name(std::int64_t operator_id) {
  return "operator:" + std::to_string(operator_id);
}

std::string account_name(const Account& account) {
  return account.is_operator() ? operator_name(account.id) : std::to_string(account.id);
}

bool is_actor_name(std::string_view text) noexcept {
  if (text == "owner") return true;
  constexpr std::string_view kPrefix = "operator:";
  if (!text.starts_with(kPrefix)) return false;
  text.remove_prefix(kPrefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc{} && end == text.data() + text.size() && id > 0 && text[0] != '0';
}

Result<std::string> password_from(std::string_view text, std::string_view field) {
  const std::size_t length = utf8_length(text);
  if (length < kMinPassword || length > kMaxPassword) {
    return Error::validation(std::string(field), "must be 8 to 128 characters");
  }
  return std::string(text);
}

}  // namespace betsdb::domain
