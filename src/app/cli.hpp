// The command-line tools besides `serve` (see `betsdb COMMAND --help`). Each
// runs on a private io_context, where blocking the calling thread is fine,
// and returns the process's exit code.
#pragma once

#include <string>
#include <string_view>

#include "app/config.hpp"

namespace betsdb::app {

// Exit codes shared by the tools.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;  // the tool ran and found something wrong
inline constexpr int kExitUsage = 2;     // bad arguments, unreadable input, database unreachable

// `betsdb check`: the ledger invariant. 0 when it holds for every user, 1
// (listing the users) when it does not.
int run_check(const Config& config);
std::string check_usage();

// `betsdb import FILE [--shift-to-future] [--apply-results] [--odds-seed=N]`.
int run_import(const Config& config);
std::string import_usage();

// The help text of `betsdb COMMAND --help` (and `betsdb help COMMAND`).
std::string command_usage(std::string_view command);

}  // namespace betsdb::app
