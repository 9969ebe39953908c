// A Lua script with its SHA1, for EVALSHA (see Client::eval). Build each script
// once (e.g. a function-local static) and reuse it: hashing happens here.
//
// Thread-safety: immutable after construction; safe to share between threads.
#pragma once

#include <string>

namespace betsdb::redis {

class Script final {
 public:
  explicit Script(std::string source);

  const std::string& source() const noexcept { return source_; }
  // 40 lowercase hex digits, as SCRIPT LOAD reports it.
  const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace betsdb::redis
