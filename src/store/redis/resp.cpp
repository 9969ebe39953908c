#include "store/redis/resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <new>

namespace betsdb::redis {

namespace {

struct FreeReply {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, FreeReply>;

Reply to_reply(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STATUS:
      return Reply::status(std::string(r.str, r.len));
    case REDIS_REPLY_ERROR:
      return Reply::error(std::string(r.str, r.len));
    case REDIS_REPLY_STRING:
      return Reply::string(std::string(r.str, r.len));
    case REDIS_REPLY_INTEGER:
      return Reply::integer(r.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) elements.push_back(to_reply(*r.element[i]));
      return Reply::array(std::move(elements));
    }
    default:
      return Reply::nil();  // REDIS_REPLY_NIL, also a nil multi-bulk (*-1)
  }
}

Error protocol_error(const redisReader* reader) {
  return Error::internal(std::string("Redis protocol error: ") + reader->errstr);
}

}  // namespace

void EncodedCommand::Free::operator()(char* p) const noexcept {
  redisFreeCommand(p);
}

Result<EncodedCommand> encode_command(const char* const* argv, const std::size_t* lengths,
                                      std::size_t argc) {
  if (argc == 0) return Error::internal("Redis command has no arguments");
  char* data = nullptr;
  // hiredis takes a non-const char** although it only reads the pointers.
  const int size = redisFormatCommandArgv(&data, static_cast<int>(argc),
                                          const_cast<const char**>(argv), lengths);
  if (size < 0 || data == nullptr) throw std::bad_alloc();
  return EncodedCommand(data, static_cast<std::size_t>(size));
}

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() {
  if (reader_ != nullptr) redisReaderFree(reader_);
}

ReplyReader::ReplyReader(ReplyReader&& other) noexcept
    : reader_(std::exchange(other.reader_, nullptr)) {}

ReplyReader& ReplyReader::operator=(ReplyReader&& other) noexcept {
  if (this != &other) {
    if (reader_ != nullptr) redisReaderFree(reader_);
    reader_ = std::exchange(other.reader_, nullptr);
  }
  return *this;
}

Status ReplyReader::feed(const char* data, std::size_t size) {
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) return protocol_error(reader_);
  return {};
}

Result<std::optional<Reply>> ReplyReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) return protocol_error(reader_);
  if (raw == nullptr) return std::optional<Reply>{};
  const ReplyPtr reply(static_cast<redisReply*>(raw));
  return std::optional<Reply>(to_reply(*reply));
}

}  // namespace betsdb::redis
