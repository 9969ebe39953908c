// A one-line progress bar for command-line tools, drawn on stderr only when
// stderr is a terminal (pipes and log files get no control characters).
//
// Thread-safety: none; one thread draws.
#pragma once

#include <cstddef>
#include <string>

namespace betsdb::app {

class ProgressBar final {
 public:
  // enabled: normally isatty(STDERR_FILENO).
  ProgressBar(std::string label, std::size_t total, bool enabled);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();

  void advance(std::size_t n = 1);
  // Ends the line where it stands (also done by the destructor).
  void finish();

  // The line as drawn for `done` of `total`, without the leading '\r'.
  static std::string render(const std::string& label, std::size_t done, std::size_t total);

 private:
  void draw();

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  int last_permille_ = -1;
  bool enabled_;
  bool finished_ = false;
};

}  // namespace betsdb::app
