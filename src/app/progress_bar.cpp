#include "app/progress_bar.hpp"

#include <algorithm>
#include <cstdio>

namespace betsdb::app {

namespace {
constexpr std::size_t kBarWidth = 30;
}

ProgressBar::ProgressBar(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {
  draw();
}

ProgressBar::~ProgressBar() {
  finish();
}

std::string ProgressBar::render(const std::string& label, std::size_t done, std::size_t total) {
  const std::size_t filled = total == 0 ? kBarWidth : kBarWidth * done / total;
  const std::size_t percent = total == 0 ? 100 : 100 * done / total;
  std::string line = label + " [";
  line.append(filled, '#');
  line.append(kBarWidth - filled, '.');
  line +=
      "] " + std::to_string(percent) + "% " + std::to_string(done) + "/" + std::to_string(total);
  return line;
}

void ProgressBar::advance(std::size_t n) {
  done_ = std::min(total_, done_ + n);
  draw();
}

void ProgressBar::draw() {
  if (!enabled_ || finished_) return;
  // Redraw only when the picture changes: a terminal write per item would
  // cost more than the import of a small file.
  const int permille = total_ == 0 ? 1000 : static_cast<int>(1000 * done_ / total_);
  if (permille == last_permille_) return;
  last_permille_ = permille;
  std::fprintf(stderr, "\r%s", render(label_, done_, total_).c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (finished_) return;
  draw();
  finished_ = true;
  if (enabled_) std::fputs("\n", stderr);
}

}  // namespace betsdb::app
