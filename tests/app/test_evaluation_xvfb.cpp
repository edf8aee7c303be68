// The Evaluation view in the workbench, in-process under Xvfb, on finished runs written by the test: an image
// translation run whose metrics.json holds a confusion matrix (the view shows its metrics, its heat map with the
// expected cells outlined and the counts under the mouse, and exports through File > Export figure as PNG, SVG,
// PDF and CSV), a super-resolution run (its eval/translations.npz becomes the inputs / one sample / mean / truth
// grid), and a run without an eval (the view says where an evaluation comes from).
// LibTorch before Qt's keywords exist: Qt defines `slots`, which ATen uses as an identifier.
#pragma push_macro("slots")
#undef slots
#include <torch/types.h>

#include "core/io/npy.h"
#pragma pop_macro("slots")

#include <QtTest/QtTest>

#include <QLabel>
#include <QScreen>
#include <QTabWidget>
#include <QTableWidget>

#include "app/gui/mainwindow.h"
#include "app/gui/workbenchapp.h"
#include "widgets/evaluationview.h"
#include "widgets/styledplot.h"
#include "workbench_test_support.h"

using namespace otcs;
using namespace otcs::workbench;

namespace {

void writeFile(const QString& path, const QByteArray& text) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}

// What the eval stage of projects/fashion-groups.json writes (the numbers of a real run).
const char* kTranslationMetrics = R"({
  "translated_class_accuracy": 0.7346666666666667,
  "classifier_test_accuracy": 0.986,
  "frechet_distance_classifier_features": 36.8,
  "frechet_distance_floor": 1.24,
  "kid_classifier_features": {"mean": 253.0, "std": 40.0, "subset": 1000},
  "mode_mixture_ratio": {"0.1": 0.185, "0.2": 0.125, "0.3": 0.072, "0.4": 0.034},
  "per_class": {"0": {"target_class": 5, "inputs": 500, "accuracy": 0.572},
                "1": {"target_class": 7, "inputs": 500, "accuracy": 0.752},
                "2": {"target_class": 8, "inputs": 500, "accuracy": 0.88}},
  "confusion": {"rows": [0, 1, 2], "columns": [5, 7, 8], "expected": [5, 7, 8],
                "counts": [[286, 140, 74], [60, 376, 64], [30, 30, 440]]},
  "coupling": {"class_agreement": 0.812, "nnz": 6060000},
  "test_inputs": 1500
})";

const char* kPairedMetrics = R"({
  "paired": true, "test_inputs": 12,
  "input_bicubic": {"psnr": 20.65, "psnr_std": 1.84, "ssim": 0.606, "ssim_std": 0.067},
  "one_sample": {"psnr": 19.98, "psnr_std": 1.39, "ssim": 0.6214, "ssim_std": 0.076},
  "mean_of_samples": {"psnr": 21.4, "psnr_std": 1.73, "ssim": 0.7005, "ssim_std": 0.067, "samples": 4},
  "wins_over_input": {"psnr_one_sample": 0.2, "ssim_one_sample": 0.6, "psnr_mean": 0.93, "ssim_mean": 0.98}
})";

