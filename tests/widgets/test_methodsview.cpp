// The Methods page fed with plain data: cell measures summarised against 1/N (share within ±20%), AOT chunk costs
// plotted, and both exported as one figure.
#include <QtTest/QtTest>

#include <QTemporaryDir>

#include "widgets/figureexport.h"
#include "widgets/methodsview.h"

using otcs::AotChunks;
using otcs::MethodsView;

class TestMethodsView : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void cellMeasuresSummary() {
    // 10 cells: 1/N = 0.1; 6 cells at exactly 0.1, 2 at 0.11 (within 20%), 0.05 and 0.13 (outside); sum 1.
    const QVector<double> m{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.11, 0.11, 0.05, 0.13};
    MethodsView view;
    view.setCellMeasures(m, "cell_measures.npy");
    QCOMPARE(view.cellMeasures().size(), 10);
    QCOMPARE(view.cellSummary().cells, 10);
    QVERIFY(qFuzzyCompare(view.cellSummary().target, 0.1));
    QVERIFY(qFuzzyCompare(view.cellSummary().withinShare, 0.8));
    QVERIFY(qFuzzyCompare(view.cellSummary().sum, 1.0));
    QVERIFY(view.cellSummaryText().contains("80.0%"));
  }

  void manyCellsAndOverflow() {
    QVector<double> m(400, 1.0 / 400);
    m[0] = 0.5 / 400;
    m[1] = 1.5 / 400;
    m[2] = 100.0 / 400;  // far above 4/N: counted in the last bar
    const auto s = otcs::summarizeCellMeasures(m);
    QCOMPARE(s.cells, 400);
    QVERIFY(std::abs(s.withinShare - 397.0 / 400) < 1e-12);
    MethodsView view;
    view.setCellMeasures(m, QString());
    QCOMPARE(view.cellSummary().cells, 400);
  }

  void aotChunksAndExport() {
    QTemporaryDir tmp;
    MethodsView view;
    view.resize(700, 800);
    view.setCellMeasures(QVector<double>(50, 0.02), "run/cell_measures.npy");
    AotChunks chunks;
    chunks.chunk = {0, 1, 2};
    chunks.assigned = {1.5, 1.25, 1.0};
    chunks.random = {3.0, 2.9, 3.1};
    view.setAotChunks(chunks, "run/aot_chunks.csv");
    QCOMPARE(view.aotChunks().assigned, chunks.assigned);
    QCOMPARE(view.cellSummary().withinShare, 1.0);
    QString error;
    for (const char* suffix : {"png", "pdf", "svg", "csv"}) {
      const QString out = tmp.filePath(QString("methods.%1").arg(suffix));
      otcs::FigureFormat format;
      QVERIFY(otcs::figureFormatFromPath(out, &format));
      QVERIFY2(otcs::exportFigure(view, out, format, otcs::ExportOptions{}, &error), qPrintable(error));
      QVERIFY(QFileInfo(out).size() > 100);
    }
    view.clear();
    QCOMPARE(view.cellSummary().cells, 0);
    QVERIFY(view.aotChunks().chunk.isEmpty());
  }
};

QTEST_MAIN(TestMethodsView)
#include "test_methodsview.moc"
