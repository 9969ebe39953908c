#include "store/redis/resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <charconv>
#include <limits>
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

namespace {

std::size_t decimal_digits(std::size_t n) {
  std::size_t digits = 1;
  for (; n >= 10; n /= 10) ++digits;
  return digits;
}

// "*<n>\r\n" or "$<n>\r\n".
void append_length_line(std::string& out, char kind, std::size_t n) {
  char line[2 + std::numeric_limits<std::size_t>::digits10 + 3];
  line[0] = kind;
  char* end = std::to_chars(line + 1, line + sizeof line, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(line, end);
}

}  // namespace

Result<EncodedCommand> encode_command(const char* const* argv, const std::size_t* lengths,
                                      std::size_t argc) {
  if (argc == 0) return Error::internal("Redis command has no arguments");
  std::size_t size = 1 + decimal_digits(argc) + 2;
  for (std::size_t i = 0; i < argc; ++i) {
    size += 1 + decimal_digits(lengths[i]) + 2 + lengths[i] + 2;
  }
  std::string wire;
  wire.reserve(size);
  append_length_line(wire, '*', argc);
  for (std::size_t i = 0; i < argc; ++i) {
    append_length_line(wire, '$', lengths[i]);
    wire.append(argv[i], lengths[i]);
    wire.append("\r\n");
  }
  return EncodedCommand(std::move(wire));
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
