// The H heatmap: max-pooling keeps a single non-zero visible at every zoom and grid size, thresholds and sorting
// behave, diagnostics are right, and the view builds its grids off the GUI thread, hovers and inspects.
#include <QtTest/QtTest>

#include <QTableWidget>
#include <cmath>
#include <random>

#include "widgets/heatmapview.h"
#include "widgets/matrixinspector.h"
#include "widgets/sparsegrid.h"
#include "widgets/styledplot.h"

using namespace otcs;

namespace {

// Builds CSR from (row, col, value) triplets.
SparseMatrixData csr(qint64 rows, qint64 cols, std::vector<std::tuple<qint64, qint64, float>> entries) {
  std::sort(entries.begin(), entries.end());
  SparseMatrixData m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(rows + 1, 0);
  for (const auto& [r, c, v] : entries) {
    ++m.indptr[r + 1];
    m.indices.push_back(c);
    m.values.push_back(v);
  }
  for (qint64 r = 0; r < rows; ++r) m.indptr[r + 1] += m.indptr[r];
  return m;
}

int nonEmptyCells(const PooledGrid& g, float* value = nullptr, int* x = nullptr, int* y = nullptr) {
  int n = 0;
  for (int yy = 0; yy < g.height; ++yy)
    for (int xx = 0; xx < g.width; ++xx)
      if (!std::isnan(g.cell(xx, yy))) {
        ++n;
        if (value) *value = g.cell(xx, yy);
        if (x) *x = xx;
        if (y) *y = yy;
      }
  return n;
}

}  // namespace

class TestHeatmap : public QObject {
  Q_OBJECT

 private slots:
  void singleNonZeroVisibleAtAnyZoom_data() {
    QTest::addColumn<double>("c0");
    QTest::addColumn<double>("c1");
    QTest::addColumn<double>("r0");
    QTest::addColumn<double>("r1");
    QTest::addColumn<int>("w");
    QTest::addColumn<int>("h");
    QTest::newRow("whole, tiny grid") << 0.0 << 3000.0 << 0.0 << 5000.0 << 3 << 2;
    QTest::newRow("whole, 16x16") << 0.0 << 3000.0 << 0.0 << 5000.0 << 16 << 16;
    QTest::newRow("whole, odd sizes") << 0.0 << 3000.0 << 0.0 << 5000.0 << 997 << 613;
    QTest::newRow("whole, 2000") << 0.0 << 3000.0 << 0.0 << 5000.0 << 2000 << 2000;
    QTest::newRow("zoomed 100") << 2300.0 << 2400.0 << 1200.0 << 1300.0 << 800 << 600;
    QTest::newRow("one cell") << 2345.0 << 2346.0 << 1234.0 << 1235.0 << 800 << 600;
    QTest::newRow("fractional window") << 2344.6 << 2345.4 << 1233.9 << 1234.2 << 50 << 50;
    QTest::newRow("beyond the matrix") << -500.0 << 9000.0 << -100.0 << 7000.0 << 300 << 300;
  }
  void singleNonZeroVisibleAtAnyZoom() {
    QFETCH(double, c0);
    QFETCH(double, c1);
    QFETCH(double, r0);
    QFETCH(double, r1);
    QFETCH(int, w);
    QFETCH(int, h);
    const SparseMatrixData m = csr(5000, 3000, {{1234, 2345, 0.7f}});
    QVERIFY(m.valid());
    const PooledGrid g = poolMax(m, MatrixOrder::identity(5000, 3000), c0, c1, r0, r1, w, h, 0.0f);
    QVERIFY(g.width >= 1 && g.width <= w && g.height >= 1 && g.height <= h);
    float v = 0;
    int x = -1, y = -1;
    QCOMPARE(nonEmptyCells(g, &v, &x, &y), 1);
    QCOMPARE(v, 0.7f);
    QCOMPARE(g.entries, 1);
    // The cell that lights up is the one whose range contains the entry.
    const double cw = (g.colEnd - g.colBegin) / g.width, rh = (g.rowEnd - g.rowBegin) / g.height;
    QVERIFY(g.colBegin + x * cw <= 2345 && 2345 < g.colBegin + (x + 1) * cw + 1e-9);
    QVERIFY(g.rowBegin + y * rh <= 1234 && 1234 < g.rowBegin + (y + 1) * rh + 1e-9);
  }

