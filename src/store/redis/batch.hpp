// Batch: commands for Client::batch, sent back-to-back with nothing interleaved
// (e.g. MULTI ... EXEC). Each command is encoded when added, straight into the
// batch's one buffer, so building a batch copies no argument twice.
//
//   Batch tx;
//   tx.add("MULTI").add("INCR", key).add("EXPIRE", key, "60").add("EXEC");
//   auto replies = co_await client->batch(std::move(tx));
//
// Thread-safety: a value; use from one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/resp.hpp"
#include "util/result.hpp"

namespace betsdb::redis {

class Batch final {
 public:
  template <CommandArg... Args>
  Batch& add(const Args&... args) {
    using Argv = std::array<std::string_view, sizeof...(Args)>;
    return add_range(Argv{std::string_view(args)...});
  }
  Batch& add(const std::vector<std::string>& args) { return add_range(args); }
  // A command encoded already (encode_command).
  Batch& add_encoded(std::string_view wire) {
    wire_.append(wire);
    ++count_;
    return *this;
  }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // Not ok if a command could not be encoded (an empty one); the batch is then
  // refused as a whole.
  const Status& status() const noexcept { return status_; }
  std::string_view wire() const noexcept { return wire_; }

 private:
  template <class Range>
  Batch& add_range(const Range& args) {
    if (status_.ok()) status_ = append_command(wire_, args);
    ++count_;
    return *this;
  }

  std::string wire_;
  std::size_t count_ = 0;
  Status status_;
};

}  // namespace betsdb::redis
