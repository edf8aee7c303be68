#include "core/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/common/error.h"

namespace otcs::metrics {

namespace {

double quantile(std::vector<double>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const size_t lo = size_t(std::floor(pos)), hi = std::min(sorted.size() - 1, lo + 1);
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::vector<BootstrapInterval> bootstrap_means(const std::vector<std::vector<double>>& columns, int64_t resamples,
                                               uint64_t seed, double level) {
  if (columns.empty()) return {};
  const size_t n = columns.front().size();
  if (n == 0) fail("bootstrap: no values");
  if (!(level > 0 && level < 1)) fail("bootstrap: level must lie in (0, 1) (got {})", level);
  if (resamples < 0) fail("bootstrap: resamples must be >= 0 (got {})", resamples);
  std::vector<BootstrapInterval> out(columns.size());
  for (size_t j = 0; j < columns.size(); ++j) {
    if (columns[j].size() != n) fail("bootstrap: columns of {} and {} values", n, columns[j].size());
    double sum = 0;
    for (double v : columns[j]) {
      if (!std::isfinite(v)) fail("bootstrap: a value is not finite ({})", v);
      sum += v;
    }
    out[j].mean = out[j].low = out[j].high = sum / double(n);
    out[j].resamples = resamples;
    out[j].level = level;
  }
  if (resamples == 0) return out;
  // One index stream for all columns: std::mt19937_64 is specified exactly by the standard; the index is drawn
  // by multiply-shift from its 64-bit output (uniform_int_distribution's algorithm is implementation-defined).
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> means(columns.size(), std::vector<double>(size_t(resamples)));
  for (int64_t r = 0; r < resamples; ++r) {
    std::vector<double> sums(columns.size(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const auto k = size_t((static_cast<unsigned __int128>(rng()) * n) >> 64);
      for (size_t j = 0; j < columns.size(); ++j) sums[j] += columns[j][k];
    }
    for (size_t j = 0; j < columns.size(); ++j) means[j][size_t(r)] = sums[j] / double(n);
  }
  for (size_t j = 0; j < columns.size(); ++j) {
    std::sort(means[j].begin(), means[j].end());
    out[j].low = quantile(means[j], (1 - level) / 2);
    out[j].high = quantile(means[j], (1 + level) / 2);
  }
  return out;
}

BootstrapInterval bootstrap_mean(const std::vector<double>& values, int64_t resamples, uint64_t seed, double level) {
  if (values.empty()) fail("bootstrap: no values");
  return bootstrap_means({values}, resamples, seed, level).front();
}

}  // namespace otcs::metrics
