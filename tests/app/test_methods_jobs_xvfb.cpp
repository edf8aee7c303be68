// The Methods tab runs generation jobs in-process through the job controller translation runs use: a tiny AOT
// training started with the Train button streams its loss points into the Losses page and its progress into the
// bar, and finishes with the model and the chunk costs the Methods view reloads; a second training paused and
// stopped ends as "stopped" and leaves no model behind. Synthetic 16x16 images keep it to seconds.
#include <QtTest/QtTest>

#include <QDir>
#include <QFile>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QUndoStack>

#include "app/gui/eventtext.h"
#include "app/gui/jobcontroller.h"
#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/methodsrunner.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/workbenchapp.h"
#include "widgets/lossplot.h"
#include "widgets/methodsview.h"
#include "workbench_test_support.h"

using otcs::workbench::JobController;
using otcs::workbench::MainWindow;
using otcs::workbench::MethodsRunner;

namespace {

void putBigEndian(QByteArray& out, quint32 v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.append(char((v >> shift) & 0xff));
}

// An uncompressed idx pair: n images of side x side pixels (a bright square whose place depends on the class) and
// their labels 0..9.
bool writeIdx(const QString& images, const QString& labels, int n, int side, int seed) {
  QByteArray img, lab;
  putBigEndian(img, 0x00000803);
  putBigEndian(img, quint32(n));
  putBigEndian(img, quint32(side));
  putBigEndian(img, quint32(side));
  putBigEndian(lab, 0x00000801);
  putBigEndian(lab, quint32(n));
  quint32 state = quint32(seed) * 2654435761u + 1;
  for (int i = 0; i < n; ++i) {
    const int cls = i % 10;
    lab.append(char(cls));
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        state = state * 1664525u + 1013904223u;
        const bool inside = x / 4 == cls % 4 && y / 4 == cls / 4 % 4;
        img.append(char(inside ? 200 + int(state >> 28) : int(state >> 27)));
      }
  }
  QFile fi(images), fl(labels);
  return fi.open(QIODevice::WriteOnly) && fi.write(img) == img.size() && fl.open(QIODevice::WriteOnly) &&
         fl.write(lab) == lab.size();
}

}  // namespace

class TestMethodsJobsXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QString project_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    QCoreApplication::setOrganizationName("OTCS-test");
    QCoreApplication::setApplicationName("Workbench-test");
    otcs::workbench::initResources();
    const QString root = tmp_.filePath("gen");
    QVERIFY(QDir().mkpath(root + "/projects"));
    QVERIFY(writeIdx(root + "/projects/train-images", root + "/projects/train-labels", 160, 16, 1));
    QVERIFY(writeIdx(root + "/projects/test-images", root + "/projects/test-labels", 40, 16, 2));
    project_ = root + "/projects/gen.json";
    QFile pf(project_);
    QVERIFY(pf.open(QIODevice::WriteOnly));
    pf.write(R"({"schema_version": 1, "kind": "generation", "name": "gen",
      "data": {"train": {"images": {"format": "idx", "images": "train-images", "labels": "train-labels"}},
               "test": {"images": {"format": "idx", "images": "test-images", "labels": "test-labels"}}},
      "model": {"network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "attention_resolutions": [],
                            "groups": 4}},
      "train": {"method": "aot", "aot": 16, "steps": 12, "batch": 8, "lr_rampup": 2, "log_every": 2,
                "fd_every": 6, "fd_samples": 20, "fd_nfe": 3},
      "dpmot": {"M": 2, "source": "uniform"}})");
  }

  void init() {
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QVERIFY(window_->openProject(project_));
  }
  void cleanup() {
    window_->document()->undoStack()->setClean();
    window_.reset();
  }

  void trainButtonStreamsLossesAndProgress() {
    MethodsRunner* runner = window_->methodsRunner();
    JobController* controller = runner->controller();
    auto* train = runner->findChild<QPushButton*>("genTrain");
    auto* bar = runner->findChild<QProgressBar*>("genProgress");
    QVERIFY(train && bar && train->isEnabled());
    QVERIFY(runner->trainsWithAot());
    QSignalSpy losses(controller, &JobController::lossPoints);
    QSignalSpy progress(controller, &JobController::progress);
    QSignalSpy artifacts(controller, &JobController::artifactReady);
    QSignalSpy done(runner, &MethodsRunner::finished);
    QSignalSpy finished(controller, &JobController::finished);
    QTest::mouseClick(train, Qt::LeftButton);
    QVERIFY(runner->busy());
    QVERIFY(!train->isEnabled());  // one job at a time
    QString error;
    QVERIFY(!runner->start(MethodsRunner::Action::Compare, &error));
    QVERIFY(done.wait(60000));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>()),
             QString("completed"));
    QCOMPARE(done.first().at(0).toBool(), true);

    // Loss points of the "aot" series, every log_every = 2 steps up to step 12, on the score stage; the FD curve's
    // points ("aot fd") every fd_every = 6 steps.
    QVector<double> steps, fd_steps;
    for (const auto& args : losses) {
      const auto batch = args.at(0).value<otcs::workbench::LossBatch>();
      QVERIFY(batch.stage == otcs::session::Stage::Score);
      QVERIFY2(batch.series == "aot" || batch.series == "aot fd", qPrintable(batch.series));
      (batch.series == "aot" ? steps : fd_steps) += batch.steps;
    }
    QCOMPARE(steps, (QVector<double>{2, 4, 6, 8, 10, 12}));
    QCOMPARE(fd_steps, (QVector<double>{6, 12}));
    // The FD plot appears with the curve, reloaded from the training's fd.csv when the job ends.
    otcs::LossPlot* fd = window_->lossesPage()->fdPlot();
    QVERIFY(!fd->isHidden());
    QCOMPARE(fd->seriesCount(), 1);
    QVERIFY2(fd->seriesName(0).endsWith(" fd"), qPrintable(fd->seriesName(0)));
    QCOMPARE(fd->pointCount(0), 2);
    otcs::LossPlot* plot = window_->lossesPage()->scorePlot();
    const int id = plot->seriesId("aot");
    QVERIFY(id >= 0);
    QCOMPARE(plot->pointCount(id), 6);
    // Progress ends at the last step.
    QVERIFY(!progress.isEmpty());
    const auto last = progress.last().at(0).value<otcs::workbench::StageProgress>();
    QVERIFY(last.stage == otcs::session::Stage::Score);
    QCOMPARE(last.step, qint64(12));
    QCOMPARE(last.total, qint64(12));
    QVERIFY(last.hasLoss);
    QCOMPARE(bar->value(), bar->maximum());

    // The model and the chunk costs are there, announced, and reloaded into the Methods view (12 x 8 / 16 chunks).
    QVERIFY(QFile::exists(QDir(runner->modelDir()).filePath("model.pt")));
    QStringList kinds;
    for (const auto& args : artifacts)
      kinds << otcs::workbench::artifactKindText(args.at(0).value<otcs::session::ArtifactKind>());
    QVERIFY2(kinds.contains("model") && kinds.contains("aot_chunks"), qPrintable(kinds.join(',')));
    QCOMPARE(window_->methodsView()->aotChunks().chunk.size(), 6);
    QVERIFY(!train->isEnabled());  // a model exists: training again would overwrite it
    QVERIFY(runner->findChild<QPushButton*>("genSample")->isEnabled());
  }

  void pauseAndStopEndATrainingWithoutAModel() {
    MethodsRunner* runner = window_->methodsRunner();
    JobController* controller = runner->controller();
    // Plain EDM with many steps: paused after its first progress, then stopped.
    auto json = window_->document()->json();
    auto trainSettings = json.value("train").toObject();
    trainSettings.insert("method", "edm");
    trainSettings.insert("steps", 100000);
    window_->document()->setValue("train", trainSettings, "long EDM training");
    QVERIFY(!runner->trainsWithAot());
    QVERIFY(!runner->hasModel());
    QSignalSpy progress(controller, &JobController::progress);
    QSignalSpy finished(controller, &JobController::finished);
    QString error;
    QVERIFY2(runner->start(MethodsRunner::Action::Train, &error), qPrintable(error));
    QVERIFY(progress.wait(30000));
    runner->pause();
    QCOMPARE(controller->state(), JobController::State::Paused);
    QTest::qWait(300);
    progress.clear();
    QTest::qWait(400);
    QVERIFY(progress.isEmpty());  // a paused job does not step
    runner->stop();
    QVERIFY(finished.wait(30000));
    QCOMPARE(otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>()),
             QString("stopped"));
    QCOMPARE(controller->state(), JobController::State::Idle);
    QVERIFY(!runner->hasModel());  // nothing half-written
    QVERIFY(runner->findChild<QPushButton*>("genTrain")->isEnabled());
  }
};

QTEST_MAIN(TestMethodsJobsXvfb)
#include "test_methods_jobs_xvfb.moc"
