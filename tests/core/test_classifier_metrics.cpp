// The project classifier (train, save, load, features) and the distribution distances built on its features.
#include <QtTest/QtTest>

#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/metrics/classifier.h"
#include "core/metrics/distribution.h"

namespace {

// Four classes: a bright square in one quadrant of a noisy 16×16 image.
std::pair<torch::Tensor, torch::Tensor> quadrant_data(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto y = torch::randint(0, 4, {n}, gen, torch::kInt64);
  auto x = torch::randn({n, 1, 16, 16}, gen, torch::kFloat32) * 0.3 - 0.5;
  for (int64_t i = 0; i < n; ++i) {
    int64_t q = y[i].item<int64_t>(), r = (q / 2) * 8 + 1, c = (q % 2) * 8 + 1;
    x[i][0].slice(0, r, r + 6).slice(1, c, c + 6) += 1.2;
  }
  return {x.clamp(-1, 1), y};
}

}  // namespace

class TestClassifierMetrics : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void frechetMatchesClosedForm() {
    torch::manual_seed(0);
    int64_t n = 20000;
    auto a = torch::randn({n, 3}, torch::kFloat64) * torch::tensor({1.0, 2.0, 0.5}, torch::kFloat64);
    auto b = torch::randn({n, 3}, torch::kFloat64) * torch::tensor({1.5, 2.0, 0.5}, torch::kFloat64) +
             torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64);
    // |Δμ|² + Σ (σa − σb)² for diagonal covariances = 1 + 0.25.
    double fd = otcs::metrics::frechet_distance(a, b);
    QVERIFY2(std::abs(fd - 1.25) < 0.06, qPrintable(QString::number(fd)));
    QVERIFY(otcs::metrics::frechet_distance(a, a) < 1e-8);
  }

  void kidSeparatesDistributions() {
    torch::manual_seed(1);
    auto a = torch::randn({2000, 8}, torch::kFloat64), b = torch::randn({2000, 8}, torch::kFloat64);
    auto c = torch::randn({2000, 8}, torch::kFloat64) + 0.5;
    auto same = otcs::metrics::kernel_inception_distance(a, b, 10, 500, 7);
    auto diff = otcs::metrics::kernel_inception_distance(a, c, 10, 500, 7);
    QVERIFY2(std::abs(same.mean) < 3 * same.stddev + 1e-3, qPrintable(QString::number(same.mean)));
    QVERIFY(diff.mean > 10 * (std::abs(same.mean) + same.stddev));
  }

  void classifierLearnsAndRoundTrips() {
    torch::set_num_threads(2);
    auto [train_x, train_y] = quadrant_data(1200, 1);
    auto [test_x, test_y] = quadrant_data(300, 2);
    otcs::metrics::ClassifierConfig config;
    config.size = 16;
    config.classes = 4;
    config.width = 8;
    config.features = 32;
    config.epochs = 2;
    otcs::metrics::Classifier model(config);
    auto report = otcs::metrics::train_classifier(model, train_x, train_y, test_x, test_y);
    QVERIFY2(report.test_accuracy > 0.95, qPrintable(QString::number(report.test_accuracy)));
    auto features = otcs::metrics::extract_features(model, test_x);
    QCOMPARE(features.sizes().vec(), (std::vector<int64_t>{300, 32}));

    QTemporaryDir tmp;
    auto path = (tmp.path() + "/clf.pt").toStdString();
    otcs::metrics::save_classifier(path, model, report.test_accuracy);
    double stored = 0;
    auto loaded = otcs::metrics::load_classifier(path, &stored);
    QCOMPARE(stored, report.test_accuracy);
    QVERIFY(torch::allclose(otcs::metrics::predict_proba(loaded, test_x), otcs::metrics::predict_proba(model, test_x)));
    auto bytes = otcs::io::read_file(path);
    otcs::io::write_file_atomic(path + ".cut", bytes.substr(0, bytes.size() / 2));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::metrics::load_classifier(path + ".cut"));
  }

  void modeMixtureRatioCountsTwoConfidentClasses() {
    auto p = torch::tensor({{0.5, 0.45, 0.05}, {0.9, 0.05, 0.05}, {0.34, 0.33, 0.33}}, torch::kFloat64);
    QCOMPARE(otcs::metrics::mode_mixture_ratio(p, 0.4), 1.0 / 3.0);
    QCOMPARE(otcs::metrics::mode_mixture_ratio(p, 0.3), 2.0 / 3.0);
    QCOMPARE(otcs::metrics::mode_mixture_ratio(p, 0.95), 0.0);
  }
};

QTEST_GUILESS_MAIN(TestClassifierMetrics)
#include "test_classifier_metrics.moc"
