// The experiment loop in the workbench, in-process under Xvfb, on a tiny Fashion-MNIST project (Debian's
// dataset-fashion-mnist): a run with live previews (one shows up before training ends), a keypoint edit that marks
// the finished stages stale at once, a new run warm-started from the first ("Continue from this run"), both runs
// selected in the Runs view with their curves overlaid in Losses, and screenshots of the Losses, Previews and Runs
// views for the docs.
#include <QtTest/QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QTableWidget>
#include <QTabWidget>
#include <QTreeWidget>

#include "app/gui/eventtext.h"
#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/runscontroller.h"
#include "app/gui/sessioncontroller.h"
#include "app/gui/workbenchapp.h"
#include "widgets/lossplot.h"
#include "widgets/previewview.h"
#include "widgets/runsview.h"
#include "widgets/trajectoryplayer.h"
#include "workbench_test_support.h"

using namespace otcs;
using namespace otcs::workbench;

namespace {

const char* kFashion = otcs_test::kFashionMnist;

QJsonObject project() {
  const QString dir = kFashion;
  auto set = [&](QJsonArray classes, int seed) {
    return QJsonObject{{"images", QJsonObject{{"format", "idx"},
                                              {"images", dir + "/train-images-idx3-ubyte.gz"},
                                              {"labels", dir + "/train-labels-idx1-ubyte.gz"},
                                              {"classes", classes},
                                              {"limit", 240},
                                              {"limit_seed", seed}}}};
  };
  return QJsonObject{
      {"schema_version", 1},
      {"name", "garments"},
      {"description", "Three garment classes to three others, with three keypoint pairs."},
      {"data", QJsonObject{{"source", set({0, 1, 2}, 1)},
                           {"target", set({5, 7, 8}, 2)},
                           {"keypoints", QJsonObject{{"rule", "class_medoid"},
                                                     {"class_pairs", QJsonArray{QJsonArray{0, 5}, QJsonArray{1, 7},
                                                                                QJsonArray{2, 8}}}}}}},
      {"stages",
       QJsonObject{{"ot", QJsonObject{{"solver", "dense"},
                                      {"epsilon", 0.0002},
                                      {"relation", "propagation"},
                                      {"adam_steps", 40},
                                      {"iterations", 3}}},
                   {"bridge", QJsonObject{{"threshold", 0.1}, {"apply_mask", true}}},
                   {"score", QJsonObject{{"schedule", QJsonObject{{"kind", "ddpm"}, {"steps", 200}}},
                                         {"network", QJsonObject{{"kind", "unet"},
                                                                 {"channels", 8},
                                                                 {"channel_mult", QJsonArray{1, 2}},
                                                                 {"attention_resolutions", QJsonArray{}},
                                                                 {"groups", 4},
                                                                 {"cond_encoder", "conv"}}},
                                         {"steps", 120},
                                         {"batch", 16},
                                         {"log_every", 10},
                                         {"preview_every", 20},
                                         {"preview_sources", 6},
                                         {"preview_steps", 8}}},
                   {"sample", QJsonObject{{"sampler", QJsonObject{{"kind", "ddim"}, {"steps", 10}, {"clip", 1.0}}},
                                          {"trajectory_sources", 4}}},
                   {"eval", QJsonObject{{"enabled", false}}}}}};
}

QString stageStatus(MainWindow* w, const QString& stage) {
  auto* stages = w->findChild<QTreeWidget*>("stageList");
  for (int i = 0; stages && i < stages->topLevelItemCount(); ++i)
    if (stages->topLevelItem(i)->text(0) == stage) return stages->topLevelItem(i)->text(1);
  return {};
}

}  // namespace

class TestRunsXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QString shots_;

  void grab(QWidget* view, const QString& name) {
    window_->views()->setCurrentWidget(view);
    QTest::qWait(200);
    QVERIFY(window_->grab().save(QDir(shots_).filePath(name + ".png"), "PNG"));
  }

  bool runToEnd(QString* status) {
    QSignalSpy finished(window_->session(), &SessionController::finished);
    if (!finished.wait(240000) && finished.isEmpty()) return false;
    *status = otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>());
    QApplication::processEvents();
    return true;
  }

 private slots:
  void initTestCase() {
    if (!QFile::exists(QString(kFashion) + "/train-images-idx3-ubyte.gz"))
      QSKIP("Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)");
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    initResources();
    shots_ = otcs_test::outputDir("runs-views");
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1500, 950);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  void cleanupTestCase() {
    if (window_) window_->document()->undoStack()->setClean();
    window_.reset();
  }

  void previewsForkWarmStartCompare() {
    QDir(tmp_.path()).mkpath("projects");
    const QString path = tmp_.filePath("projects/garments.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(project()).toJson());
    f.close();
    QVERIFY(window_->openProject(path));
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isLoadingData(), 120000);
    QVERIFY2(window_->projectData().ok(), qPrintable(window_->projectData().error));
    // A new project's first run goes to runs/<project>/<date-time> beside projects/.
    const QString first = window_->defaultRunDir();
    QCOMPARE(QFileInfo(first).absolutePath(), QDir(tmp_.filePath("runs/garments")).absolutePath());

    // Run 1, with previews: at least one arrives while the score stage is still training.
    int early_previews = 0;
    bool score_finished = false;
    connect(window_->session(), &SessionController::stageEvent, this,
            [&](otcs::session::Stage stage, otcs::session::StageEvent::What what, const QString&) {
              if (stage == otcs::session::Stage::Score && what == otcs::session::StageEvent::What::Finished)
                score_finished = true;
            });
    connect(window_->session(), &SessionController::previewReady, this, [&](qint64, const QString& png) {
      if (!score_finished && QImage(png).width() > 0) ++early_previews;
    });
    window_->views()->setCurrentWidget(window_->previewView());
    QVERIFY(window_->startRun());
    QString status;
    QVERIFY(runToEnd(&status));
    QCOMPARE(status, QString("completed"));
    QVERIFY2(early_previews >= 1, "no preview arrived before training ended");
    QCOMPARE(window_->previewView()->previewCount(), 6);
    QCOMPARE(window_->previewView()->currentStep(), 120);
    grab(window_->previewView(), "previews");
    QCOMPARE(stageStatus(window_.get(), "score"), QString("finished"));

    // One keypoint pair changed (trouser -> bag instead of sneaker, pullover -> sneaker): the finished stages turn
    // stale the moment the edit is made.
    QJsonObject data = window_->document()->json()["data"].toObject();
    QJsonObject keypoints = data["keypoints"].toObject();
    keypoints["class_pairs"] = QJsonArray{QJsonArray{0, 5}, QJsonArray{1, 8}, QJsonArray{2, 7}};
    data["keypoints"] = keypoints;
    window_->document()->setValue("data", data, "change two class pairs");
    QTRY_VERIFY_WITH_TIMEOUT(!window_->isLoadingData(), 120000);
    QTRY_COMPARE_WITH_TIMEOUT(stageStatus(window_.get(), "ot"), QString("stale"), 10000);
    QCOMPARE(stageStatus(window_.get(), "score"), QString("stale"));

    // "Continue from this run": a new run warm-started from run 1's model.
    QVERIFY(window_->runsController()->startNewRun(first, first));
    const QString second = window_->session()->runDir();
    QVERIFY(second != first);
    QVERIFY(runToEnd(&status));
    QCOMPARE(status, QString("completed"));
    QFile done(QDir(second).filePath("score/done.json"));
    QVERIFY(done.open(QIODevice::ReadOnly));
    QVERIFY(QJsonDocument::fromJson(done.readAll()).object().contains("init_model_hash"));

    // Both runs in the Runs view; selecting both overlays their curves in Losses.
    RunsView* runs = window_->runsView();
    window_->runsController()->refresh();
    QCOMPARE(runs->runCount(), 2);
    runs->selectPaths({QDir(first).absolutePath(), QDir(second).absolutePath()});
    QApplication::processEvents();
    QCOMPARE(runs->selectedPaths().size(), 2);
    LossPlot* score = window_->lossesPage()->scorePlot();
    const QString a = QFileInfo(first).fileName(), b = QFileInfo(second).fileName();
    QVERIFY(score->seriesId(a + ": loss") >= 0 && score->seriesId(b + ": loss") >= 0);
    QVERIFY(score->pointCount(score->seriesId(a + ": loss")) > 0);
    QVERIFY(score->pointCount(score->seriesId(b + ": loss")) > 0);
    QVERIFY(window_->lossesPage()->otPlot()->seriesId(b + ": dual") >= 0);
    // The settings diff names the changed pairs (the workbench runs the rule's pairs as an explicit list) and the
    // warm start, nothing else.
    QStringList keys;
    for (int r = 0; r < runs->diffTable()->rowCount(); ++r) keys << runs->diffTable()->item(r, 0)->text();
    QVERIFY2(keys.contains("data.keypoints"), qPrintable(keys.join(", ")));
    QVERIFY2(keys.contains("stages.score.init_from"), qPrintable(keys.join(", ")));
    QCOMPARE(keys.size(), 2);
    grab(window_->lossesPage(), "runs-compare-losses");
    grab(runs, "runs");

    // Opening the first run again shows its own recorded previews and trajectories.
    runs->selectPaths({});
    window_->showRun(first);
    QCOMPARE(window_->previewView()->previewCount(), 6);
    QCOMPARE(window_->trajectoryPlayer()->trajectoryCount(), 4);
  }
};

QTEST_MAIN(TestRunsXvfb)
#include "test_runs_xvfb.moc"