const EvaluationMetric* findMetric(const QVector<EvaluationMetric>& rows, const QString& name) {
  for (const auto& m : rows)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace

class TestEvaluationXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    initResources();
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  void cleanupTestCase() { window_.reset(); }

  void showsTheConfusionMatrixOfAnImageRun() {
    const QString run = tmp_.filePath("garments");
    writeFile(QDir(run).filePath("metrics.json"), kTranslationMetrics);
    writeFile(QDir(run).filePath("eval/metrics.json"), kTranslationMetrics);
    window_->showRun(run);
    EvaluationView* view = window_->evaluationView();
    QVERIFY(view);
    window_->views()->setCurrentWidget(view);
    QCOMPARE(window_->views()->tabText(window_->views()->currentIndex()), QString("Evaluation"));
    QTest::qWait(100);

    // The table: accuracy, per class, Fréchet distance with its held-out floor, KID with its spread.
    const auto& rows = view->metrics();
    const EvaluationMetric* acc = findMetric(rows, "translated-class accuracy");
    QVERIFY(acc);
    QVERIFY(qFuzzyCompare(acc->value, 0.7346666666666667));
    QCOMPARE(acc->detail, QString("1500 test inputs"));
    QVERIFY(findMetric(rows, "  class 1 → 7"));
    QVERIFY(qFuzzyCompare(findMetric(rows, "  class 1 → 7")->value, 0.752));
    const EvaluationMetric* fd = findMetric(rows, "Fréchet distance (classifier features)");
    QVERIFY(fd && fd->detail.contains("1.24"));
    QVERIFY(findMetric(rows, "KID (classifier features)")->detail.contains("40"));
    QVERIFY(findMetric(rows, "H's mass on class-consistent pairs"));
    QCOMPARE(view->metricsTable()->rowCount(), rows.size());
    QCOMPARE(view->metricsTable()->item(0, 0)->text(), QString("translated-class accuracy"));

    // The heat map: three source classes against the three target classes, the diagonal expected.
    const ConfusionData& c = view->confusion();
    QCOMPARE(c.rowLabels, QStringList({"0", "1", "2"}));
    QCOMPARE(c.columnLabels, QStringList({"5", "7", "8"}));
    QCOMPARE(c.expectedColumn, QVector<int>({0, 1, 2}));
    QCOMPARE(c.count(1, 2), 64.0);
    QVERIFY(std::abs(c.accuracy() - acc->value) < 1e-12);
    QCOMPARE(view->outlinedCells(), 3);
    QVERIFY(view->confusionPlot()->isVisible());
    QVERIFY(view->confusionPlot()->width() > 200 && view->confusionPlot()->height() > 200);
    view->confusionPlot()->replot();
    const QPointF cell(view->confusionPlot()->xAxis->coordToPixel(0), view->confusionPlot()->yAxis->coordToPixel(0));
    QVERIFY2(view->hoverAt(cell).contains("286 of 500"), qPrintable(view->hoverAt(cell)));
    // The super-resolution grid is hidden for a translation run.
    QVERIFY(view->superResolution().isEmpty());

    // File > Export figure on this view: PNG, SVG, PDF and the data as CSV.
    const QString out = otcs_test::outputDir("evaluation-view");
    for (const char* suffix : {"png", "svg", "pdf", "csv"}) {
      const QString path = QDir(out).filePath(QString("evaluation.%1").arg(suffix));
      QFile::remove(path);
      QVERIFY(window_->exportFigure(path));
      QVERIFY2(QFileInfo(path).size() > 100, suffix);
    }
    QFile csv(QDir(out).filePath("evaluation.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(QString(csv.readAll()).contains("confusion,2,8,440,expected"));
    QVERIFY(window_->grab().save(QDir(out).filePath("window.png")));
  }

  void showsTheGridOfASuperResolutionRun() {
    const QString run = tmp_.filePath("faces");
    writeFile(QDir(run).filePath("metrics.json"), kPairedMetrics);
    QDir().mkpath(QDir(run).filePath("eval"));
    auto images = [](int value) { return torch::full({12, 3, 32, 32}, value, torch::kUInt8); };
    io::write_npz(QDir(run).filePath("eval/translations.npz").toStdString(), {{"sources", images(10)},
                                                                              {"translations", images(80)},
                                                                              {"mean_translations", images(150)},
                                                                              {"targets", images(220)}});
    window_->showRun(run);
    EvaluationView* view = window_->evaluationView();
    QVERIFY(view->confusion().isEmpty());
    QCOMPARE(view->superResolution().labels,
             QStringList({"input (bicubic)", "one sample", "mean of samples", "truth"}));
    QCOMPARE(view->superResolution().rows.size(), 4);
    QCOMPARE(view->superResolution().rows[0].size(), 10);  // the first ten test faces
    QCOMPARE(qRed(view->superResolution().rows[3][0].pixel(5, 5)), 220);
    const EvaluationMetric* psnr = findMetric(view->metrics(), "PSNR (dB), mean of 4 samples");
    QVERIFY(psnr);
    QVERIFY(qFuzzyCompare(psnr->value, 21.4));
    QVERIFY(psnr->detail.contains("1.73"));
    QVERIFY(findMetric(view->metrics(), "SSIM, bicubic input"));
    window_->views()->setCurrentWidget(view);
    QTest::qWait(100);
    // The grid is drawn into the room the view has: ten faces at 3x never widen the window past the screen.
    const QRect avail = window_->screen()->availableGeometry();
    QVERIFY(window_->frameGeometry().width() <= avail.width());
    QVERIFY(window_->frameGeometry().height() <= avail.height());
    QVERIFY(window_->exportFigure(QDir(otcs_test::outputDir("evaluation-view")).filePath("sr.png")));
    QVERIFY(window_->grab().save(QDir(otcs_test::outputDir("evaluation-view")).filePath("sr-window.png")));
  }

  void saysWhereAnEvaluationComesFromWithoutOne() {
    const QString run = tmp_.filePath("unfinished");
    QDir().mkpath(QDir(run).filePath("score"));
    window_->showRun(run);
    EvaluationView* view = window_->evaluationView();
    QVERIFY(view->metrics().isEmpty());
    QVERIFY(view->confusion().isEmpty());
    QVERIFY(view->findChild<QLabel*>("evaluationEmpty")->text().contains("metrics.json"));
    // A metrics.json that does not parse is reported, not shown as an empty evaluation.
    writeFile(QDir(run).filePath("metrics.json"), "{not json");
    window_->showRun(run);
    QVERIFY(view->findChild<QLabel*>("evaluationEmpty")->text().contains("metrics.json"));
    QVERIFY(view->findChild<QLabel*>("evaluationEmpty")->text().contains("could not be read"));
  }
};

QTEST_MAIN(TestEvaluationXvfb)
#include "test_evaluation_xvfb.moc"
