// SSIM and PSNR against an independent, loop-by-loop implementation of Wang et al. (2004), and the CLI.
#include <QtTest/QtTest>

#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "core/io/npy.h"
#include "core/metrics/bootstrap.h"
#include "core/metrics/image_metrics.h"

namespace {

// Direct transcription of the definition: for every 11×11 window position inside the image, Gaussian-weighted
// means, variances and covariance (population), the SSIM formula, then the mean over positions and channels.
double reference_ssim(const torch::Tensor& a, const torch::Tensor& b, double L) {
  auto x = a.to(torch::kFloat64).contiguous(), y = b.to(torch::kFloat64).contiguous();
  int H = int(x.size(0)), W = int(x.size(1)), C = int(x.size(2));
  double w[11][11], total = 0;
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j)
      total += w[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
  for (auto& row : w)
    for (double& v : row) v /= total;
  double c1 = std::pow(0.01 * L, 2), c2 = std::pow(0.03 * L, 2), sum = 0;
  auto px = x.accessor<double, 3>(), py = y.accessor<double, 3>();
  long count = 0;
  for (int c = 0; c < C; ++c)
    for (int r = 0; r + 11 <= H; ++r)
      for (int q = 0; q + 11 <= W; ++q) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 11; ++i)
          for (int j = 0; j < 11; ++j) {
            double u = px[r + i][q + j][c], v = py[r + i][q + j][c], k = w[i][j];
            mx += k * u;
            my += k * v;
            xx += k * u * u;
            yy += k * v * v;
            xy += k * u * v;
          }
        double sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
        sum += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2));
        ++count;
      }
  return sum / double(count);
}

}  // namespace

class TestMetrics : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void bootstrapIntervalOfAMean() {
    using otcs::metrics::bootstrap_mean;
    using otcs::metrics::bootstrap_means;
    // Constant values: the interval collapses onto the mean.
    auto c = bootstrap_mean(std::vector<double>(50, 0.25), 500, 1);
    QCOMPARE(c.mean, 0.25);
    QVERIFY(std::abs(c.low - 0.25) < 1e-12 && std::abs(c.high - 0.25) < 1e-12);
    // Normal values, n = 400, sd 2: the 95 % interval is about mean ± 1.96 * 2 / 20 = ± 0.196 and contains the mean.
    torch::manual_seed(0);
    auto t = torch::randn({400}, torch::kFloat64) * 2 + 5;
    std::vector<double> v(t.data_ptr<double>(), t.data_ptr<double>() + 400);
    auto b = bootstrap_mean(v, 2000, 7);
    QVERIFY(b.low < b.mean && b.mean < b.high);
    const double half = 0.5 * (b.high - b.low), expected = 1.96 * t.std().item<double>() / 20.0;
    QVERIFY2(std::abs(half - expected) < 0.15 * expected, qPrintable(QString("half width %1").arg(half)));
    QCOMPARE(b.resamples, int64_t(2000));
    // Seeded: the same seed gives the same interval, another seed a slightly different one.
    auto again = bootstrap_mean(v, 2000, 7);
    QCOMPARE(again.low, b.low);
    QCOMPARE(again.high, b.high);
    QVERIFY(bootstrap_mean(v, 2000, 8).low != b.low);
    // Columns resampled together: a column and itself shifted by 1 get intervals shifted by exactly 1.
    std::vector<double> shifted(v);
    for (double& x : shifted) x += 1;
    auto both = bootstrap_means({v, shifted}, 2000, 7);
    QVERIFY(std::abs(both[1].low - both[0].low - 1) < 1e-9 && std::abs(both[1].high - both[0].high - 1) < 1e-9);
    QCOMPARE(both[0].low, b.low);
    // No resamples: the degenerate interval; bad input is refused.
    auto none = bootstrap_mean(v, 0, 7);
    QCOMPARE(none.low, none.mean);
    QVERIFY_THROWS_EXCEPTION(std::exception, bootstrap_mean({}, 10, 1));
    QVERIFY_THROWS_EXCEPTION(std::exception, bootstrap_mean({1.0, std::nan("")}, 10, 1));
    QVERIFY_THROWS_EXCEPTION(std::exception, bootstrap_means({{1.0, 2.0}, {1.0}}, 10, 1));
  }
  void ssimMatchesTheDefinition() {
    torch::manual_seed(3);
    for (int channels : {1, 3}) {
      auto a = torch::randint(0, 256, {37, 29, channels}, torch::kInt64).to(torch::kUInt8);
      // b: a blurred, noisy version of a, so SSIM is well inside (0, 1).
      auto b = (a.to(torch::kFloat64) * 0.7 + 40 + torch::randn({37, 29, channels}, torch::kFloat64) * 20)
                   .clamp(0, 255)
                   .round()
                   .to(torch::kUInt8);
      double ours = otcs::metrics::ssim(a, b), ref = reference_ssim(a, b, 255);
      QVERIFY2(std::abs(ours - ref) < 1e-9, qPrintable(QString("%1 vs %2").arg(ours).arg(ref)));
      QVERIFY(ours > 0.05 && ours < 0.95);
    }
  }

  void ssimOfIdenticalImagesIsOneAndSymmetric() {
    auto a = torch::randint(0, 256, {20, 20}, torch::kInt64).to(torch::kUInt8);
    auto b = torch::randint(0, 256, {20, 20}, torch::kInt64).to(torch::kUInt8);
    QCOMPARE(otcs::metrics::ssim(a, a), 1.0);
    QVERIFY(std::abs(otcs::metrics::ssim(a, b) - otcs::metrics::ssim(b, a)) < 1e-12);
  }

  void psnrKnownValue() {
    auto a = torch::zeros({8, 8}, torch::kUInt8);
    auto b = torch::full({8, 8}, 16, torch::kUInt8);  // MSE = 256 -> PSNR = 10 log10(65025 / 256)
    QVERIFY(std::abs(otcs::metrics::psnr(a, b) - 10 * std::log10(65025.0 / 256.0)) < 1e-12);
    QVERIFY(std::isinf(otcs::metrics::psnr(a, a)));
    auto batch = otcs::metrics::psnr_batch(a.view({1, 1, 8, 8}), b.view({1, 1, 8, 8}), 255);
    QVERIFY(std::abs(batch[0].item<double>() - otcs::metrics::psnr(a, b)) < 1e-12);
  }

  void cliPrintsOneNumberAndRejectsMismatch() {
    QTemporaryDir tmp;
    auto a = torch::randint(0, 256, {16, 16}, torch::kInt64).to(torch::kUInt8);
    auto b = (a.to(torch::kInt64) / 2).to(torch::kUInt8);
    otcs::io::write_npy((tmp.path() + "/a.npy").toStdString(), a);
    otcs::io::write_npy((tmp.path() + "/b.npy").toStdString(), b);
    otcs::io::write_npy((tmp.path() + "/c.npy").toStdString(), torch::zeros({4, 4}, torch::kUInt8));
    QProcess p;
    p.start(OTCS_BIN_DIR "/otcs", {"metrics", "ssim", tmp.path() + "/a.npy", tmp.path() + "/b.npy"});
    p.waitForFinished();
    QCOMPARE(p.exitCode(), 0);
    double printed = QString(p.readAllStandardOutput()).trimmed().toDouble();
    QVERIFY(std::abs(printed - otcs::metrics::ssim(a, b)) < 1e-6);
    p.start(OTCS_BIN_DIR "/otcs", {"metrics", "psnr", tmp.path() + "/a.npy", tmp.path() + "/c.npy"});
    p.waitForFinished();
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(QString(p.readAllStandardError()).contains("same size"));
  }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
