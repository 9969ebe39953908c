// A bounded map for caches whose miss costs one cheap query: when full, it
// starts over (clears) rather than growing or tracking recency, so a hit
// costs one hash lookup and nothing else.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <unordered_map>

namespace betsdb {

template <class Key, class Value, class Hash = std::hash<Key>>
class StartOverMap final {
 public:
  explicit StartOverMap(std::size_t capacity) : capacity_(capacity) {}

  const Value* find(const Key& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Replaces the key's value; a new key in a full map empties it first.
  void put(const Key& key, Value value) {
    if (entries_.size() >= capacity_ && !entries_.contains(key)) entries_.clear();
    entries_.insert_or_assign(key, std::move(value));
  }

  void erase(const Key& key) { entries_.erase(key); }
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<Key, Value, Hash> entries_;
};

}  // namespace betsdb
