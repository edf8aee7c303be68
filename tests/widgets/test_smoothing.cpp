// EMA with debiasing and the windowed mean: constants stay constant, the start is debiased, gaps pass through.
#include <QtTest/QtTest>

#include <cmath>

#include "widgets/smoothing.h"

using otcs::emaDebiased;
using otcs::windowedMean;

class TestSmoothing : public QObject {
  Q_OBJECT

 private slots:
  void emaKeepsAConstantSeriesConstant_data() {
    QTest::addColumn<double>("weight");
    for (double w : {0.0, 0.3, 0.6, 0.9, 0.99, 0.999}) QTest::newRow(qPrintable(QString::number(w))) << w;
  }
  void emaKeepsAConstantSeriesConstant() {
    QFETCH(double, weight);
    const QVector<double> constant(5000, 3.25);
    const auto s = emaDebiased(constant, weight);
    QCOMPARE(s.size(), constant.size());
    for (double v : s) QVERIFY2(std::abs(v - 3.25) < 1e-9, qPrintable(QString::number(v, 'g', 17)));
  }

  void emaDebiasesTheStart() {
    // Without debiasing the first smoothed value would be (1 - w) x_0 = 0.1; debiased it is x_0 itself.
    const QVector<double> x{1.0, 1.0, 1.0, 5.0};
    const auto s = emaDebiased(x, 0.9);
    QCOMPARE(s[0], 1.0);
    QCOMPARE(s[1], 1.0);
    // After a step the smoothed value moves towards the new level but stays between the levels.
    QVERIFY(s[3] > 1.0 && s[3] < 5.0);
    // Hand-computed: ema = 0.9^3*0 ... (debias 1 - 0.9^4 = 0.3439); numerator 0.1*(0.729+0.81+0.9)*1 + 0.1*5.
    const double expected = (0.1 * (0.729 + 0.81 + 0.9) + 0.5) / (1 - std::pow(0.9, 4));
    QVERIFY(std::abs(s[3] - expected) < 1e-12);
  }

  void emaWeightZeroIsIdentity() {
    const QVector<double> x{4, -1, 7.5, 0, 2};
    QCOMPARE(emaDebiased(x, 0.0), x);
  }

  void nonFiniteValuesAreGapsThatDoNotPoisonTheState() {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto s = emaDebiased({2.0, nan, 2.0, 2.0}, 0.8);
    QVERIFY(std::isnan(s[1]));
    QCOMPARE(s[2], 2.0);
    QCOMPARE(s[3], 2.0);
    const auto m = windowedMean({1.0, nan, 3.0}, 2);
    QVERIFY(std::isnan(m[1]));
    QCOMPARE(m[2], 2.0);
  }

  void windowedMeanIsTrailingAndFinite() {
    const QVector<double> x{1, 2, 3, 4, 5, 6};
    const auto m = windowedMean(x, 3);
    const QVector<double> expected{1, 1.5, 2, 3, 4, 5};
    QCOMPARE(m, expected);
    const auto constant = windowedMean(QVector<double>(100000, -0.7), 37);
    for (double v : constant) QVERIFY(std::abs(v + 0.7) < 1e-9);
  }

  void incrementalEqualsBatch() {
    QVector<double> x;
    for (int i = 0; i < 1000; ++i) x.push_back(std::sin(i * 0.1) + 0.01 * i);
    otcs::Smoother s(otcs::SmoothingMode::Ema, 0.95, 1);
    const auto batch = emaDebiased(x, 0.95);
    for (int i = 0; i < x.size(); ++i) QCOMPARE(s.push(x[i]), batch[i]);
  }
};

QTEST_GUILESS_MAIN(TestSmoothing)
#include "test_smoothing.moc"
