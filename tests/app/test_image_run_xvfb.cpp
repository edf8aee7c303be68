// Every view on a real image run, in-process under Xvfb: a few hundred 28x28 Fashion-MNIST garments (Debian's
// dataset-fashion-mnist) translated with keypoint guidance, run through the workbench's own Run path. Checks
// from the widgets' own state that the trajectory player shows a samples x steps grid of images, that the OT
// plot holds every step of the dense solve (Adam steps and sweeps), that the H inspector identifies image
// samples by index and class instead of a coordinate, and that the main window never exceeds the screen, also
// after a click on H. Then `otcs-workbench RUN_PROJECT --screenshot-views` on the finished run. ctest runs it on a
// 1600x1000 and on a 1280x800 screen.
#include <QtTest/QtTest>

#include <QProcess>
#include <QScreen>
#include <QTableWidget>
#include <QTabWidget>
#include <QTreeWidget>

#include "app/gui/coreadapter.h"
#include "app/gui/eventtext.h"
#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/sessioncontroller.h"
#include "app/gui/workbenchapp.h"
#include "widgets/heatmapview.h"
#include "widgets/lossplot.h"
#include "widgets/matrixinspector.h"
#include "widgets/styledplot.h"
#include "widgets/trajectoryplayer.h"
#include "workbench_test_support.h"

using namespace otcs;
using namespace otcs::workbench;

namespace {

const char* kFashion = otcs_test::kFashionMnist;

QByteArray imageProjectJson() {
  const QByteArray dir = kFashion;
  QByteArray json = R"({
  "schema_version": 1,
  "name": "test garments",
  "description": "Written by the image-run workbench test: 300 garments per side, three keypoint pairs.",
  "data": {
    "source": {"images": {"format": "idx", "images": "DIR/train-images-idx3-ubyte.gz",
               "labels": "DIR/train-labels-idx1-ubyte.gz", "classes": [0, 1, 2], "limit": 300, "limit_seed": 1}},
    "target": {"images": {"format": "idx", "images": "DIR/train-images-idx3-ubyte.gz",
               "labels": "DIR/train-labels-idx1-ubyte.gz", "classes": [5, 7, 8], "limit": 300, "limit_seed": 2}},
    "keypoints": {"rule": "class_medoid", "class_pairs": [[0, 5], [1, 7], [2, 8]]}
  },
  "stages": {
    "ot": {"solver": "dense", "epsilon": 0.0002, "relation": "propagation", "neighbors": 10, "adam_steps": 60,
           "lr": 0.01, "iterations": 3},
    "bridge": {"threshold": 0.1, "apply_mask": true},
    "score": {"schedule": {"kind": "ddpm", "steps": 200},
              "network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "res_blocks": 1,
                          "attention_resolutions": [], "groups": 4, "cond_encoder": "conv"},
              "steps": 40, "batch": 16, "log_every": 10, "checkpoint_every": 1000},
    "sample": {"sampler": {"kind": "ancestral", "steps": 20, "clip": 1.0}, "trajectory_sources": 4,
               "trajectory_frames": 6},
    "eval": {"enabled": false}
  }
})";
  json.replace("DIR", dir);
  return json;
}

int csvRows(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return -1;
  int rows = -1;  // the header
  while (!f.atEnd())
    if (!f.readLine().trimmed().isEmpty()) ++rows;
  return rows;
}

}  // namespace

class TestImageRunXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QString project_, run_;

  void checkFitsScreen(const char* when) {
    QApplication::processEvents();
    const QRect avail = window_->screen()->availableGeometry();
    const QRect frame = window_->frameGeometry();
    qInfo("%s: window %dx%d on an available %dx%d", when, frame.width(), frame.height(), avail.width(), avail.height());
    if (frame.width() <= avail.width() && frame.height() <= avail.height()) return;
    // Name the widgets whose minimum size forces the window past the screen.
    QStringList wide;
    for (QWidget* w : window_->findChildren<QWidget*>())
      if (w->minimumSizeHint().width() > avail.width() / 3 || w->minimumSizeHint().height() > avail.height() / 3)
        wide << QString("%1 '%2' %3x%4")
                    .arg(w->metaObject()->className(), w->objectName())
                    .arg(w->minimumSizeHint().width())
                    .arg(w->minimumSizeHint().height());
    QFAIL(qPrintable(QString("%1: the window is %2x%3 on a screen of %4x%5; minimum sizes: %6")
                         .arg(when)
                         .arg(frame.width())
                         .arg(frame.height())
                         .arg(avail.width())
                         .arg(avail.height())
                         .arg(wide.join("; "))));
  }

 private slots:
  void initTestCase() {
    if (!QFile::exists(QString(kFashion) + "/train-images-idx3-ubyte.gz"))
      QSKIP("Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)");
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    initResources();
    project_ = tmp_.filePath("garments.json");
    QFile f(project_);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(imageProjectJson());
    f.close();
    run_ = tmp_.filePath("run");
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    checkFitsScreen("opened");
  }

  void cleanupTestCase() {
    if (window_) window_->document()->undoStack()->setClean();
    window_.reset();
  }

  void runAndInspectEveryView() {
    QVERIFY(window_->openProject(project_));
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isLoadingData(), 120000);
    QVERIFY2(window_->projectData().ok(), qPrintable(window_->projectData().error));
    QVERIFY(window_->projectData().imageShape.valid());
    checkFitsScreen("project loaded");

    // Before the run, the trajectory view says where trajectories come from instead of drawing an empty plot.
    TrajectoryPlayer* player = window_->trajectoryPlayer();
    window_->views()->setCurrentWidget(player);
    QApplication::processEvents();
    QVERIFY(player->showingEmptyState());

    window_->runPanel()->setRunDir(run_);
    window_->views()->setCurrentWidget(window_->lossesPage());
    QSignalSpy finished(window_->session(), &SessionController::finished);
    QVERIFY(window_->startRun());
    QVERIFY(finished.wait(600000) || !finished.isEmpty());
    QCOMPARE(otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>()),
             QString("completed"));
    QApplication::processEvents();

    // The whole OT curve: one point per Adam step and per sweep, as in ot/dual.csv.
    const int dual_rows = csvRows(QDir(run_).filePath("ot/dual.csv"));
    QVERIFY2(dual_rows >= 61, qPrintable(QString("ot/dual.csv has %1 rows").arg(dual_rows)));
    LossPlot* ot = window_->lossesPage()->otPlot();
    const int dual = ot->seriesId("dual");
    QVERIFY(dual >= 0);
    QCOMPARE(ot->pointCount(dual), dual_rows);
    QVERIFY(csvRows(QDir(run_).filePath("ot/diagnostics.csv")) >= 6);
    checkFitsScreen("after the run");

    // Image trajectories: a samples x steps grid with every recorded frame.
    QVERIFY(QFile::exists(QDir(run_).filePath("sample/trajectories.npz")));
    window_->views()->setCurrentWidget(player);
    QApplication::processEvents();
    QVERIFY(!player->showingEmptyState());
    QVERIFY(player->showingImages());
    QCOMPARE(player->trajectoryCount(), 4);
    QCOMPARE(player->frameCount(), 6);
    QCOMPARE(player->gridRows(), 4);
    QCOMPARE(player->gridColumns(), 6);
    player->setFrame(0);
    const double first_t = player->currentFrameData()->t;
    player->stepForward();
    QCOMPARE(player->currentFrame(), 1);
    QVERIFY(player->currentFrameData()->t < first_t);
    player->setShowPrediction(true);
    QCOMPARE(player->gridRows(), 4);
    const QImage strip = player->renderStrip(6, 48);
    QCOMPARE(strip.width(), 6 * 48);
    QCOMPARE(strip.height(), 4 * 48 + 24);

    // H: a click on a non-zero cell inspects it; image samples are named by class, not by a coordinate.
    window_->views()->setCurrentWidget(window_->hInspector());
    HeatmapView* heatmap = window_->hInspector()->heatmap();
    QVERIFY(heatmap->matrix());
    QTRY_VERIFY_WITH_TIMEOUT(!heatmap->isBusy() && heatmap->shownGrid().width > 0, 20000);
    heatmap->plot()->replot();
    qint64 i = -1;
    const QPoint cell = otcs_test::firstNonZeroCell(heatmap, &i, 2);
    QVERIFY(i >= 0);
    QTest::mouseClick(heatmap->plot(), Qt::LeftButton, Qt::NoModifier, cell);
    QCOMPARE(window_->hInspector()->inspectedRow(), i);
    QTableWidget* rows = window_->hInspector()->rowTable();
    QVERIFY(rows->rowCount() > 0);
    const QString where = rows->item(0, 2)->text();
    QVERIFY2(where.startsWith("class "), qPrintable(where));
    QVERIFY2(!where.contains("-1.000"), qPrintable(where));
    checkFitsScreen("after a click on H");

    // Every view once, as a user clicking through the tabs would.
    for (int k = 0; k < window_->views()->count(); ++k) {
      window_->views()->setCurrentIndex(k);
      QTest::qWait(50);
    }
    checkFitsScreen("after every view");
  }

  // A keypoint rule and the pairs it chooses hash differently: a run made from the file by `otcs run` (the rule as
  // written) shows its stages done, not stale, and would be continued with the rule.
  void commandLineRunOfTheRuleIsNotStale() {
    const QJsonObject written = window_->document()->json();
    QVERIFY(written != window_->document()->resolvedJson());  // the rule, not the pairs
    const auto hashes = otcs::workbench::stageHashes(written, window_->document()->path());
    QVERIFY(hashes.contains("ot") && hashes.contains("eval"));
    const QDir cli(tmp_.filePath("cli-run"));
    for (auto it = hashes.begin(); it != hashes.end(); ++it) {
      QVERIFY(cli.mkpath(it.key()));
      QFile f(cli.filePath(it.key() + "/done.json"));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QString(R"({"config_hash": "%1"})").arg(it.value()).toUtf8());
    }
    QCOMPARE(window_->projectJsonFor(cli.path()), written);
    QCOMPARE(window_->projectJsonFor(run_), window_->document()->resolvedJson());  // the workbench's own run
    window_->showRun(cli.path());
    auto* stages = window_->findChild<QTreeWidget*>("stageList");
    QVERIFY(stages);
    for (int i = 0; i < stages->topLevelItemCount(); ++i)
      QVERIFY2(stages->topLevelItem(i)->text(1) == "done",
               qPrintable(stages->topLevelItem(i)->text(0) + ": " + stages->topLevelItem(i)->text(1)));
  }

  void screenshotViewsOfTheRun() {
    // The run directory holds the exact project it ran; the workbench opens it and reloads the run's artifacts.
    const QString shots = otcs_test::outputDir(QString("image-run-views-%1x%2")
                                                   .arg(QGuiApplication::primaryScreen()->size().width())
                                                   .arg(QGuiApplication::primaryScreen()->size().height()));
    QDir(shots).removeRecursively();
    const QString run_project = QDir(run_).filePath("project.json");
    QVERIFY(QFile::exists(run_project));
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(OTCS_BIN_DIR "/otcs-workbench"), {run_project, "--screenshot-views", shots});
    QVERIFY(p.waitForFinished(240000));
    const QString output = QString::fromUtf8(p.readAll());
    QVERIFY2(p.exitCode() == 0, qPrintable(output));
    const int screen_width = QGuiApplication::primaryScreen()->availableGeometry().width();
    for (const char* view : {"trajectories", "losses"}) {
      const QImage shot(QDir(shots).filePath(QString(view) + ".png"));
      QVERIFY2(!shot.isNull(), qPrintable(output));
      QVERIFY2(shot.width() <= screen_width, qPrintable(QString("%1.png is %2 px wide").arg(view).arg(shot.width())));
    }
  }
};

QTEST_MAIN(TestImageRunXvfb)
#include "test_image_run_xvfb.moc"
