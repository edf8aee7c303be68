// The eval's confusion matrix (core/metrics/confusion.h): every input counted once in its source class's row,
// the expected cells equal to the translated-class accuracy the eval computes from the same predictions, extra
// columns for classes outside the target set, and the metrics.json form read back.
#include <QtTest/QtTest>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics/confusion.h"

using otcs::metrics::confusion_from_json;
using otcs::metrics::confusion_matrix;
using otcs::metrics::ConfusionMatrix;

class TestConfusion : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void countsEveryInputAndMatchesTheAccuracy() {
    // Three garment classes to three target classes, as projects/fashion-groups.json maps them.
    const std::vector<std::pair<int64_t, int64_t>> map = {{0, 5}, {1, 7}, {2, 8}};
    std::mt19937 gen(7);
    std::vector<int64_t> source, predicted;
    const int64_t targets[] = {5, 7, 8};
    for (int i = 0; i < 1500; ++i) {
      const int64_t cs = int64_t(gen() % 3);
      source.push_back(cs);
      predicted.push_back(gen() % 4 == 0 ? targets[gen() % 3] : targets[cs]);
    }
    const ConfusionMatrix m = confusion_matrix(map, source, predicted, {8, 5, 7, 5});
    QCOMPARE(m.rows, (std::vector<int64_t>{0, 1, 2}));
    QCOMPARE(m.columns, (std::vector<int64_t>{5, 7, 8}));
    QCOMPARE(m.expected, (std::vector<int64_t>{5, 7, 8}));
    QCOMPARE(m.total(), int64_t(1500));
    // The eval's accuracy: the share of inputs whose reading is the class their source class maps to.
    std::map<int64_t, int64_t> to_target(map.begin(), map.end());
    int64_t hits = 0;
    std::map<int64_t, std::pair<int64_t, int64_t>> per_class;  // source class -> (hits, inputs)
    for (size_t i = 0; i < source.size(); ++i) {
      const bool hit = predicted[i] == to_target[source[i]];
      hits += hit;
      per_class[source[i]].first += hit;
      ++per_class[source[i]].second;
    }
    QVERIFY(std::abs(m.accuracy() - double(hits) / 1500.0) < 1e-15);
    for (size_t r = 0; r < m.rows.size(); ++r) {
      const auto [h, n] = per_class[m.rows[r]];
      QCOMPARE(m.row_total(r), n);
      QCOMPARE(m.expected_count(r), h);
      QVERIFY(std::abs(m.row_accuracy(r) - double(h) / double(n)) < 1e-15);
    }
  }

  void leavesOutUnmappedInputsAndAddsColumnsForOtherReadings() {
    // Identity map of two digits; an input of class 3 is not in the map; one reading (9) is no target class.
    const ConfusionMatrix m = confusion_matrix({{1, 1}, {0, 0}}, {0, 0, 1, 1, 3}, {0, 9, 1, 0, 1}, {0, 1});
    QCOMPARE(m.rows, (std::vector<int64_t>{1, 0}));  // the class map's order
    QCOMPARE(m.columns, (std::vector<int64_t>{0, 1, 9}));
    QCOMPARE(m.total(), int64_t(4));
    QCOMPARE(m.counts, (std::vector<std::vector<int64_t>>{{1, 1, 0}, {1, 0, 1}}));
    QCOMPARE(m.expected_column(0), 1);
    QCOMPARE(m.accuracy(), 0.5);
    // A row whose expected class was never read and is no target class has no expected cell.
    const ConfusionMatrix n = confusion_matrix({{0, 4}}, {0, 0}, {1, 1}, {1});
    QCOMPARE(n.expected_column(0), -1);
    QCOMPARE(n.expected_count(0), int64_t(0));
    QCOMPARE(n.accuracy(), 0.0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_matrix({{0, 0}}, {0, 0}, {0}, {0}));
  }

  void roundTripsThroughJsonAndRefusesBadShapes() {
    const ConfusionMatrix m = confusion_matrix({{0, 5}, {1, 7}}, {0, 1, 1}, {5, 5, 7}, {5, 7});
    const nlohmann::json j = otcs::metrics::to_json(m);
    QCOMPARE(j["counts"].dump(), std::string("[[1,0],[1,1]]"));
    const ConfusionMatrix back = confusion_from_json(nlohmann::json::parse(j.dump()));
    QCOMPARE(back.rows, m.rows);
    QCOMPARE(back.columns, m.columns);
    QCOMPARE(back.expected, m.expected);
    QCOMPARE(back.counts, m.counts);
    nlohmann::json bad = j;
    bad["counts"][1] = {1};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_from_json(bad));
    bad = j;
    bad["expected"] = {5};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_from_json(bad));
    bad = j;
    bad["counts"][0][0] = -1;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_from_json(bad));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_from_json(nlohmann::json::array()));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, confusion_from_json(nlohmann::json{{"rows", {0}}}));
  }
};

QTEST_GUILESS_MAIN(TestConfusion)
#include "test_confusion.moc"
