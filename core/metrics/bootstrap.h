#pragma once
// The percentile bootstrap of a mean (Efron & Tibshirani 1993, ch. 13): resample the n values with replacement
// `resamples` times, take each resample's mean, and report the (1 - level) / 2 and (1 + level) / 2 quantiles of
// those means. Seeded and LibTorch-free: the same values, resamples and seed give the same interval everywhere.
// Used for the per-face PSNR/SSIM of the paired image eval (resampling faces).
#include <cstdint>
#include <vector>

namespace otcs::metrics {

struct BootstrapInterval {
  double mean = 0;  // the mean of the values themselves
  double low = 0;   // lower end of the interval
  double high = 0;  // upper end
  int64_t resamples = 0;
  double level = 0.95;
};

// values: at least one; resamples >= 1 (0 gives the degenerate interval [mean, mean]). Quantiles interpolate
// linearly between order statistics (numpy's default). Non-finite values are a UserError.
BootstrapInterval bootstrap_mean(const std::vector<double>& values, int64_t resamples, uint64_t seed,
                                 double level = 0.95);

// Several columns resampled together (the same resampled rows for each): columns[j][i] is row i of column j. The
// intervals of different methods then come from the same resampled faces.
std::vector<BootstrapInterval> bootstrap_means(const std::vector<std::vector<double>>& columns, int64_t resamples,
                                               uint64_t seed, double level = 0.95);

}  // namespace otcs::metrics
