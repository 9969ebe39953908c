#include "store/redis/commands.hpp"

#include <algorithm>

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

std::vector<std::string_view> views_of(const std::vector<std::string>& args) {
  return std::vector<std::string_view>(args.begin(), args.end());
}

// EVALSHA sha numkeys keys... args..., as views into the caller's strings.
std::vector<std::string_view> eval_argv(const Script& script, const std::string& key_count,
                                        const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args, bool read_only) {
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  // push_back, not a braced list: g++ 12 mishandles initializer_lists in coroutines.
  argv.push_back(read_only ? "EVALSHA_RO" : "EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(key_count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void use_source(std::vector<std::string_view>& argv, const Script& script, bool read_only) {
  argv[0] = read_only ? "EVAL_RO" : "EVAL";
  argv[1] = script.source();
}

}  // namespace

Commands::Route Commands::route_of(std::span<const std::string_view> argv) const noexcept {
  if (!cluster()) return std::nullopt;
  auto key = first_key(argv);
  if (!key) return std::nullopt;
  return key_slot(*key);
}

asio::awaitable<Result<Reply>> Commands::command(const std::vector<std::string>& args) {
  const auto argv = views_of(args);
  return send(encode_command(argv), route_of(argv));
}

asio::awaitable<Result<Served>> Commands::command_served(const std::vector<std::string>& args) {
  const auto argv = views_of(args);
  return send_served(encode_command(argv), route_of(argv));
}

asio::awaitable<Result<Reply>> Commands::eval(const Script& script, std::vector<std::string> keys,
                                              std::vector<std::string> args, ScriptMode mode) {
  const bool read_only = mode == ScriptMode::read_only;
  const std::string key_count = std::to_string(keys.size());
  auto argv = eval_argv(script, key_count, keys, args, read_only);
  const Route route = route_of(argv);
  Result<Reply> reply = co_await send(encode_command(argv), route);
  if (!reply.ok() || !reply->has_error_code("NOSCRIPT")) co_return reply;
  // This server has not seen the script yet: EVAL runs it and caches it, so
  // later calls take the EVALSHA path again.
  use_source(argv, script, read_only);
  co_return co_await send(encode_command(argv), route);
}

asio::awaitable<Result<Served>> Commands::eval_served(const Script& script,
                                                      std::vector<std::string> keys,
                                                      std::vector<std::string> args,
                                                      ScriptMode mode) {
  const bool read_only = mode == ScriptMode::read_only;
  const std::string key_count = std::to_string(keys.size());
  auto argv = eval_argv(script, key_count, keys, args, read_only);
  const Route route = route_of(argv);
  Result<Served> served = co_await send_served(encode_command(argv), route);
  if (!served.ok() || !served->reply.has_error_code("NOSCRIPT")) co_return served;
  use_source(argv, script, read_only);
  co_return co_await send_served(encode_command(argv), route);
}

std::string origin_from_info(std::string_view info) {
  constexpr std::string_view kField = "run_id:";
  constexpr std::size_t kOriginLength = 12;
  const auto at = info.find(kField);
  if (at == std::string_view::npos) return {};
  const auto start = at + kField.size();
  return std::string(info.substr(start, std::min(kOriginLength, info.size() - start)));
}

}  // namespace betsdb::redis
