#include "store/redis/script.hpp"

#include <openssl/evp.h>

#include <new>

namespace betsdb::redis {

namespace {
std::string sha1_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // Only an allocation failure inside OpenSSL can make a one-shot SHA1 fail.
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha1(), nullptr) != 1) {
    throw std::bad_alloc();
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex(static_cast<std::size_t>(size) * 2, '\0');
  for (unsigned int i = 0; i < size; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}
}  // namespace

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

}  // namespace betsdb::redis