  void windowWithoutTheEntryIsEmpty() {
    const SparseMatrixData m = csr(5000, 3000, {{1234, 2345, 0.7f}});
    const PooledGrid g = poolMax(m, MatrixOrder::identity(5000, 3000), 0, 2345, 0, 5000, 100, 100, 0.0f);
    QCOMPARE(nonEmptyCells(g), 0);
  }

  void poolingTakesTheMaximumNotTheMean() {
    const SparseMatrixData m = csr(100, 100, {{10, 10, 0.1f}, {11, 11, 0.9f}, {10, 11, 0.2f}});
    const PooledGrid g = poolMax(m, MatrixOrder::identity(100, 100), 0, 100, 0, 100, 10, 10, 0.0f);
    float v;
    QCOMPARE(nonEmptyCells(g, &v), 1);
    QCOMPARE(v, 0.9f);
    QCOMPARE(g.maxValue, 0.9f);
  }

  void thresholdHidesSmallEntries() {
    const SparseMatrixData m = csr(10, 10, {{1, 1, 0.05f}, {2, 2, 0.5f}});
    const auto order = MatrixOrder::identity(10, 10);
    QCOMPARE(nonEmptyCells(poolMax(m, order, 0, 10, 0, 10, 10, 10, 0.0f)), 2);
    QCOMPARE(nonEmptyCells(poolMax(m, order, 0, 10, 0, 10, 10, 10, 0.1f)), 1);
    QCOMPARE(nonEmptyCells(poolMax(m, order, 0, 10, 0, 10, 10, 10, 0.5f)), 0);
  }

  void sortingPermutesTheDisplay() {
    // Row argmaxes: row 0 -> col 2, row 1 -> col 0, row 2 -> col 1; row 3 empty (last).
    const SparseMatrixData m = csr(4, 3, {{0, 2, 1.0f}, {0, 0, 0.5f}, {1, 0, 2.0f}, {2, 1, 3.0f}});
    MatrixOrder o = sortedOrder(m, RowSort::ByArgmaxTarget, ColumnSort::Original);
    QCOMPARE(o.rowOrder, QVector<qint64>({1, 2, 0, 3}));
    for (qint64 k = 0; k < 4; ++k) QCOMPARE(o.rowPosition[o.rowOrder[k]], k);
    o = sortedOrder(m, RowSort::ByMass, ColumnSort::ByMass);
    QCOMPARE(o.rowOrder, QVector<qint64>({2, 1, 0, 3}));  // sums 3, 2, 1.5, 0
    QCOMPARE(o.colOrder, QVector<qint64>({1, 0, 2}));     // sums 3, 2.5, 1
    // A pooled grid under a permutation shows each entry at its display position.
    const PooledGrid g = poolMax(m, o, 0, 3, 0, 4, 3, 4, 0.0f);
    QCOMPARE(g.cell(0, 0), 3.0f);  // display (row 0, col 0) = original (2, 1)
    QCOMPARE(g.cell(1, 1), 2.0f);  // original (1, 0)
    // Argmax on both sides puts the maxima on the diagonal.
    o = sortedOrder(m, RowSort::ByArgmaxTarget, ColumnSort::ByArgmaxSource);
    const PooledGrid d = poolMax(m, o, 0, 3, 0, 4, 3, 4, 0.0f);
    QCOMPARE(d.cell(0, 0), 2.0f);
    QCOMPARE(d.cell(1, 1), 3.0f);
    QCOMPARE(d.cell(2, 2), 1.0f);
  }

  void diagnosticsAndTopK() {
    const SparseMatrixData m = csr(4, 5, {{0, 1, 1.0f}, {0, 3, 3.0f}, {2, 1, 2.0f}});
    const MatrixDiagnostics d = diagnose(m);
    QCOMPARE(d.emptyRows, 2);
    QCOMPARE(d.emptyCols, 3);
    QCOMPARE(d.rowSumMax, 4.0);
    QCOMPARE(d.rowSumMin, 0.0);
    QCOMPARE(d.colSumMax, 3.0);
    QCOMPARE(d.nnzPerRowMax, 2);
    const auto row = topInRow(m, 0, 5);
    QCOMPARE(row.size(), 2);
    QCOMPARE(row[0].first, 3);
    QCOMPARE(row[0].second, 3.0f);
    const auto col = topInColumn(m, 1, 1);
    QCOMPARE(col.size(), 1);
    QCOMPARE(col[0].first, 2);
    QCOMPARE(m.at(2, 1), 2.0f);
    QCOMPARE(m.at(2, 2), 0.0f);
  }

