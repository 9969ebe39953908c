// The frames of a shard's recent fan-out passes, held once for every live
// stream client of the shard (api/stream_hub.hpp). Each client is a cursor
// into it, so a client behind the others costs a number, not a copy of the
// frames it has yet to write: 10,000 clients behind a 2 MB import hold the
// 2 MB once. The hub drops from the front what no client still needs.
//
// Frames are numbered in order of arrival from 0 and keep their number; the
// byte offsets are running totals, so how far a client is behind is one
// subtraction.
//
// Thread-safety: the shard's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

namespace betsdb::api {

struct StreamFrame;
using FramePtr = std::shared_ptr<const StreamFrame>;

class StreamBacklog final {
 public:
  // The number of the first frame held, and the one after the last.
  std::uint64_t begin() const { return first_; }
  std::uint64_t end() const { return first_ + frames_.size(); }

  // `number` must be held: begin() <= number < end().
  const FramePtr& at(std::uint64_t number) const { return frames_[number - first_].frame; }

  void append(FramePtr frame, std::size_t size) {
    frames_.push_back({std::move(frame), appended_bytes_});
    appended_bytes_ += size;
  }

  // The bytes of the frames from `from` up to (not including) `to`; both
  // held, or end().
  std::uint64_t bytes_between(std::uint64_t from, std::uint64_t to) const {
    return offset_of(to) - offset_of(from);
  }
  std::uint64_t held_bytes() const { return bytes_between(begin(), end()); }

  // Lets go of the frames before `number` (no client needs them any more).
  void drop_before(std::uint64_t number) {
    while (first_ < number && !frames_.empty()) {
      frames_.pop_front();
      ++first_;
    }
  }

 private:
  struct Held {
    FramePtr frame;
    std::uint64_t offset;  // bytes appended before it
  };

  std::uint64_t offset_of(std::uint64_t number) const {
    return number == end() ? appended_bytes_ : frames_[number - first_].offset;
  }

  std::deque<Held> frames_;
  std::uint64_t first_ = 0;
  std::uint64_t appended_bytes_ = 0;
};

}  // namespace betsdb::api
