// The Evaluation view fed with plain data: the metrics table, the confusion heat map (row shares in the cells,
// expected cells outlined, per-row accuracy on the right axis, the tooltip's counts under the mouse), the
// super-resolution grid, and the view exported as PNG, PDF, SVG and CSV.
#include <QtTest/QtTest>

#include <QTableWidget>
#include <QTemporaryDir>
#include <qcustomplot.h>

#include "widgets/evaluationview.h"
#include "widgets/figureexport.h"
#include "widgets/styledplot.h"

using otcs::ConfusionData;
using otcs::EvaluationMetric;
using otcs::EvaluationView;
using otcs::ImageRows;

namespace {

// Three garment classes translated to sandal (5), sneaker (7) and bag (8): 500 inputs each.
ConfusionData fashionConfusion() {
  ConfusionData d;
  d.rowLabels = {"0", "1", "2"};
  d.columnLabels = {"5", "7", "8"};
  d.expectedColumn = {0, 1, 2};
  d.counts = {286, 140, 74,  //
              60,  376, 64,  //
              30,  30,  440};
  return d;
}

QImage solid(int size, int grey) {
  QImage im(size, size, QImage::Format_Grayscale8);
  im.fill(grey);
  return im;
}

}  // namespace

class TestEvaluationView : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void confusionArithmetic() {
    const ConfusionData d = fashionConfusion();
    QVERIFY(d.isValid());
    QCOMPARE(d.rowTotal(0), 500.0);
    QVERIFY(qFuzzyCompare(d.rowAccuracy(0), 0.572));
    QVERIFY(qFuzzyCompare(d.accuracy(), (286.0 + 376 + 440) / 1500));
    ConfusionData bad = d;
    bad.counts.removeLast();
    QVERIFY(!bad.isValid());
    bad = d;
    bad.expectedColumn[1] = 3;
    QVERIFY(!bad.isValid());
  }

  void showsTheTableAndTheHeatMap() {
    EvaluationView view;
    view.resize(1200, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QVector<EvaluationMetric> metrics = {{"translated-class accuracy", 0.7347, "1500 test inputs"},
                                               {"Fréchet distance (classifier features)", 36.8, ""}};
    view.setEvaluation("Evaluation of runs/fg", metrics, fashionConfusion());
    QCOMPARE(view.metricsTable()->rowCount(), 2);
    QCOMPARE(view.metricsTable()->item(0, 1)->text(), QString("0.7347"));
    QCOMPARE(view.metricsTable()->item(1, 0)->text(), QString("Fréchet distance (classifier features)"));
    QVERIFY(view.confusionPlot()->isVisible());
    QCOMPARE(view.outlinedCells(), 3);
    QCOMPARE(view.cellText(0, 0), QString("57.2%\n286"));
    QCOMPARE(view.cellText(2, 1), QString("6.0%\n30"));
    // Per-row accuracy on the right axis, the class labels on the others.
    auto* right = dynamic_cast<QCPAxisTickerText*>(view.confusionPlot()->yAxis2->ticker().data());
    QVERIFY(right);
    QCOMPARE(right->ticks().value(1), QString("75.2% (376/500)"));
    auto* bottom = dynamic_cast<QCPAxisTickerText*>(view.confusionPlot()->xAxis->ticker().data());
    QCOMPARE(bottom->ticks().value(2), QString("8"));
    QCOMPARE(view.confusionPlot()->xAxis->label(), QString("class read by the classifier"));
    QCOMPARE(view.confusionPlot()->yAxis->label(), QString("source class"));
    // Hover: the pixel of cell (row 1, column 2) names its count; row 0 is at the top.
    view.confusionPlot()->replot();
    const QPointF pixel(view.confusionPlot()->xAxis->coordToPixel(2), view.confusionPlot()->yAxis->coordToPixel(1));
    int row = -1, column = -1;
    QVERIFY(view.cellAt(pixel, &row, &column));
    QCOMPARE(row, 1);
    QCOMPARE(column, 2);
    QVERIFY(view.confusionPlot()->yAxis->coordToPixel(0) < view.confusionPlot()->yAxis->coordToPixel(2));
    const QString tip = view.hoverAt(pixel);
    QVERIFY2(tip.contains("source class 1") && tip.contains("read as 8") && tip.contains("64 of 500"), qPrintable(tip));
    QVERIFY(view.hoverAt(pixel - QPointF(2000, 0)).isEmpty());
    QVERIFY(view.hoverAt(QPointF(view.confusionPlot()->xAxis->coordToPixel(1), pixel.y())).contains("expected"));
    // The heat map: the cells carry the row shares.
    QCPColorMap* map = nullptr;
    for (int i = 0; i < view.confusionPlot()->plottableCount(); ++i)
      if ((map = qobject_cast<QCPColorMap*>(view.confusionPlot()->plottable(i)))) break;
    QVERIFY(map);
    QVERIFY(qFuzzyCompare(map->data()->cell(0, 0), 0.572));
    QVERIFY(qFuzzyCompare(map->data()->cell(2, 2), 0.88));
  }

  void invalidOrMissingConfusionShowsTheTableOnly() {
    EvaluationView view;
    ConfusionData bad = fashionConfusion();
    bad.counts.resize(4);
    view.setEvaluation("point run", {{"conditional_w2_ratio", 0.41, ""}}, bad);
    QVERIFY(view.confusion().isEmpty());
    QCOMPARE(view.outlinedCells(), 0);
    QCOMPARE(view.metricsTable()->rowCount(), 1);
    view.clear();
    QCOMPARE(view.metricsTable()->rowCount(), 0);
    QVERIFY(view.findChild<QLabel*>("evaluationEmpty")->text().contains("metrics.json"));
  }

  void superResolutionGridAndExport() {
    QTemporaryDir tmp;
    EvaluationView view;
    view.resize(1100, 760);
    ImageRows sr;
    sr.labels = {"input (bicubic)", "one sample", "mean of samples", "truth"};
    for (int r = 0; r < 4; ++r) {
      QVector<QImage> row;
      for (int i = 0; i < 5; ++i) row.push_back(solid(32, 40 * r + 10 * i));
      sr.rows.push_back(row);
    }
    view.setEvaluation("faces", {{"PSNR (dB), mean of 4 samples", 21.4, "± 1.73"}}, {}, sr);
    QCOMPARE(view.superResolution().rows.size(), 4);
    const QImage grid = view.superResolutionImage();
    QVERIFY(!grid.isNull());
    QVERIFY(grid.height() >= 4 * 96);  // 32-pixel faces drawn at 3x
    // The truth row's last face (grey 160) lies at the bottom right.
    QCOMPARE(qGray(grid.pixel(grid.width() - 10, grid.height() - 10)), 160);

    view.setEvaluation("both", {{"translated-class accuracy", 0.7347, ""}}, fashionConfusion(), sr);
    QString error;
    for (const char* suffix : {"png", "pdf", "svg", "csv"}) {
      const QString out = tmp.filePath(QString("evaluation.%1").arg(suffix));
      otcs::FigureFormat format;
      QVERIFY(otcs::figureFormatFromPath(out, &format));
      QVERIFY2(otcs::exportFigure(view, out, format, otcs::ExportOptions{}, &error), qPrintable(error));
      QVERIFY(QFileInfo(out).size() > 100);
    }
    QFile csv(tmp.filePath("evaluation.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QString text = csv.readAll();
    QVERIFY(text.contains("confusion,0,5,286,expected"));
    QVERIFY(text.contains("confusion,1,8,64,\n"));
    QVERIFY(text.contains("metric,translated-class accuracy,,0.7347,"));
    const QImage png(tmp.filePath("evaluation.png"));
    QCOMPARE(png.size(), view.figureSize() * 2);
  }
};

QTEST_MAIN(TestEvaluationView)
#include "test_evaluationview.moc"
