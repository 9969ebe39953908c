#include "util/metrics.hpp"

#include <charconv>
#include <cmath>

namespace betsdb::metrics {

namespace {
constexpr double kNanosPerSecond = 1e9;
}

std::uint64_t Histogram::Snapshot::count() const noexcept {
  std::uint64_t total = 0;
  for (auto n : buckets) total += n;
  return total;
}

Histogram::Snapshot& Histogram::Snapshot::operator+=(const Snapshot& other) noexcept {
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  sum_ns += other.sum_ns;
  return *this;
}

void Histogram::observe(std::chrono::nanoseconds duration) noexcept {
  const auto ns = duration.count() < 0 ? 0 : duration.count();
  std::size_t i = 0;
  // A dozen comparisons: cheaper than anything clever, and branch-predictable.
  while (i < kLatencyBuckets.size() &&
         ns > std::chrono::duration_cast<std::chrono::nanoseconds>(kLatencyBuckets[i]).count()) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const noexcept {
  Snapshot s;
  for (std::size_t i = 0; i < kBuckets; ++i)
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::series(std::string_view name, std::span<const Label> labels,
                              const Label* extra) {
  out_ += name;
  if (labels.empty() && !extra) return;
  out_ += '{';
  bool first = true;
  auto put = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.name;
    out_ += "=\"";
    append_label_value(out_, l.value);
    out_ += '"';
  };
  for (const auto& l : labels) put(l);
  if (extra) put(*extra);
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, std::span<const Label> labels,
                              std::uint64_t value) {
  series(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, std::span<const Label> labels,
                              std::int64_t value) {
  series(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  series(name, labels);
  out_ += ' ';
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, ec == std::errc{} ? end : buffer);
  }
  out_ += '\n';
}

void PrometheusWriter::histogram(std::string_view name, std::span<const Label> labels,
                                 const Histogram::Snapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
    cumulative += snapshot.buckets[i];
    const Label le{"le", i < kLatencyBucketLabels.size() ? kLatencyBucketLabels[i] : "+Inf"};
    series(bucket, labels, &le);
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", labels,
         static_cast<double>(snapshot.sum_ns) / kNanosPerSecond);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace betsdb::metrics