  void viewShowsHoversAndInspects() {
    MatrixInspector page;
    page.resize(1200, 800);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    HeatmapView* view = page.heatmap();
    QSignalSpy updated(view, &HeatmapView::gridUpdated);
    page.setMatrix(std::make_shared<SparseMatrixData>(csr(5000, 3000, {{1234, 2345, 0.7f}, {1234, 10, 0.2f}})));
    QVERIFY(updated.wait(10000));
    QTRY_VERIFY(!view->isBusy());
    QCOMPARE(nonEmptyCells(view->shownGrid()) >= 1, true);
    // Zoom far in around the entry: it is still there, now as a big cell.
    view->setWindow(2340, 2350, 1230, 1240);
    QTRY_VERIFY_WITH_TIMEOUT(!view->isBusy() && view->shownGrid().colBegin == 2340, 10000);
    float v;
    QCOMPARE(nonEmptyCells(view->shownGrid(), &v), 1);
    QCOMPARE(v, 0.7f);
    view->plot()->replot();
    const QPointF centre(view->plot()->xAxis->coordToPixel(2345.5), view->plot()->yAxis->coordToPixel(1234.5));
    view->hoverAt(centre);
    QVERIFY2(view->hoverText().startsWith("i = 1234, j = 2345, H = 0.7"), qPrintable(view->hoverText()));
    QTest::mouseClick(view->plot(), Qt::LeftButton, Qt::NoModifier, centre.toPoint());
    QCOMPARE(page.inspectedRow(), 1234);
    QCOMPARE(page.inspectedColumn(), 2345);
    QCOMPARE(page.rowTable()->rowCount(), 2);
    QCOMPARE(page.rowTable()->item(0, 0)->text(), QString("2345"));  // largest first
    QCOMPARE(page.columnTable()->rowCount(), 1);
    QCOMPARE(page.columnTable()->item(0, 0)->text(), QString("1234"));
    // The threshold hides the small entry everywhere.
    view->setThreshold(0.5);
    view->resetView();
    QTRY_VERIFY_WITH_TIMEOUT(!view->isBusy() && view->shownGrid().colEnd == 3000, 10000);
    QCOMPARE(view->shownGrid().entries, 1);
    // CSV of the visible window: the stored entries above the threshold.
    QString csv;
    QTextStream out(&csv);
    view->writeFigureCsv(out);
    out.flush();
    QCOMPARE(csv, QString("row,col,value\n1234,2345,0.69999999\n"));
  }

  void aLargeMatrixIsPooledOffTheGuiThread() {
    std::mt19937 rng(1);
    std::uniform_int_distribution<qint64> col(0, 3999);
    std::vector<std::tuple<qint64, qint64, float>> entries;
    for (qint64 r = 0; r < 4000; ++r)
      for (int k = 0; k < 100; ++k) entries.emplace_back(r, col(rng), float(k + 1) / 100);
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const auto& a, const auto& b) {
                                return std::get<0>(a) == std::get<0>(b) && std::get<1>(a) == std::get<1>(b);
                              }),
                  entries.end());
    HeatmapView view;
    view.resize(900, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    auto matrix = std::make_shared<SparseMatrixData>(csr(4000, 4000, entries));
    QElapsedTimer timer;
    timer.start();
    view.setMatrix(matrix);
    view.setSort(RowSort::ByArgmaxTarget, ColumnSort::ByMass);
    const qint64 blocked_ms = timer.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(!view.isBusy() && view.shownGrid().width > 0, 20000);
    qInfo("400k entries: GUI thread busy %lld ms in setMatrix+setSort, grid ready after %lld ms", blocked_ms,
          qint64(timer.elapsed()));
    QVERIFY(view.shownGrid().entries > 390000);
    QCOMPARE(view.order().rowOrder.size(), 4000);
  }
};

QTEST_MAIN(TestHeatmap)
#include "test_heatmap.moc"
